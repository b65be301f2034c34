"""MaxCompute security commands through pyodps, pointed at the live server and signing with AccessKeys issued here:
the seed's own session, the permission matrix on the api channel, show grants against check_permission, refused
signatures and parse errors."""

import time
from email.utils import formatdate

import pytest
import requests
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from odps import ODPS, errors
from odps import options as odps_options
from odps.accounts import CloudAccount

from accounts.actors import Actor, operator_actor
from accounts.models import AccessKey, RamUser
from accounts.services.access_keys import issue_access_key, set_access_key_status
from accounts.services.groups import add_to_group, create_group
from accounts.services.ram_users import delete_ram_user
from portal.audit import Origin
from portal.models import AuditEvent
from projects.matrix import MATRIX, MATRIX_INDEX, Channel, Role
from projects.models import ProjectMember, RoleGrant
from projects.odps_commands import COMMAND_RULES, Readers
from projects.permissions import check_permission, roles_in
from projects.services import add_member, create_project, grant_group_roles, remove_member, revoke_roles
from tests.conftest import make_owner, make_ram_user, signed_in
from tests.db_state import database_state, last_event_id

ALL_SIX = [role.value for role in Role]
# The seed's note, word for word (its account is called MainCount).
SEED_REVOKE = (
    "revoke role_project_security, role_project_admin, role_project_dev, role_project_pe, role_project_deploy, "
    "role_project_guest from RAM$MainCount:hanmeimei;"
)


@pytest.fixture(autouse=True)
def _transactional(transactional_db):
    """The live server runs in another thread: it sees committed data only."""


def issue_key(person) -> tuple[str, str]:
    issued = issue_access_key(actor=operator_actor(person.account), holder=person.user, otp_code=None)
    return issued.access_key.access_key_id, issued.secret


def endpoint(live_server) -> str:
    return f"{live_server.url}/api"


def odps_of(live_server, key: tuple[str, str], project: str, **options) -> ODPS:
    return ODPS(*key, project=project, endpoint=endpoint(live_server), **options)


def everything() -> dict:
    """The database as these tests see it, with the keys' last use: a refused request leaves no trace."""
    return database_state(with_request_records=True)


@pytest.fixture
def main_count(live_server):
    """The seed's account: MainCount, its owner's key (which project creation needs too) and project."""
    owner = make_owner("owner@maincount.example", "MainCount")
    key = issue_key(owner)
    project = create_project(actor=owner.actor, name="MaxCompute_DOC")
    return owner, key, project


@pytest.fixture
def hanmeimei(main_count):
    owner, _, project = main_count
    person = make_ram_user(owner, "hanmeimei")
    add_member(actor=owner.actor, project=project, ram_user=person.ram_user, roles=ALL_SIX)
    return person


def test_the_seeds_own_session_succeeds_and_leaves_no_membership(live_server, main_count, hanmeimei):
    owner, key, project = main_count
    o = odps_of(live_server, key, "MaxCompute_DOC")
    principal = hanmeimei.ram_user.principal
    since = last_event_id()

    assert o.run_security_query("list users;") == {"Users": [owner.account.principal, principal]}
    assert o.run_security_query(SEED_REVOKE) == {"Result": "OK", "Principal": principal, "Revoked": sorted(ALL_SIX)}
    assert o.run_security_query("remove user RAM$MainCount:hanmeimei;") == {"Result": "OK", "Removed": principal}

    assert o.run_security_query("list users") == {"Users": [owner.account.principal]}
    assert not ProjectMember.objects.exists() and not RoleGrant.objects.exists()
    events = AuditEvent.objects.filter(pk__gt=since).order_by("pk")
    assert [(event.action, event.channel, event.actor, event.target) for event in events] == [
        ("project.role_revoke", "api", owner.account.principal, principal),
        ("project.member_remove", "api", owner.account.principal, principal),
    ]
    assert events[0].details == {"project": project.name, "roles": sorted(ALL_SIX)}
    assert all(event.source_ip == "127.0.0.1" and event.request_id for event in events)
    # The seed's "p4_…" orphan cannot arise: the user is free to be deleted now.
    delete_ram_user(actor=operator_actor(owner.account), ram_user=hanmeimei.ram_user, otp_code=None)
    assert not RamUser.objects.filter(name="hanmeimei").exists()


def test_remove_user_before_the_revoke_fails_with_a_clear_message(live_server, main_count, hanmeimei):
    _, key, _ = main_count
    before = database_state()  # (the key's "last used" moves: the request was signed right)
    with pytest.raises(errors.InvalidParameter) as refused:
        odps_of(live_server, key, "MaxCompute_DOC").run_security_query("remove user RAM$MainCount:hanmeimei;")
    message = str(refused.value)
    assert f"Revoke the roles of {hanmeimei.ram_user.principal}" in message
    assert "role_project_admin" in message and "before removing it from MaxCompute_DOC" in message
    assert RoleGrant.objects.count() == 6
    assert database_state() == before


def test_the_seeds_p4_name_is_a_parse_error_not_a_user(live_server, main_count):
    _, key, _ = main_count
    with pytest.raises(errors.ParseError, match=r"\[1,13\] expected a principal"):
        odps_of(live_server, key, "MaxCompute_DOC").run_security_query("remove user p4_2652900xxxxxxxxxx;")


@pytest.mark.parametrize(
    ("query", "where", "expected"),
    [
        ("grant role_project_dev from RAM$MainCount:alice", "[1,24]", 'expected "," or "to", found "from"'),
        ("list user", "[1,6]", 'expected "users" or "roles", found "user"'),
        (
            "revoke role_project_dev,\n  from RAM$MainCount:alice",
            "[2,3]",
            'expected a role name (e.g. role_project_dev), found "from"',
        ),
        ("show grants for", "[1,16]", "expected a principal (ALIYUN$<account> or RAM$<account>:<user>), found the end"),
        ("whoami; list users", "[1,9]", 'expected the end of the command (one command per request; ";" is optional)'),
        ("drop table sales", "[1,1]", 'expected one of "whoami", "list", "add", "remove", "grant", "revoke", "show"'),
    ],
)
def test_a_malformed_command_gets_a_parse_error_saying_where(live_server, main_count, query, where, expected):
    _, key, _ = main_count
    before = database_state()
    with pytest.raises(errors.ParseError) as refused:
        odps_of(live_server, key, "MaxCompute_DOC").run_security_query(query)
    assert f"{where} {expected}" in str(refused.value)
    assert refused.value.status_code == 400
    assert database_state() == before


def test_keywords_in_any_case_and_the_account_id_or_name(live_server, main_count, hanmeimei):
    owner, key, _ = main_count
    o = odps_of(live_server, key, "maxcompute_doc")
    account_id = owner.account.account_id
    assert o.run_security_query("WhoAmI")["DisplayName"] == owner.account.principal
    assert o.run_security_query(f"REVOKE ROLE_PROJECT_GUEST FROM ram${account_id}:HanMeiMei ;")["Revoked"] == [
        Role.GUEST
    ]
    assert o.run_security_query("List Roles;") == {"Roles": ALL_SIX}


def show_grants_expected(user, project) -> dict:
    """What check_permission says for the user in the project on the api channel."""
    rows = [row for row in MATRIX if row.channel == Channel.API]
    decisions = {row.operation: check_permission(user, project, row.operation, Channel.API) for row in rows}
    return {
        "Roles": sorted(roles_in(user, project)),
        "Allowed": {operation: decision.reason for operation, decision in decisions.items() if decision},
        "Refused": {operation: decision.reason for operation, decision in decisions.items() if not decision},
    }


def show_grants_seen(answer: dict) -> dict:
    return {
        "Roles": answer["Roles"],
        "Allowed": {entry["Operation"]: entry["Reason"] for entry in answer["Allowed"]},
        "Refused": {entry["Operation"]: entry["Reason"] for entry in answer["Refused"]},
    }


def test_show_grants_for_matches_check_permission_and_the_check_permissions_page(live_server, main_count):
    owner, key, project = main_count
    alice = make_ram_user(owner, "alice")
    add_member(actor=owner.actor, project=project, ram_user=alice.ram_user, roles=[Role.DEV, Role.GUEST])
    o = odps_of(live_server, key, "MaxCompute_DOC")
    page = signed_in(owner).get(reverse("projects:check-permissions"), {"user": "alice", "project": project.pk})
    on_the_page = {row.operation: decision for row, decision in page.context["decisions"] if row.channel == "api"}

    for person, principal in ((alice, "RAM$MainCount:alice"), (owner, owner.account.principal)):
        answer = o.run_security_query(f"show grants for {principal}")
        assert answer["Principal"] == person.user.principal and answer["Channel"] == "api"
        assert show_grants_seen(answer) == show_grants_expected(person.user, project)
    alices = show_grants_seen(o.run_security_query("show grants for RAM$MainCount:alice"))
    assert alices["Roles"] == [Role.DEV, Role.GUEST]
    assert alices["Allowed"] == {operation: decision.reason for operation, decision in on_the_page.items() if decision}
    assert "table_create" in alices["Allowed"] and "member_management" in alices["Refused"]
    # Alice asking about herself, with her own key, is told the same.
    own = odps_of(live_server, issue_key(alice), "MaxCompute_DOC").run_security_query("show grants")
    assert show_grants_seen(own) == alices


def test_show_grants_says_which_changing_commands_the_user_may_run(live_server, main_count, hanmeimei):
    _, key, _ = main_count
    answer = odps_of(live_server, key, "MaxCompute_DOC").run_security_query("show grants for RAM$MainCount:hanmeimei")
    assert {entry["Command"]: entry["Allowed"] for entry in answer["Commands"]} == {
        "add user": False,
        "grant": False,
        "revoke": True,  # hanmeimei holds role_project_admin
        "remove user": True,
    }


# --- The permission matrix on the api channel, command by command, for the owner and each role ----------------------

WHO = ["owner", *ALL_SIX]


def accepted_by_the_rules(verb: str, who: str) -> bool:
    """The seed's table (projects/matrix.py) read through the command rules; every actor here sees the project and
    none holds a RAM read policy."""
    rule = COMMAND_RULES[verb]
    if rule.readers is Readers.PROJECT:
        return True
    if rule.readers is Readers.PERMISSIONS:
        return who == "owner"
    row = MATRIX_INDEX[(rule.operation, rule.decided_on)]
    return row.owner if who == "owner" else Role(who) in row.ram_roles


def test_the_generated_expectations_say_what_the_seed_says():
    # A guard on the generator below: the seed's CLI row refuses adding and granting to all; taking away is the
    # owner's and the project administrator's.
    assert [who for who in WHO if accepted_by_the_rules("grant", who)] == []
    assert [who for who in WHO if accepted_by_the_rules("add user", who)] == []
    assert [who for who in WHO if accepted_by_the_rules("revoke", who)] == ["owner", Role.ADMIN]
    assert [who for who in WHO if accepted_by_the_rules("remove user", who)] == ["owner", Role.ADMIN]
    # The member services check this operation; the rules only say on which channel's row.
    assert {rule.operation for rule in COMMAND_RULES.values() if rule.is_change} == {"member_management"}


def test_the_services_judge_an_api_actor_by_the_api_row_unless_told_otherwise(main_count, hanmeimei):
    owner, _, project = main_count
    api_actor = Actor(account=owner.account, origin=Origin(channel="api"), user=owner.user)
    with pytest.raises(PermissionDenied, match="not supported through MaxCompute CLI"):
        revoke_roles(actor=api_actor, project=project, ram_user=hanmeimei.ram_user, roles=[Role.DEV])
    with pytest.raises(PermissionDenied, match="not supported through MaxCompute CLI"):
        remove_member(actor=api_actor, project=project, ram_user=hanmeimei.ram_user)
    assert RoleGrant.objects.count() == 6
    revoke_roles(
        actor=api_actor, project=project, ram_user=hanmeimei.ram_user, roles=[Role.DEV], decided_on=Channel.CONSOLE
    )
    assert AuditEvent.objects.filter(action="project.role_revoke").get().channel == "api"


COMMAND_TEXT = {
    "whoami": "whoami",
    "list users": "list users",
    "list roles": "list roles",
    "show grants": "show grants",
    "show grants for": "show grants for RAM$MainCount:bob",
    "add user": "add user RAM$MainCount:carol",
    "remove user": "remove user RAM$MainCount:bob",
    "grant": "grant role_project_dev to RAM$MainCount:bob",
    "revoke": "revoke role_project_guest from RAM$MainCount:bob",
}


def test_every_command_has_a_rule_and_a_case():
    assert set(COMMAND_TEXT) == set(COMMAND_RULES)


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("verb", sorted(COMMAND_RULES))
def test_each_commands_acceptance_on_the_api_channel_matches_the_seeds_table(live_server, main_count, verb, who):
    owner, owner_key, project = main_count
    bob = make_ram_user(owner, "bob")
    make_ram_user(owner, "carol")
    bobs_roles = [Role.GUEST] if verb == "revoke" else []  # remove user takes a member without roles
    add_member(actor=owner.actor, project=project, ram_user=bob.ram_user, roles=bobs_roles)
    if who == "owner":
        key, principal = owner_key, owner.account.principal
    else:
        member = make_ram_user(owner, "member")
        add_member(actor=owner.actor, project=project, ram_user=member.ram_user, roles=[who])
        key, principal = issue_key(member), member.ram_user.principal
    o = odps_of(live_server, key, "MaxCompute_DOC")
    before, since = database_state(), last_event_id()  # (keys' "last used" moves for requests signed right)

    if accepted_by_the_rules(verb, who):
        answer = o.run_security_query(COMMAND_TEXT[verb])
        assert isinstance(answer, dict)
        changes = AuditEvent.objects.filter(pk__gt=since)
        if COMMAND_RULES[verb].is_change:
            [event] = changes
            assert (event.channel, event.actor) == ("api", principal)
        else:
            assert not changes.exists()
    else:
        with pytest.raises(errors.NoPermission) as refused:
            o.run_security_query(COMMAND_TEXT[verb])
        assert refused.value.status_code == 403
        assert database_state() == before


def test_add_user_and_grant_are_refused_even_for_the_owner_with_the_seeds_reason(live_server, main_count, hanmeimei):
    owner, key, _ = main_count
    o = odps_of(live_server, key, "MaxCompute_DOC")
    make_ram_user(owner, "carol")
    for query in ("add user RAM$MainCount:carol", "grant role_project_dev to RAM$MainCount:hanmeimei"):
        with pytest.raises(errors.NoPermission, match="Addition and authorization of project members is not supported"):
            o.run_security_query(query)


# --- Who sees the project ----------------------------------------------------------------------------------------


def test_another_accounts_project_answers_as_a_missing_one(live_server, main_count):
    other = make_owner("owner@other.example", "Other")
    o = ODPS(*issue_key(other), project="MaxCompute_DOC", endpoint=endpoint(live_server))
    with pytest.raises(errors.NoSuchProject) as foreign:
        o.run_security_query("list users")
    with pytest.raises(errors.NoSuchProject) as missing:
        o.run_security_query("list users", project="NoSuch_Project")
    assert str(foreign.value.args[0]).replace("MaxCompute_DOC", "X") == str(missing.value.args[0]).replace(
        "NoSuch_Project", "X"
    )


def test_a_ram_user_outside_the_project_sees_it_only_with_a_ram_read_policy(live_server, main_count, hanmeimei):
    owner, _, _ = main_count
    outsider = make_ram_user(owner, "outsider")
    reader = make_ram_user(owner, "auditor", policies=("AliyunRAMReadOnlyAccess",))
    with pytest.raises(errors.NoSuchProject):
        odps_of(live_server, issue_key(outsider), "MaxCompute_DOC").run_security_query("list users")
    o = odps_of(live_server, issue_key(reader), "MaxCompute_DOC")
    assert hanmeimei.ram_user.principal in o.run_security_query("list users")["Users"]
    assert o.run_security_query("show grants for RAM$MainCount:hanmeimei")["Roles"] == sorted(ALL_SIX)
    # Reading is all: the RAM read policy decides nothing about taking permissions away.
    with pytest.raises(errors.NoPermission, match="Needs one of these roles in MaxCompute_DOC: Project administrator"):
        o.run_security_query("revoke role_project_dev from RAM$MainCount:hanmeimei")


def test_a_member_may_not_check_another_users_permissions(live_server, main_count, hanmeimei):
    owner, _, project = main_count
    dev = make_ram_user(owner, "dev")
    add_member(actor=owner.actor, project=project, ram_user=dev.ram_user, roles=[Role.DEV])
    o = odps_of(live_server, issue_key(dev), "MaxCompute_DOC")
    with pytest.raises(errors.NoPermission, match="Checking another user's permissions"):
        o.run_security_query("show grants for RAM$MainCount:hanmeimei")
    assert o.run_security_query(f"show grants for {dev.ram_user.principal}")["Roles"] == [Role.DEV]


def test_an_unknown_principal_is_no_such_object(live_server, main_count):
    _, key, _ = main_count
    o = odps_of(live_server, key, "MaxCompute_DOC")
    for query in ("revoke role_project_dev from RAM$MainCount:nobody", "show grants for RAM$OtherCount:hanmeimei"):
        with pytest.raises(errors.NoSuchObject, match="does not exist"):
            o.run_security_query(query)


# --- Signatures, keys and the Date --------------------------------------------------------------------------------

REVOKE_ADMIN = "revoke role_project_admin from RAM$MainCount:hanmeimei"


def test_a_wrong_signature_is_refused_and_changes_nothing(live_server, main_count, hanmeimei):
    _, (key_id, secret), _ = main_count
    before = everything()
    with pytest.raises(errors.SignatureNotMatch):
        odps_of(live_server, (key_id, secret[::-1]), "MaxCompute_DOC").run_security_query(REVOKE_ADMIN)
    assert everything() == before


def test_an_unknown_key_is_refused_and_changes_nothing(live_server, main_count, hanmeimei):
    before = everything()
    with pytest.raises(errors.InvalidParameter, match="AccessKey ID is not found"):
        odps_of(live_server, ("LTAI" + "0" * 20, "x" * 30), "MaxCompute_DOC").run_security_query(REVOKE_ADMIN)
    assert everything() == before


def test_an_inactive_key_is_refused_and_changes_nothing(live_server, main_count, hanmeimei):
    owner, key, _ = main_count
    access_key = AccessKey.objects.get(access_key_id=key[0])
    set_access_key_status(actor=operator_actor(owner.account), access_key=access_key, is_active=False)
    before = everything()
    with pytest.raises(errors.InvalidParameter, match="AccessKey is disabled"):
        odps_of(live_server, key, "MaxCompute_DOC").run_security_query(REVOKE_ADMIN)
    assert everything() == before


def signed_post(live_server, key: tuple[str, str], query: str, *, date: str) -> requests.Response:
    """A command posted as pyodps posts it, signed by pyodps's own signer over the given Date header."""
    url = f"{endpoint(live_server)}/projects/MaxCompute_DOC/authorization?curr_project=MaxCompute_DOC"
    body = f"<Authorization><Query>{query}</Query><ResponseInJsonFormat>true</ResponseInJsonFormat></Authorization>"
    prepared = requests.Request(
        "POST", url, data=body.encode(), headers={"Content-Type": "application/xml", "Date": date}
    ).prepare()
    CloudAccount(*key).sign_request(prepared, endpoint(live_server))
    return requests.Session().send(prepared, timeout=20)


@pytest.mark.parametrize("minutes", [-16, 16, -24 * 60])
def test_a_date_more_than_15_minutes_away_is_refused_and_changes_nothing(live_server, main_count, hanmeimei, minutes):
    _, key, _ = main_count
    before = everything()
    response = signed_post(live_server, key, REVOKE_ADMIN, date=formatdate(time.time() + minutes * 60, usegmt=True))
    assert response.status_code == 403
    error = errors.parse_response(response)
    assert isinstance(error, errors.RequestTimeTooSkewed)
    assert error.max_interval_date == 15 * 60 * 1000
    assert everything() == before


def test_the_same_hand_signed_request_with_a_fresh_date_goes_through(live_server, main_count, hanmeimei):
    # The control for the test above: the refusal comes from the Date, not from the hand-made request.
    _, key, _ = main_count
    response = signed_post(live_server, key, REVOKE_ADMIN, date=formatdate(time.time(), usegmt=True))
    assert response.status_code == 200, response.text
    assert "<Authorization><Result>" in response.text
    assert not RoleGrant.objects.filter(role=Role.ADMIN).exists()


def test_a_request_changed_after_signing_is_refused(live_server, main_count, hanmeimei):
    _, key, _ = main_count
    url = f"{endpoint(live_server)}/projects/MaxCompute_DOC/authorization"
    body = f"<Authorization><Query>{REVOKE_ADMIN}</Query></Authorization>"
    prepared = requests.Request(
        "POST", url, data=body.encode(), headers={"Content-Type": "application/xml", "x-odps-user-agent": "pyodps"}
    ).prepare()
    CloudAccount(*key).sign_request(prepared, endpoint(live_server))
    prepared.headers["x-odps-user-agent"] = "something else"
    before = everything()
    response = requests.Session().send(prepared, timeout=20)
    assert isinstance(errors.parse_response(response), errors.SignatureNotMatch)
    assert everything() == before


def test_an_unsigned_post_from_a_signed_in_browser_is_refused_and_changes_nothing(live_server, main_count, hanmeimei):
    owner, _, _ = main_count
    client = signed_in(owner)
    before = database_state()
    response = client.post(
        reverse("projects:odps-authorization", args=["MaxCompute_DOC"]),
        f"<Authorization><Query>{REVOKE_ADMIN}</Query></Authorization>",
        content_type="application/xml",
    )
    assert response.status_code == 401
    assert b"<Code>AuthorizationRequired</Code>" in response.content
    assert database_state() == before


def test_pyodps_falls_back_to_the_v2_signature_when_it_knows_a_region(live_server, main_count):
    _, key, _ = main_count
    o = odps_of(live_server, key, "MaxCompute_DOC", region_name="cn-hangzhou")
    assert o.run_security_query("whoami")["Project"] == "MaxCompute_DOC"


def test_the_endpoints_other_requests_get_maxcompute_xml_404s(live_server):
    for path in ("logview/host", "tenants", "projects/MaxCompute_DOC"):
        response = requests.get(f"{endpoint(live_server)}/{path}", timeout=20)
        assert response.status_code == 404
        error = errors.parse_response(response)
        assert isinstance(error, errors.NoSuchObject) and error.request_id == response.headers["X-Request-Id"]


def test_a_body_that_is_not_the_authorization_document_is_refused(live_server, main_count):
    _, key, _ = main_count
    date = formatdate(time.time(), usegmt=True)
    for body in (
        "not xml",
        "<Other/>",
        '<!DOCTYPE x [<!ENTITY a "whoami">]><Authorization><Query>&a;</Query></Authorization>',
    ):
        url = f"{endpoint(live_server)}/projects/MaxCompute_DOC/authorization"
        prepared = requests.Request(
            "POST", url, data=body.encode(), headers={"Content-Type": "application/xml", "Date": date}
        ).prepare()
        CloudAccount(*key).sign_request(prepared, endpoint(live_server))
        response = requests.Session().send(prepared, timeout=20)
        assert response.status_code == 400
        assert isinstance(errors.parse_response(response), errors.InvalidParameter)


def test_the_endpoint_answers_in_english_whatever_language_the_client_asks_for(live_server, main_count, hanmeimei):
    """pyodps and the programs on it read MaxCompute's English: a client's Accept-Language changes nothing."""
    owner, key, project = main_count
    group = create_group(actor=owner.actor, name="developers")
    grant_group_roles(actor=owner.actor, project=project, group=group, roles=[Role.DEV])
    add_to_group(actor=owner.actor, group=group, ram_user=hanmeimei.ram_user)
    odps_options.custom_headers = {"Accept-Language": "zh-CN,zh;q=0.9"}
    try:
        odps = odps_of(live_server, key, "MaxCompute_DOC")
        answer = odps.run_security_query("show grants for RAM$MainCount:hanmeimei")
        with pytest.raises(errors.ODPSError) as refused:
            odps.run_security_query("show grants for RAM$MainCount:nobody")
    finally:
        odps_options.custom_headers = None
    assert answer["RoleSources"]["role_project_dev"] == "directly and via group developers"
    assert refused.value.args[0].isascii()
