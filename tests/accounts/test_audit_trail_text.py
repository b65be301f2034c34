"""The audit trail in words (SPEC §4.10, issue 13): what each event concerns, who did it to whom, from where."""

import ast
import html
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.oath import TOTP

from accounts.actors import Actor, operator_actor
from accounts.audit_text import action_choices, sentence
from accounts.services.access_keys import issue_access_key, set_access_key_status
from accounts.services.alias import set_enterprise_alias
from accounts.services.logon import LogonChange, modify_logon_settings
from accounts.services.otp import confirm_totp_enrolment, start_totp_enrolment
from accounts.services.packets import instructions_packet, revoke_delivery_packet
from accounts.services.policies import attach_policy
from accounts.services.primary_accounts import create_primary_account
from accounts.services.ram_users import NewRamUser, create_ram_users, delete_ram_user, update_ram_user
from accounts.services.security import update_password_policy, update_security_settings
from accounts.views.audit import CSV_COLUMNS
from portal.audit import record_event
from portal.models import AuditEvent
from projects.services import add_member, create_project, update_project_settings
from tests.accounts.test_audit import read_csv
from tests.conftest import CONSOLE, OWNER_PASSWORD, make_ram_user, signed_in

REPOSITORY = Path(__file__).resolve().parents[2]
ACTION = r"(?!accounts\.)[a-z_]+\.[a-z_]+"  # "policy.attach", not a module's name


def latest(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).latest("pk")


def device_code(device) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


def trail(client: Client, query: dict | None = None):
    response = client.get(reverse("accounts:audit-trail"), query or {})
    assert response.status_code == 200
    return response


def row_html(response, action: str) -> str:
    """The trail's first row of `action`, as HTML with its entities resolved."""
    rows = re.findall(rf'<tr data-action="{re.escape(action)}">(.*?)</tr>', response.content.decode(), flags=re.S)
    assert rows, f"no {action} row on the page"
    return html.unescape(rows[0])


def text_of(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


# --- One sentence per family of actions, from events the services really wrote ---------------------
# Each case makes one change and returns its action and the sentence (a string, or a pattern for packet numbers).


def case_primary_account(owner, alice):
    create_primary_account(email="new@newco.example", password=OWNER_PASSWORD + "x", name="Newco", origin=CONSOLE)
    return "account.create", "Created the primary account “Newco” for new@newco.example"


def case_enterprise_alias(owner, alice):
    set_enterprise_alias(actor=owner.actor, otp_code=owner.code(), alias="acme-data")
    return "alias.set", "Set the enterprise alias to acme-data"


def case_ram_user_created(owner, alice):
    create_ram_users(
        actor=owner.actor,
        new_users=[NewRamUser(name="carol", display_name="Carol Jones", console_logon=True, must_bind_mfa=True)],
    )
    return "ram_user.create", re.compile(
        r"Created the RAM user “Carol Jones”: console logon enabled with a generated password; "
        r"password reset required at next logon; MFA required at next logon; sealed in packet #\d+"
    )


def case_ram_user_renamed(owner, alice):
    update_ram_user(
        actor=owner.actor,
        ram_user=alice.ram_user,
        name="alice2",
        display_name="Alice Two",
        email="",
        mobile_phone="",
        comments="",
    )
    return "ram_user.update", "Changed the user's display name, user name; renamed to alice2"


def case_ram_user_deleted(owner, alice):
    attach_policy(actor=owner.actor, ram_user=alice.ram_user, policy_name="AliyunRAMReadOnlyAccess")
    delete_ram_user(actor=owner.actor, ram_user=alice.ram_user, otp_code=owner.code())
    return "ram_user.delete", "Deleted the RAM user: detached AliyunRAMReadOnlyAccess"


def case_console_logon(owner, alice):
    modify_logon_settings(actor=owner.actor, ram_user=alice.ram_user, change=LogonChange(False))
    return "console_logon.disable", re.compile(r"Disabled console logon; the old secrets were taken out of packet #\d+")


def case_sign_in(owner, alice):
    Client().post(
        reverse("accounts:ram-sign-in", args=[owner.account.default_domain]), {"login": "alice", "password": "wrong"}
    )
    return "sign_in.failed", f"Sign-in as RAM${owner.account.account_id}:alice refused: wrong password"


def case_mfa(owner, alice):
    device = start_totp_enrolment(actor=alice.actor, user=alice.user)
    confirm_totp_enrolment(actor=alice.actor, user=alice.user, device_id=device.pk, code=device_code(device))
    return "mfa.bind", "Bound the MFA device “alice”"


def case_policy(owner, alice):
    attach_policy(actor=owner.actor, ram_user=alice.ram_user, policy_name="AliyunDataWorksFullAccess")
    return "policy.attach", "Attached the policy AliyunDataWorksFullAccess"


def case_access_key(owner, alice):
    issued = issue_access_key(actor=owner.actor, holder=alice.user, otp_code=owner.code())
    set_access_key_status(actor=owner.actor, access_key=issued.access_key, is_active=False, otp_code=owner.code())
    return "access_key.disable", f"Disabled AccessKey {issued.access_key.access_key_id}"


def case_security_settings(owner, alice):
    update_security_settings(
        actor=owner.actor, otp_code=owner.code(), values={"session_hours": 2, "logon_ip_masks": ["10.0.0.0/8"]}
    )
    return (
        "security_settings.update",
        "Changed the security settings: logon session duration (hours) 6 → 2; logon IP masks none → 10.0.0.0/8",
    )


def case_password_policy(owner, alice):
    update_password_policy(
        actor=owner.actor, otp_code=owner.code(), values={"minimum_length": 16, "require_symbols": True}
    )
    return "password_policy.update", "Changed the password policy: minimum length 12 → 16; symbols required off → on"


def case_delivery_packet(owner, alice):
    packet = instructions_packet(actor=owner.actor, ram_user=alice.ram_user)
    revoke_delivery_packet(actor=owner.actor, packet=packet)
    return "packet.revoked", f"Revoked packet #{packet.pk}"


def case_project(owner, alice):
    issue_access_key(actor=operator_actor(owner.account), holder=owner.user, otp_code=None)
    project = create_project(actor=owner.actor, name="sales_dw", description="Sales data")
    update_project_settings(actor=owner.actor, project=project, values={"is_full_table_scan_allowed": True})
    return "project.settings", "Changed the project settings: full table scan off → on"


def case_project_member(owner, alice):
    issue_access_key(actor=operator_actor(owner.account), holder=owner.user, otp_code=None)
    project = create_project(actor=owner.actor, name="sales_dw")
    add_member(actor=owner.actor, project=project, ram_user=alice.ram_user, roles=["role_project_dev"])
    return "project.member_add", "Added to project sales_dw as role_project_dev (Developer)"


CASES = {name.removeprefix("case_"): case for name, case in globals().items() if name.startswith("case_")}


@pytest.mark.parametrize("case", CASES)
def test_each_family_of_actions_reads_as_a_sentence(owner, ram_user, case):
    action, expected = CASES[case](owner, ram_user)
    said = sentence(latest(action))
    if isinstance(expected, re.Pattern):
        assert expected.fullmatch(said), said
    else:
        assert said == expected


def recorded_actions() -> set[str]:
    """Every action a `record_event(...)` call in the apps can write: the literal, both arms of a conditional,
    or the literals a function passes on to the helper that records (accounts.services.security)."""
    found = set()
    for path in [*REPOSITORY.glob("accounts/**/*.py"), *REPOSITORY.glob("projects/**/*.py")]:
        source = path.read_text()
        if "record_event(" not in source or "/migrations/" in str(path):
            continue
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(ACTION, node.value):
                found.add(node.value)
    return found


def test_every_action_the_portal_records_is_described_and_listed_in_the_filter():
    listed = {value for _, group in action_choices()[1:] for value, _ in group}
    recorded = recorded_actions()
    assert {"policy.attach", "security_settings.update", "project.member_add", "sign_in.failed"} <= recorded
    assert recorded - listed == set()


def test_an_event_of_an_older_shape_or_an_unknown_action_still_reads(owner):
    actor = owner.actor
    # Before the values were recorded, a settings change carried the new value alone.
    record_event(actor=actor, action="security_settings.update", details={"changed": {"session_hours": 2}})
    assert sentence(latest("security_settings.update")) == (
        "Changed the security settings: logon session duration (hours) set to 2"
    )
    record_event(actor=actor, action="policy.attach", details={})
    assert sentence(latest("policy.attach")) == "Policy attached"
    record_event(actor=actor, action="test.unknown", details={"items": [1, 2], "flag": True})
    assert sentence(latest("test.unknown")) == "test.unknown: flag on, items 1, 2"


# --- The trail page ---------------------------------------------------------------------------------


def test_a_policy_attachment_names_the_policy_and_links_actor_and_target(owner, ram_user, ram_admin):
    attach_policy(actor=ram_admin.actor, ram_user=ram_user.ram_user, policy_name="AliyunRAMReadOnlyAccess")
    row = row_html(trail(signed_in(owner), {"action": "policy.attach"}), "policy.attach")
    assert "Attached the policy AliyunRAMReadOnlyAccess" in text_of(row)
    admin_page = reverse("accounts:user-detail", args=[ram_admin.ram_user.pk])
    alice_page = reverse("accounts:user-detail", args=[ram_user.ram_user.pk])
    assert f'<a href="{admin_page}" title="{ram_admin.ram_user.principal}">admin</a>' in row
    assert f'<a href="{alice_page}" title="{ram_user.ram_user.principal}">alice</a>' in row
    assert "Console" in row and "127.0.0.1" in row


def test_the_owner_links_to_the_account_and_an_operator_or_a_deleted_user_to_nothing(owner, ram_user):
    delete_ram_user(actor=operator_actor(owner.account), ram_user=ram_user.ram_user, otp_code=None)
    page = trail(signed_in(owner))
    deleted = row_html(page, "ram_user.delete")
    assert f'<span title="{ram_user.ram_user.principal}">alice</span>' in deleted  # no page any more
    assert '<span title="operator">Operator</span>' in deleted
    created = row_html(page, "account.create")
    assert (
        f'<a href="{reverse("accounts:overview")}" title="{owner.account.principal} · owner@acme.example">Owner</a>'
        in (created)
    )


def test_a_security_settings_change_shows_before_and_after(owner):
    client = signed_in(owner)
    response = client.post(
        reverse("accounts:security-settings"),
        {
            "allow_change_password": "on",
            "allow_manage_mfa": "on",
            "allow_manage_access_keys": "on",
            "session_hours": "8",
            "logon_ip_masks": "",
            "otp_code": owner.code(),
        },
    )
    assert response.status_code == 302
    event = latest("security_settings.update")
    assert event.details == {
        "changed": {
            "allow_manage_access_keys": {"before": False, "after": True},
            "session_hours": {"before": 6, "after": 8},
        }
    }
    row = text_of(row_html(trail(client, {"action": "security_settings.update"}), "security_settings.update"))
    assert (
        "Changed the security settings: users may manage their AccessKeys off → on; "
        "logon session duration (hours) 6 → 8"
    ) in row


def test_a_failed_sign_in_shows_an_anonymous_actor_and_the_principal_it_tried(owner, ram_user):
    sign_in_url = reverse("accounts:ram-sign-in", args=[owner.account.default_domain])
    Client().post(sign_in_url, {"login": "ALICE", "password": "wrong"})
    event = latest("sign_in.failed")
    assert event.actor == "anonymous" and event.target == f"{owner.account.account_id}:alice"
    row = row_html(trail(signed_in(owner), {"action": "sign_in.failed"}), "sign_in.failed")
    principal = f"RAM${owner.account.account_id}:alice"
    assert text_of(row).startswith(
        f"{event.occurred_at:%Y-%m-%d %H:%M:%S} Anonymous tried {principal} Sign-in as {principal} refused"
    )
    alice_page = reverse("accounts:user-detail", args=[ram_user.ram_user.pk])
    assert f'<a href="{alice_page}" title="{principal}">alice</a>' in row  # the target: the user it tried
    # A name nobody has is tried all the same, and links nowhere.
    Client().post(sign_in_url, {"login": "nobody", "password": "wrong"})
    row = row_html(trail(signed_in(owner), {"action": "sign_in.failed"}), "sign_in.failed")
    assert f"tried RAM${owner.account.account_id}:nobody" in text_of(row)
    assert f'<span title="RAM${owner.account.account_id}:nobody">nobody</span>' in row


def test_the_actor_filter_finds_anonymous_sign_ins(owner, ram_user):
    Client().post(
        reverse("accounts:ram-sign-in", args=[owner.account.default_domain]), {"login": "alice", "password": "x"}
    )
    events = list(trail(signed_in(owner), {"actor": "anonymous"}).context["page"])
    assert [event.action for event in events] == ["sign_in.failed"]


def test_a_date_range_that_ends_before_it_starts_is_an_error_not_an_empty_table(owner):
    client = signed_in(owner)
    response = trail(client, {"since": "2026-03-02", "until": "2026-03-01"})
    form = response.context["form"]
    assert form.errors == {"until": ["The end of the range is before its start."]}
    assert "The end of the range is before its start." in response.content.decode()
    assert "Correct the filter to see the events." in response.content.decode()
    assert 'data-testid="audit-events"' not in response.content.decode()  # no table that would read "No events"
    assert list(response.context["page"]) == []
    assert read_csv(client.get(reverse("accounts:audit-export"), {"since": "2026-03-02", "until": "2026-03-01"})) == []
    # One day is a range too.
    today = AuditEvent.objects.get().occurred_at.date().isoformat()
    assert len(trail(client, {"since": today, "until": today}).context["page"]) == 1


def test_the_action_filter_is_a_list_of_the_known_actions(owner, ram_user):
    attach_policy(actor=owner.actor, ram_user=ram_user.ram_user, policy_name="AliyunRAMReadOnlyAccess")
    client = signed_in(owner)
    page = trail(client).content.decode()
    assert '<select name="action"' in page
    assert '<optgroup label="Policies">' in page and '<option value="policy.attach">Policy attached</option>' in page
    assert '<option value="project.member_add">Member added</option>' in page  # registered by the projects app
    response = trail(client, {"action": "policy.att"})  # no longer a part of a name: one of the list, or an error
    assert "action" in response.context["form"].errors and list(response.context["page"]) == []


@pytest.mark.parametrize(
    "query",
    [
        {"actor": "%_\\'\"; DROP TABLE", "target": "<script>alert(1)</script>"},
        {"actor": "名前", "target": "🚀" * 50},
        {"actor": "a\x00b"},
        {"target": "x" * 256},
        {"action": "x" * 1000},
        {"since": "2026-13-01", "until": "-1"},
        {"since": "9999-12-31", "until": "0001-01-01"},
        {"channel": "api", "page": "-1"},
        {"action": ["policy.attach", "policy.detach"], "since": ["2026-01-01", "x"]},
    ],
)
def test_nothing_typed_in_the_filter_fails(owner, query):
    client = signed_in(owner)
    # (A NUL character gets the portal's 400 page before any view: portal.middleware.)
    expected = 400 if any("\x00" in str(value) for value in query.values()) else 200
    assert client.get(reverse("accounts:audit-trail"), query).status_code == expected
    assert client.get(reverse("accounts:audit-export"), query).status_code == expected


def test_the_csv_export_carries_the_sentence_beside_the_stored_facts(owner, ram_user):
    attach_policy(actor=owner.actor, ram_user=ram_user.ram_user, policy_name="AliyunRAMReadOnlyAccess")
    [row] = read_csv(signed_in(owner).get(reverse("accounts:audit-export"), {"action": "policy.attach"}))
    assert "description" in CSV_COLUMNS
    assert row["description"] == "Attached the policy AliyunRAMReadOnlyAccess"
    assert row["actor"] == owner.account.principal and row["target"] == ram_user.ram_user.principal


def fill_trail(owner, people, total: int) -> None:
    """Events up to `total`, by and about many different people (known, unknown, anonymous, the operator)."""
    account_id = owner.account.account_id
    actors = [owner.actor, *(person.actor for person in people), operator_actor(owner.account)]
    index = 0
    while AuditEvent.objects.filter(account_id=account_id).count() < total:
        actor = actors[index % len(actors)]
        if index % 4 == 3:
            record_event(
                actor=Actor(account=owner.account, origin=CONSOLE, label="anonymous"),
                action="sign_in.failed",
                target=f"{account_id}:ghost{index}",
                details={"reason": "unknown"},
            )
        else:
            record_event(
                actor=actor,
                action="policy.attach",
                target=f"RAM${account_id}:{['alice', 'admin', 'user'][index % 3]}{index}",
                details={"policy": "AliyunRAMReadOnlyAccess"},
            )
        index += 1


def test_the_trail_runs_the_same_queries_for_5_and_50_events(owner, ram_admin, ram_user):
    client = signed_in(ram_admin)
    trail(client)  # warm up what is cached per process
    counts = []
    for total in (5, 50):
        fill_trail(owner, [ram_admin, ram_user], total)
        with CaptureQueriesContext(connection) as queries:
            response = trail(client)
        assert len(response.context["rows"]) == total
        counts.append(len(queries))
    assert counts[0] == counts[1], f"{counts[0]} queries for 5 events, {counts[1]} for 50"
    page = response.content.decode()
    assert "Attached the policy AliyunRAMReadOnlyAccess" in page and "Anonymous" in page


# --- The user page's audit card ---------------------------------------------------------------------


def test_the_user_page_card_uses_the_same_sentences_and_shortens_long_names(owner):
    long_name = "n" * 64
    person = make_ram_user(owner, long_name)
    attach_policy(actor=owner.actor, ram_user=person.ram_user, policy_name="AliyunRAMReadOnlyAccess")
    response = signed_in(owner).get(reverse("accounts:user-detail", args=[person.ram_user.pk]))
    assert response.status_code == 200
    card = html.unescape(response.content.decode().split('data-testid="audit-events"')[1].split("</table>")[0])
    assert "Attached the policy AliyunRAMReadOnlyAccess" in card
    assert "Created the RAM user “Nnnn" in card
    # The 64-character name is shortened, the full principal on hover; no column carries it at full length.
    assert f'title="RAM${owner.account.account_id}:{long_name}"' in card
    assert f">{long_name}<" not in card and ">" + "n" * 31 + "…<" in card
