"""Every change writes exactly one audit event; the trail is append-only, filterable, exportable and secret-free."""

import csv
import io
import json
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.urls import reverse
from django_otp.oath import TOTP

from accounts.actors import Actor, operator_actor
from accounts.models import Authenticator, RamUser
from accounts.services.logon import LogonChange, change_own_password, modify_logon_settings, sign_out_everywhere
from accounts.services.otp import confirm_totp_enrolment, regenerate_backup_codes, start_totp_enrolment, verify_otp
from accounts.services.policies import attach_policy, detach_policy
from accounts.services.primary_accounts import create_primary_account
from accounts.services.ram_users import NewRamUser, create_ram_users, delete_ram_user, update_ram_user
from accounts.services.security import update_password_policy, update_security_settings
from accounts.views.audit import CSV_COLUMNS
from portal.audit import record_event
from portal.models import AuditEvent
from tests.accounts.test_smoke_pages import heading_and_text
from tests.conftest import CONSOLE, OWNER_PASSWORD, RAM_PASSWORD, Person, make_ram_user, signed_in
from tests.db_state import last_event_id

NEW_PASSWORD = "Saffron-Glacier-Pillow-7719"


@dataclass(frozen=True)
class Expected:
    action: str
    actor: str
    target: str
    channel: str = "console"


def ram_principal(person: Person, name: str) -> str:
    return f"RAM${person.account.account_id}:{name}"


def device_code(device: Authenticator) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


# Each case performs one change through its service and returns the events it must have written.


def case_create_primary_account(owner, alice):
    account = create_primary_account(email="new@newco.example", password=NEW_PASSWORD, name="Newco", origin=CONSOLE)
    return [Expected("account.create", account.principal, account.principal)]


def case_create_ram_users(owner, alice):
    names = ["carol", "dave", "erin"]
    create_ram_users(
        actor=owner.actor,
        new_users=[NewRamUser(name=name, display_name=name.title(), console_logon=name == "dave") for name in names],
    )
    return [Expected("ram_user.create", owner.account.principal, ram_principal(owner, name)) for name in names]


def case_create_ram_users_by_operator(owner, alice):
    create_ram_users(actor=operator_actor(owner.account), new_users=[NewRamUser(name="ops", display_name="Ops")])
    return [Expected("ram_user.create", "operator", ram_principal(owner, "ops"), channel="command")]


def case_update_ram_user(owner, alice):
    update_ram_user(
        actor=owner.actor,
        ram_user=alice.ram_user,
        name="alice2",
        display_name="Alice Two",
        email="alice@acme.example",
        mobile_phone="",
        comments="",
    )
    # The target is the principal the user had: the trail names what was changed.
    return [Expected("ram_user.update", owner.account.principal, ram_principal(owner, "alice"))]


def case_delete_ram_user(owner, alice):
    delete_ram_user(actor=owner.actor, ram_user=alice.ram_user, otp_code=owner.code())
    return [Expected("ram_user.delete", owner.account.principal, ram_principal(owner, "alice"))]


def case_enable_console_logon(owner, alice):
    bob = make_ram_user(owner, "bob", console_logon=False)
    start = last_event_id()
    modify_logon_settings(actor=owner.actor, ram_user=bob.ram_user, change=LogonChange(True, generate_password=True))
    return start, [Expected("console_logon.enable", owner.account.principal, ram_principal(owner, "bob"))]


def case_disable_console_logon(owner, alice):
    modify_logon_settings(actor=owner.actor, ram_user=alice.ram_user, change=LogonChange(False))
    return [Expected("console_logon.disable", owner.account.principal, ram_principal(owner, "alice"))]


def case_update_console_logon(owner, alice):
    change = LogonChange(True, new_password=NEW_PASSWORD, must_reset_password=True)
    modify_logon_settings(actor=owner.actor, ram_user=alice.ram_user, change=change)
    return [Expected("console_logon.update", owner.account.principal, ram_principal(owner, "alice"))]


def case_change_own_password_ram_user(owner, alice):
    change_own_password(actor=alice.actor, current_password=RAM_PASSWORD, new_password=NEW_PASSWORD)
    return [Expected("password.change", alice.ram_user.principal, alice.ram_user.logon_name)]


def case_change_own_password_owner(owner, alice):
    change_own_password(actor=owner.actor, current_password=OWNER_PASSWORD, new_password=NEW_PASSWORD)
    return [Expected("password.change", owner.account.principal, owner.user.email)]


def case_attach_policy(owner, alice):
    attach_policy(actor=owner.actor, ram_user=alice.ram_user, policy_name="AliyunRAMReadOnlyAccess")
    return [Expected("policy.attach", owner.account.principal, ram_principal(owner, "alice"))]


def case_detach_policy(owner, alice):
    attach_policy(actor=owner.actor, ram_user=alice.ram_user, policy_name="AliyunRAMReadOnlyAccess")
    start = last_event_id()
    detach_policy(actor=owner.actor, ram_user=alice.ram_user, policy_name="AliyunRAMReadOnlyAccess")
    return start, [Expected("policy.detach", owner.account.principal, ram_principal(owner, "alice"))]


def case_update_security_settings(owner, alice):
    update_security_settings(
        actor=owner.actor, otp_code=owner.code(), values={"session_hours": 2, "logon_ip_masks": ["10.0.0.0/8"]}
    )
    return [Expected("security_settings.update", owner.account.principal, owner.account.principal)]


def case_update_password_policy(owner, alice):
    update_password_policy(actor=owner.actor, otp_code=owner.code(), values={"minimum_length": 16})
    return [Expected("password_policy.update", owner.account.principal, owner.account.principal)]


def case_confirm_totp_enrolment_ram_user(owner, alice):
    device = start_totp_enrolment(actor=alice.actor, user=alice.user)
    confirm_totp_enrolment(actor=alice.actor, user=alice.user, device_id=device.pk, code=device_code(device))
    return [
        Expected("mfa.seed_shown", alice.ram_user.principal, alice.ram_user.logon_name),
        Expected("mfa.bind", alice.ram_user.principal, alice.ram_user.logon_name),
    ]


def case_confirm_totp_enrolment_owner(owner, alice):
    device = start_totp_enrolment(actor=owner.actor, user=owner.user)
    codes = confirm_totp_enrolment(actor=owner.actor, user=owner.user, device_id=device.pk, code=device_code(device))
    assert len(codes) == 10
    return [
        Expected("mfa.seed_shown", owner.account.principal, owner.user.email),
        Expected("mfa.bind", owner.account.principal, owner.user.email),
    ]


def case_regenerate_backup_codes(owner, alice):
    regenerate_backup_codes(actor=owner.actor, otp_code=owner.code())
    return [Expected("mfa.backup_codes_regenerated", owner.account.principal, owner.user.email)]


def case_sign_out_everywhere(owner, alice):
    sign_out_everywhere(actor=alice.actor)
    return [Expected("sign_out.everywhere", alice.ram_user.principal, alice.ram_user.logon_name)]


def case_successful_otp_check_writes_nothing(owner, alice):
    assert verify_otp(user=owner.user, code=owner.code(), origin=CONSOLE) is not None
    return []


def case_failed_otp_check(owner, alice):
    assert verify_otp(user=owner.user, code="abcde-fghjk", origin=CONSOLE) is None
    return [Expected("otp.failed", owner.account.principal, owner.user.email)]


def case_failed_enrolment(owner, alice):
    device = start_totp_enrolment(actor=alice.actor, user=alice.user)
    wrong = "000000" if device_code(device) != "000000" else "111111"
    with pytest.raises(Exception, match="does not match"):
        confirm_totp_enrolment(actor=alice.actor, user=alice.user, device_id=device.pk, code=wrong)
    return [
        Expected("mfa.seed_shown", alice.ram_user.principal, alice.ram_user.logon_name),
        Expected("mfa.failed", alice.ram_user.principal, alice.ram_user.logon_name),
    ]


CASES = {name.removeprefix("case_"): case for name, case in globals().items() if name.startswith("case_")}


@pytest.mark.parametrize("case", CASES)
def test_every_change_writes_exactly_one_audit_event(owner, ram_user, case):
    start = last_event_id()
    count_before = AuditEvent.objects.count()
    result = CASES[case](owner, ram_user)
    if isinstance(result, tuple):  # the case set something up first and says where its change began
        start, result = result
        count_before = AuditEvent.objects.filter(pk__lte=start).count()
    assert AuditEvent.objects.count() - count_before == len(result)
    events = list(AuditEvent.objects.filter(pk__gt=start).order_by("pk"))
    assert [Expected(e.action, e.actor, e.target, e.channel) for e in events] == result
    for event in events:
        assert event.account_id == (
            owner.account.account_id if case != "create_primary_account" else event.target.removeprefix("ALIYUN$")
        )
        if event.channel == "console":
            assert event.source_ip == CONSOLE.source_ip
            assert event.request_id == CONSOLE.request_id


def test_a_refused_change_writes_no_event_and_changes_nothing(owner, ram_user):
    bob = make_ram_user(owner, "bob")
    start = last_event_id()
    with pytest.raises(Exception, match="already exists"):
        update_ram_user(
            actor=owner.actor,
            ram_user=ram_user.ram_user,
            name="BOB",
            display_name="Alice",
            email="",
            mobile_phone="",
            comments="",
        )
    assert last_event_id() == start
    assert RamUser.objects.get(pk=ram_user.ram_user.pk).name == "alice"
    assert RamUser.objects.get(pk=bob.ram_user.pk).name == "bob"


def test_web_console_events_carry_the_request_id_and_source_address(owner, ram_user):
    client = signed_in(owner)
    client.defaults["REMOTE_ADDR"] = "198.51.100.7"
    response = client.post(
        reverse("accounts:attach-policy", args=[ram_user.ram_user.pk]), {"policy_name": "AliyunRAMReadOnlyAccess"}
    )
    event = AuditEvent.objects.get(action="policy.attach")
    assert event.request_id == response["X-Request-Id"]
    assert event.source_ip == "198.51.100.7"
    assert event.channel == "console"
    assert event.actor == owner.account.principal
    assert event.details == {"policy": "AliyunRAMReadOnlyAccess"}


# --- Append-only ------------------------------------------------------------------------------------


def test_audit_events_are_append_only(owner):
    event = AuditEvent.objects.get(action="account.create")
    event.action = "account.forged"
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).update(action="account.forged")
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.all().delete()
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).delete()
    # bulk_update runs in a transaction of its own, so its failure is kept inside one here.
    with pytest.raises(TypeError, match="append-only"), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["action"])
    assert AuditEvent.objects.get(pk=event.pk).action == "account.create"
    assert AuditEvent.objects.count() == 1


def test_audit_details_refuse_secret_keys(owner):
    actor = Actor(account=owner.account, origin=CONSOLE, user=owner.user)
    for key in ("password", "new_password", "access_key_secret", "otp_code", "codes", "seed", "token"):
        with pytest.raises(ValueError, match="must not carry"):
            record_event(actor=actor, action="test.secret", details={key: "hunter2"})
    assert not AuditEvent.objects.filter(action="test.secret").exists()


# --- The audit trail page and its CSV export --------------------------------------------------------


@pytest.fixture
def busy_trail(owner, ram_user, ram_admin, other_owner, other_ram_user):
    """Events by the owner and a RAM admin in this account, and some in another account."""
    attach_policy(actor=owner.actor, ram_user=ram_user.ram_user, policy_name="AliyunRAMReadOnlyAccess")
    attach_policy(actor=ram_admin.actor, ram_user=ram_user.ram_user, policy_name="AliyunDataWorksFullAccess")
    detach_policy(actor=ram_admin.actor, ram_user=ram_user.ram_user, policy_name="AliyunDataWorksFullAccess")
    attach_policy(actor=other_owner.actor, ram_user=other_ram_user.ram_user, policy_name="AliyunRAMReadOnlyAccess")
    return owner


def test_audit_trail_filters_by_action(busy_trail, ram_admin):
    owner = busy_trail
    page = signed_in(owner).get(reverse("accounts:audit-trail"), {"action": "policy.attach"}).context["page"]
    events = list(page)
    assert len(events) == 3  # two by the owner (one for the admin's own policy), one by the admin
    assert {event.action for event in events} == {"policy.attach"}
    assert {event.account_id for event in events} == {owner.account.account_id}


def test_audit_trail_filters_by_actor(busy_trail, ram_admin):
    owner = busy_trail
    response = signed_in(owner).get(reverse("accounts:audit-trail"), {"actor": ram_admin.ram_user.principal})
    events = list(response.context["page"])
    assert [event.action for event in events] == ["policy.detach", "policy.attach"]
    assert {event.actor for event in events} == {ram_admin.ram_user.principal}
    assert "policy.detach" in response.content.decode()


def test_audit_trail_never_shows_another_accounts_events(busy_trail, other_owner, other_ram_user):
    owner = busy_trail
    client = signed_in(owner)
    page = client.get(reverse("accounts:audit-trail"))
    assert (
        page.context["page"].paginator.count == AuditEvent.objects.filter(account_id=owner.account.account_id).count()
    )
    assert all(event.account_id == owner.account.account_id for event in page.context["page"])
    html = page.content.decode()
    assert other_owner.account.account_id not in html and "mallory" not in html
    # Not even when asked for by name.
    foreign = client.get(reverse("accounts:audit-trail"), {"actor": other_owner.account.principal})
    assert list(foreign.context["page"]) == []
    export = b"".join(client.get(reverse("accounts:audit-export")).streaming_content).decode()
    assert other_owner.account.account_id not in export and "mallory" not in export


def read_csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    return [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]]


def test_csv_export_returns_the_filtered_rows(busy_trail, ram_admin):
    owner = busy_trail
    client = signed_in(owner)
    rows = read_csv(client.get(reverse("accounts:audit-export")))
    expected = AuditEvent.objects.filter(account_id=owner.account.account_id)
    assert [row["action"] for row in rows] == list(expected.values_list("action", flat=True))
    assert [row["request_id"] for row in rows] == list(expected.values_list("request_id", flat=True))
    filtered = read_csv(client.get(reverse("accounts:audit-export"), {"action": "policy.detach"}))
    assert len(filtered) == 1
    assert filtered[0]["actor"] == ram_admin.ram_user.principal
    assert filtered[0]["target"] == f"RAM${owner.account.account_id}:alice"
    assert filtered[0]["channel"] == "console"
    assert filtered[0]["source_ip"] == "127.0.0.1"


def test_csv_details_are_json(busy_trail):
    rows = read_csv(signed_in(busy_trail).get(reverse("accounts:audit-export"), {"action": "policy.detach"}))
    assert json.loads(rows[0]["details"]) == {"policy": "AliyunDataWorksFullAccess"}


def test_an_invalid_filter_shows_and_exports_nothing(busy_trail):
    client = signed_in(busy_trail)
    page = client.get(reverse("accounts:audit-trail"), {"since": "not-a-date"})
    assert page.status_code == 200
    assert "Enter a valid date." in page.content.decode()
    assert list(page.context["page"]) == []
    assert read_csv(client.get(reverse("accounts:audit-export"), {"since": "not-a-date"})) == []


def test_csv_export_defuses_spreadsheet_formulas(owner):
    actor = Actor(account=owner.account, origin=CONSOLE, user=owner.user)
    for target in ('=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)"):
        record_event(actor=actor, action="test.formula", target=target)
    # (No filter: the action filter lists only the actions the portal records.)
    rows = [
        row
        for row in read_csv(signed_in(owner).get(reverse("accounts:audit-export")))
        if row["action"] == "test.formula"
    ]
    assert sorted(row["target"] for row in rows) == sorted(
        ['\'=HYPERLINK("http://evil.example","x")', "'+1+1", "'-2+3", "'@SUM(A1)"]
    )
    for row in rows:
        assert row["target"][0] == "'"


def test_ram_administrators_read_the_trail_and_plain_users_do_not(busy_trail, ram_admin, ram_reader):
    for person in (ram_admin, ram_reader):
        heading, page = heading_and_text(signed_in(person).get(reverse("accounts:audit-trail")))
        assert heading == "Audit trail"
        assert "policy.detach" in page and ram_admin.ram_user.principal in page  # the admin's detach in busy_trail
        rows = read_csv(signed_in(person).get(reverse("accounts:audit-export")))
        assert ("policy.detach", ram_admin.ram_user.principal) in {(row["action"], row["actor"]) for row in rows}
    plain = make_ram_user(busy_trail, "bob")
    assert signed_in(plain).get(reverse("accounts:audit-trail")).status_code == 403
    assert signed_in(plain).get(reverse("accounts:audit-export")).status_code == 403


# --- No secret in any event -------------------------------------------------------------------------


def test_no_secret_ever_reaches_the_audit_trail(owner, ram_user, settings):
    secrets = {OWNER_PASSWORD, RAM_PASSWORD}
    codes = set()
    settings.PORTAL_SELF_SIGN_UP = True
    client = signed_in(owner)
    # Sign-up, and a failed sign-in that carries a password.
    signup_password = "Quartz-Lantern-Meadow-4410"
    secrets.add(signup_password)
    create_primary_account(email="second@newco.example", password=signup_password, name="Newco", origin=CONSOLE)
    client.post(reverse("accounts:owner-sign-in"), {"email": owner.user.email, "password": "Typo-" + OWNER_PASSWORD})
    secrets.add("Typo-" + OWNER_PASSWORD)
    # Users created with typed and generated passwords.
    typed = "Copper-Harbor-Window-2290"
    secrets.add(typed)
    created = create_ram_users(
        actor=owner.actor,
        new_users=[
            NewRamUser(name="carol", display_name="Carol", console_logon=True, password=typed),
            NewRamUser(name="dave", display_name="Dave", console_logon=True),
        ],
    )
    secrets.update(c.generated_password for c in created if c.generated_password)
    # Logon settings with a typed and a generated password.
    secrets.add(NEW_PASSWORD)
    modify_logon_settings(actor=owner.actor, ram_user=ram_user.ram_user, change=LogonChange(True, NEW_PASSWORD))
    generated = modify_logon_settings(
        actor=owner.actor, ram_user=created[0].ram_user, change=LogonChange(True, generate_password=True)
    ).generated_password
    secrets.add(generated)
    # Own password change, enrolment, backup codes, a wrong code.
    own = "Marble-Falcon-Ribbon-6603"
    secrets.add(own)
    ram_user.user.refresh_from_db()
    change_own_password(actor=ram_user.actor, current_password=NEW_PASSWORD, new_password=own)
    device = start_totp_enrolment(actor=ram_user.actor, user=ram_user.user)
    codes.add(device_code(device))
    confirm_totp_enrolment(actor=ram_user.actor, user=ram_user.user, device_id=device.pk, code=device_code(device))
    code = owner.code()
    codes.add(code)
    backup_codes = regenerate_backup_codes(actor=owner.actor, otp_code=code)
    secrets.update(backup_codes)
    verify_otp(user=owner.user, code=backup_codes[0][::-1], origin=CONSOLE)
    secrets.add(backup_codes[0][::-1])
    secrets.add(device.key)

    assert len(secrets) >= 12 and all(secrets)
    events = list(AuditEvent.objects.all())
    assert {"account.create", "sign_in.failed", "ram_user.create", "console_logon.update", "password.change"} <= {
        event.action for event in events
    }
    for event in events:
        row = json.dumps([event.actor, event.action, event.target, event.details, event.request_id])
        for secret in secrets:
            assert secret not in row, f"a secret reached the {event.action} event"
        details = json.dumps(event.details)
        for code in codes:
            assert code not in details, f"a TOTP code reached the {event.action} event's details"
