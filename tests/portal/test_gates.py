"""Deny by default, CSRF on every POST, tenant isolation and the RAM policies, walked over every URL."""

from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from accounts.actors import operator_actor
from accounts.models import PolicyAttachment, RamUser
from accounts.services.access_keys import issue_access_key
from accounts.services.groups import add_to_group, attach_group_policy, create_group
from accounts.services.policies import attach_policy
from portal.models import AuditEvent
from projects.matrix import Role
from projects.models import Project
from projects.services import add_member, create_project
from tests.accounts.test_smoke_pages import heading_and_text
from tests.conftest import make_ram_user, signed_in
from tests.db_state import database_state


def walk(resolver: URLResolver, namespace: str = "", groups: tuple[str, ...] = ()):
    """(namespaced name, URL arguments) of every pattern, however deeply included."""
    for entry in resolver.url_patterns:
        entry_groups = groups + tuple(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry, inner, entry_groups)
        else:
            assert isinstance(entry, URLPattern)
            assert entry.name, f"The URL pattern {entry.pattern} has no name, so no test can reach it."
            yield f"{namespace}{entry.name}", entry_groups


URLS = dict(walk(get_resolver()))
ALL_NAMES = sorted(URLS)
OBJECT_NAMES = sorted(name for name, groups in URLS.items() if "pk" in groups)
GROUP_NAMES = sorted(name for name, groups in URLS.items() if "group_pk" in groups)

# The short public list (SPEC §3.8). Anything else must send an anonymous visitor to the sign-in page.
PUBLIC = {
    "accounts:home",
    "accounts:owner-sign-in",
    "accounts:sign-up",
    "accounts:ram-sign-in",
    "accounts:sign-in-continue",
    "accounts:sign-in-verify",
    "accounts:sign-in-enrol",
    "accounts:sign-in-change-password",
    "accounts:sign-in-backup-codes",  # a pending sign-in's own (anyone else's: back to the start)
    "accounts:sign-out",
    "accounts:choose-language",  # the language picker, on every page
    "accounts:claim",  # the recipient of a delivery packet, by link
    "accounts:claim-shown",  # its one-time page, in the browser that pressed "Reveal" (any other: 404)
    "accounts:invitation",  # the invited person, by link: a POST with its code chooses a password
    "healthz",  # a no-op for load balancers
    "readyz",  # the readiness probe (database, keyring), for the orchestrator
    "projects:odps-authorization",  # MaxCompute security commands, signed with an AccessKey
    "projects:odps-not-offered",  # the rest of the MaxCompute endpoint: an XML 404 (pyodps asks, then goes on)
    "accounts:begin-passkey-sign-in",  # a pending sign-in's passkey (without one: refused, JSON)
    "accounts:complete-passkey-sign-in",
    "accounts:passkey-script-texts",  # the passkey script's texts (JavaScript), on the sign-in page too
}
# Pages of the signed-in person's own, open to every signed-in user (subject to the security settings).
SELF_SERVICE = {
    "accounts:my-credentials",
    "accounts:change-password",
    "accounts:bind-mfa",
    "accounts:sign-out-everywhere",
    "accounts:using-the-apis",
    "accounts:one-time-reveal",  # the one-time page of a form one submitted oneself (anyone else's: 404)
    "accounts:remove-mfa-device",  # one's own MFA device (anyone else's: 404)
    "accounts:add-passkey",  # one's own passkeys (a code first)
    "accounts:remove-passkey",
    "accounts:begin-passkey-registration",
    "accounts:complete-passkey-registration",
    "accounts:passkey-confirmation-options",  # whether one's pages offer one's passkey beside a code field
    "accounts:begin-passkey-confirmation",  # one's own passkey, for a form that asks for a code
    "accounts:complete-passkey-confirmation",
    "accounts:regenerate-backup-codes",  # one's own backup codes (a code from one's own device first)
    "projects:project-list",  # a RAM user sees the projects it is a member of; "Create Project" as the matrix says
    "projects:permissions",
}
# A RAM user's own AccessKeys: only where "Manage AccessKey" is allowed (tests/accounts/test_access_keys.py).
OWN_KEYS = {
    "accounts:create-my-access-key",
    "accounts:enable-my-access-key",
    "accounts:disable-my-access-key",
    "accounts:delete-my-access-key",
}
# What AliyunRAMReadOnlyAccess may open. Every other administration URL changes something.
READ_PAGES = {
    "accounts:overview",
    "accounts:user-list",
    "accounts:user-detail",
    "accounts:security-settings",
    "accounts:password-policy",
    "accounts:update-default-domain",
    "accounts:policy-list",
    "accounts:audit-trail",
    "accounts:audit-export",
    "accounts:packet-list",
    "accounts:credential-report",
    "accounts:credential-report-download",
    "accounts:group-list",
    "accounts:group-detail",
    "projects:check-permissions",
}
# Settings pages that RAM administrators may read but only the owner may change.
OWNER_ONLY_CHANGES = {"accounts:security-settings", "accounts:password-policy", "accounts:update-default-domain"}
# Read pages whose POST is a change for RAM administrators (a reader's is refused).
ADMIN_CHANGES = {"accounts:credential-report"}
# A project's pages: its pk is a project's. The owner and RAM readers see every project of the account, a member
# its own, anyone else gets 404; what may be changed there is the permission matrix's to say (below).
PROJECT_PAGES = {
    "projects:project-detail",
    "projects:update-project-settings",
    "projects:add-member",
    "projects:grant-role",
    "projects:revoke-role",
    "projects:remove-member",
    "projects:authorize-cross-project",
    "projects:revoke-cross-project",
    "projects:delete-project",
}
ADMIN_NAMES = sorted(set(ALL_NAMES) - PUBLIC - SELF_SERVICE - OWN_KEYS - PROJECT_PAGES)
POLICY_NAME = "AliyunRAMReadOnlyAccess"
MISSING_KEY_ID = "LTAI" + "0" * 20


def url_for(
    name: str,
    *,
    pk: int,
    domain: str,
    key_id: str = MISSING_KEY_ID,
    project_pk: int | None = None,
    group_pk: int = 0,
) -> str:
    """`pk` is a RAM user's; a project page takes `project_pk` where the test has a project (else any pk will do), a
    group page `group_pk`."""
    if name in PROJECT_PAGES and project_pk is not None:
        pk = project_pk
    values = {
        "pk": pk,
        "user_pk": pk,
        "device_pk": pk,
        "passkey_pk": pk,
        "group_pk": group_pk,
        "domain": domain,
        "policy_name": POLICY_NAME,
        "key_id": key_id,
        "project": "sales_dw",
        "resource": "logview/host",
        "uid": "00000000-0000-4000-8000-000000000000",
        "token": "A" * 43,  # a bulk action's report: a form token's shape
    }
    unknown = set(URLS[name]) - set(values)
    assert not unknown, f"{name} takes {unknown}: teach url_for() how to fill them."
    return reverse(name, kwargs={group: values[group] for group in URLS[name]})


def sign_in_url(next_url: str) -> str:
    return f"{reverse('accounts:owner-sign-in')}?next={quote(next_url)}"


def test_the_walk_finds_every_kind_of_page():
    # A guard against a walk that silently finds nothing (and so tests nothing).
    assert {"accounts:user-list", "accounts:user-detail", "accounts:ram-sign-in", "accounts:detach-policy"} <= set(
        ALL_NAMES
    )
    assert len(ALL_NAMES) >= 30
    for listed in (PUBLIC, SELF_SERVICE, OWN_KEYS, READ_PAGES, PROJECT_PAGES):
        assert listed <= set(ALL_NAMES), f"stale names in a list: {listed - set(ALL_NAMES)}"
    # Every URL under /projects/<pk>/ is a project page, so that the project tests below reach it.
    under_projects = {name for name in OBJECT_NAMES if url_for(name, pk=1, domain="").startswith("/projects/")}
    assert under_projects == PROJECT_PAGES


@pytest.mark.parametrize("name", ALL_NAMES)
def test_only_the_public_list_is_marked_public(db, name):
    func = resolve(url_for(name, pk=1, domain="1234567890123456.onaliyun.com")).func
    assert getattr(func, "is_public", False) is (name in PUBLIC)


@pytest.mark.parametrize("name", sorted(set(ALL_NAMES) - PUBLIC))
def test_anonymous_get_is_sent_to_sign_in(ram_user, name):
    url = url_for(name, pk=ram_user.ram_user.pk, domain=ram_user.account.default_domain)
    before = database_state()
    response = Client().get(url)
    assert response.status_code == 302, f"{name} answered {response.status_code} to an anonymous visitor"
    assert response.url == sign_in_url(url)
    assert database_state() == before


@pytest.mark.parametrize("name", sorted(set(ALL_NAMES) - PUBLIC))
def test_anonymous_post_is_sent_to_sign_in_and_changes_nothing(ram_user, name):
    url = url_for(name, pk=ram_user.ram_user.pk, domain=ram_user.account.default_domain)
    before = database_state()
    response = Client().post(url, {"name": "hacked", "display_name": "Hacked", "is_enabled": "0"})
    assert response.status_code == 302
    assert response.url == sign_in_url(url)
    assert database_state() == before


# What each public page does for an anonymous visitor: the sign-in steps need a pending sign-in.
PUBLIC_ANSWERS = {
    "accounts:home": (302, "accounts:owner-sign-in"),
    "accounts:owner-sign-in": (200, None),
    "accounts:sign-up": (404, None),  # self sign-up is off unless the setting says so
    "accounts:ram-sign-in": (200, None),
    "accounts:sign-in-continue": (302, "accounts:owner-sign-in"),
    "accounts:sign-in-verify": (302, "accounts:owner-sign-in"),
    "accounts:sign-in-enrol": (302, "accounts:owner-sign-in"),
    "accounts:sign-in-change-password": (302, "accounts:owner-sign-in"),
    "accounts:sign-in-backup-codes": (302, "accounts:owner-sign-in"),
    "accounts:sign-out": (405, None),
    "accounts:choose-language": (405, None),
    "accounts:claim": (200, None),
    "accounts:claim-shown": (404, None),
    "accounts:invitation": (200, None),  # the page with "Continue"; nothing is spent by opening it
    "healthz": (200, None),  # the page with "Reveal"; only a POST with a valid code reveals anything
    "readyz": (200, None),  # the readiness probe: says whether the database and the keyring work, nothing more
    "projects:odps-authorization": (405, None),  # commands come by POST, signed
    "projects:odps-not-offered": (404, None),
    "accounts:begin-passkey-sign-in": (405, None),  # a ceremony's steps come by POST, from the page's script
    "accounts:complete-passkey-sign-in": (405, None),
    "accounts:passkey-script-texts": (200, None),
}


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_anonymous_get_of_public_pages(ram_user, name):
    url = url_for(name, pk=ram_user.ram_user.pk, domain=ram_user.account.default_domain)
    before = database_state()
    response = Client().get(url)
    status, destination = PUBLIC_ANSWERS[name]
    assert response.status_code == status
    if destination:
        assert response.url == reverse(destination)
    assert database_state() == before


def test_self_sign_up_page_opens_when_the_setting_allows_it(db, settings):
    settings.PORTAL_SELF_SIGN_UP = True
    heading, page = heading_and_text(Client().get(reverse("accounts:sign-up")))
    assert heading == "Create a primary account"
    assert 'name="email"' in page and 'name="password"' in page


# Form data that would make each POST do something if the CSRF check were missing.
def plausible_post_data(owner) -> dict:
    return {
        "email": owner.user.email,
        "password": owner.password,
        "name": "renamed",
        "display_name": "Renamed",
        "is_enabled": "0",
        "password_mode": "keep",
        "policy_name": "AdministratorAccess",
        "session_hours": "3",
        "minimum_length": "20",
        "max_age_days": "0",
        "reuse_prevention": "0",
        "max_failed_attempts": "5",
    }


# The MaxCompute endpoint's POSTs carry a signature instead of a CSRF token (the rest of it changes nothing and
# answers 404). "/" is also the RAM OpenAPI endpoint, but only for calls that name an Action: a form POST to it
# is a page's and needs the token.
SIGNED_ENDPOINTS = {"projects:odps-authorization", "projects:odps-not-offered"}


@pytest.mark.parametrize("name", sorted(set(ALL_NAMES) - SIGNED_ENDPOINTS))
def test_every_post_without_csrf_token_is_refused(owner, ram_user, name):
    attach_policy(actor=owner.actor, ram_user=ram_user.ram_user, policy_name=POLICY_NAME)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    url = url_for(name, pk=ram_user.ram_user.pk, domain=owner.account.default_domain)
    before = database_state()
    response = client.post(url, plausible_post_data(owner))
    assert response.status_code == 403
    assert b"CSRF verification failed" in response.content
    assert database_state() == before


def test_the_signed_endpoint_refuses_an_unsigned_post_and_changes_nothing(owner, ram_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    before = database_state()
    response = client.post("/?Action=DeleteUser&Version=2015-05-01&UserName=alice")
    assert response.status_code == 400
    assert response.json()["Code"] == "MissingAccessKeyId"
    assert database_state() == before


def test_the_same_post_with_a_csrf_token_goes_through(owner, ram_user):
    # The control for the test above: the refusal comes from the missing token, not from the data.
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    url = reverse("accounts:edit-user", args=[ram_user.ram_user.pk])
    client.get(url)
    token = client.cookies["csrftoken"].value
    response = client.post(url, {**plausible_post_data(owner), "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert RamUser.objects.get(pk=ram_user.ram_user.pk).name == "renamed"
    assert AuditEvent.objects.filter(action="ram_user.update").count() == 1


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", OBJECT_NAMES)
def test_foreign_account_ids_get_the_answer_of_a_missing_one(owner, other_owner, other_ram_user, name, method):
    foreign = other_ram_user.ram_user
    attach_policy(actor=other_owner.actor, ram_user=foreign, policy_name=POLICY_NAME)
    foreign_key = issue_access_key(actor=operator_actor(other_owner.account), holder=foreign.user, otp_code=None)
    key_id = foreign_key.access_key.access_key_id
    foreign_project = keyed_project(other_owner, "foreign_prj", member=foreign)
    missing_pk = RamUser.objects.order_by("-pk").first().pk + 1000
    client = signed_in(owner)
    data = {
        **plausible_post_data(owner),
        **project_post_data(name, ram_user=foreign, source=foreign_project),
        "name": foreign.name,
        "confirm_name": foreign_project.name if name in PROJECT_PAGES else foreign.name,
        "otp_code": owner.code() if method == "post" else "",
    }
    before = database_state()
    foreign_url = url_for(name, pk=foreign.pk, domain="", key_id=key_id, project_pk=foreign_project.pk)
    missing_url = url_for(name, pk=missing_pk, domain="", key_id=key_id, project_pk=foreign_project.pk + 1000)
    foreign_answer = getattr(client, method)(foreign_url, data)
    missing_answer = getattr(client, method)(missing_url, data)
    # A POST-only action answers a GET with 405 before it looks at the ID, for foreign and missing alike.
    expected = {404, 405} if method == "get" else {404}
    assert foreign_answer.status_code == missing_answer.status_code
    assert foreign_answer.status_code in expected
    assert foreign.name not in foreign_answer.content.decode()
    assert foreign_project.name not in foreign_answer.content.decode()
    assert database_state() == before


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", GROUP_NAMES)
def test_foreign_groups_get_the_answer_of_a_missing_one(owner, other_owner, other_ram_user, name, method):
    foreign = create_group(actor=other_owner.actor, name="theirs")
    add_to_group(actor=other_owner.actor, group=foreign, ram_user=other_ram_user.ram_user)
    attach_group_policy(actor=other_owner.actor, group=foreign, policy_name=POLICY_NAME)
    client = signed_in(owner)
    data = {
        "name": "mine",
        "user_names": other_ram_user.ram_user.name,
        "group": foreign.pk,
        "policy_name": "AdministratorAccess",
        "confirm": "theirs",
        "project": "1",
        "roles": [Role.ADMIN],
    }
    before = database_state()
    pk = other_ram_user.ram_user.pk
    foreign_answer = getattr(client, method)(url_for(name, pk=pk, domain="", group_pk=foreign.pk), data)
    missing_answer = getattr(client, method)(url_for(name, pk=pk, domain="", group_pk=foreign.pk + 1000), data)
    expected = {404, 405} if method == "get" else {404}
    assert foreign_answer.status_code == missing_answer.status_code
    assert foreign_answer.status_code in expected
    assert "theirs" not in foreign_answer.content.decode()
    assert database_state() == before


def test_the_object_pages_include_the_ones_expected():
    assert (
        set(OBJECT_NAMES)
        >= {
            "accounts:user-detail",
            "accounts:edit-user",
            "accounts:delete-user",
            "accounts:modify-logon-settings",
            "accounts:attach-policy",
            "accounts:detach-policy",
            "projects:revoke-and-delete-user",
        }
        | PROJECT_PAGES
    )


def keyed_project(owner, name: str, *, member: RamUser | None = None) -> Project:
    """A project of the owner's account (its AccessKey issued, as the matrix requires), with a developer."""
    issue_access_key(actor=operator_actor(owner.account), holder=owner.user, otp_code=None)
    project = create_project(actor=owner.actor, name=name)
    if member is not None:
        add_member(actor=owner.actor, project=project, ram_user=member, roles=[Role.DEV])
    return project


def project_post_data(name: str, *, ram_user: RamUser, source: Project) -> dict:
    """What would make each project action change something if nothing stood in its way."""
    return {
        "ram_user": ram_user.name if name == "projects:add-member" else ram_user.pk,
        "roles": [Role.ADMIN],
        "role": Role.DEV if name == "projects:revoke-role" else Role.ADMIN,
        "source": source.pk,
        "ip_whitelist": "10.0.0.0/8",
        "is_full_table_scan_allowed": "on",
        "quota": "Subscription",
    }


# A project page answers GET with 200 to those who may see the project; the others are POST-only actions (405
# to any GET) but for the delete page and the confirmations of revoking and removing, which show their forms only to
# those the matrix (or, for cross-project access, the owner's role) lets act.
PROJECT_GET_ANSWERS = {
    "projects:project-detail": 200,
    "projects:delete-project": 403,
    "projects:revoke-role": 403,
    "projects:remove-member": 403,
    "projects:revoke-cross-project": 403,
}


@pytest.mark.parametrize("name", sorted(PROJECT_PAGES))
def test_a_ram_user_outside_a_project_gets_404_from_its_pages(owner, ram_user, name):
    bob = make_ram_user(owner, "bob")
    project = keyed_project(owner, "sales_dw", member=bob.ram_user)
    client = signed_in(ram_user)
    url = url_for(name, pk=0, domain="", project_pk=project.pk)
    before = database_state()
    assert client.get(url).status_code == (404 if name in PROJECT_GET_ANSWERS else 405)
    post = client.post(
        url, {**project_post_data(name, ram_user=bob.ram_user, source=project), "confirm_name": "sales_dw"}
    )
    assert post.status_code == 404
    assert "sales_dw" not in post.content.decode()
    assert database_state() == before


@pytest.mark.parametrize("who", ["developer", "ram_reader", "ram_admin"])
@pytest.mark.parametrize("name", sorted(PROJECT_PAGES))
def test_who_the_matrix_refuses_sees_a_project_but_changes_nothing(request, owner, ram_user, who, name):
    # A member with a role other than the project administrator's, a RAM reader and a RAM administrator: none of
    # them is the owner or holds role_project_admin in the project, so every change is refused (403).
    project = keyed_project(owner, "sales_dw", member=ram_user.ram_user)
    other = keyed_project(owner, "ops_dw")
    bob = make_ram_user(owner, "bob")
    person = ram_user if who == "developer" else request.getfixturevalue(who)
    client = signed_in(person)
    url = url_for(name, pk=0, domain="", project_pk=project.pk)
    target = bob.ram_user if name == "projects:add-member" else ram_user.ram_user
    data = {**project_post_data(name, ram_user=target, source=other), "confirm_name": "sales_dw"}
    before = database_state()
    assert client.get(url).status_code == PROJECT_GET_ANSWERS.get(name, 405)
    assert client.post(url, data).status_code == (200 if name == "projects:project-detail" else 403)
    assert database_state() == before


@pytest.mark.parametrize("name", ADMIN_NAMES)
def test_plain_ram_user_is_refused_every_administration_page(owner, ram_user, name):
    bob = make_ram_user(owner, "bob")
    attach_policy(actor=owner.actor, ram_user=bob.ram_user, policy_name=POLICY_NAME)
    client = signed_in(ram_user)
    url = url_for(name, pk=bob.ram_user.pk, domain=owner.account.default_domain)
    before = database_state()
    assert client.get(url).status_code == 403
    assert client.post(url, {**plausible_post_data(owner), "name": "bob", "confirm_name": "bob"}).status_code == 403
    assert database_state() == before


# What each of a plain RAM user's own pages shows alice: its heading, and a fact about her or what she may do.
OWN_PAGES = {
    "accounts:my-credentials": ("My credentials", lambda alice: alice.ram_user.logon_name),
    "accounts:change-password": ("Change password", lambda alice: 'autocomplete="current-password"'),
    "accounts:bind-mfa": ("Bind an MFA device", lambda alice: "QR code for your authenticator app"),
    "accounts:using-the-apis": ("Using the APIs", lambda alice: alice.ram_user.principal),
    "projects:project-list": ("Projects", lambda alice: "You are not a member of any project yet."),
    "projects:permissions": ("Permissions", lambda alice: "Configuration of an IP address whitelist"),
}


# (A one-time page exists only after one's own submission: tests/accounts/test_submitted_once.py.)
@pytest.mark.parametrize(
    "name",
    sorted(
        SELF_SERVICE
        - {
            "accounts:sign-out-everywhere",
            "accounts:one-time-reveal",
            "accounts:remove-mfa-device",
            "accounts:regenerate-backup-codes",
            "accounts:add-passkey",
            "accounts:remove-passkey",
            "accounts:begin-passkey-registration",
            "accounts:complete-passkey-registration",
            "accounts:passkey-confirmation-options",  # (JSON, or 204: tests/accounts/test_passkey_rules.py)
            "accounts:begin-passkey-confirmation",
            "accounts:complete-passkey-confirmation",
        }
    ),
)
def test_plain_ram_user_opens_their_own_pages(ram_user, name):
    heading, page = heading_and_text(signed_in(ram_user).get(reverse(name)))
    expected_heading, fact = OWN_PAGES[name]
    assert heading == expected_heading
    assert fact(ram_user) in page


# What each read page shows a RAM reader: its heading, and a fact about the account or alice (who holds
# AliyunDataWorksFullAccess in the test below).
READ_PAGE_FACTS = {
    "accounts:overview": ("Overview", lambda owner, alice: owner.account.account_id),
    "accounts:user-list": ("Users", lambda owner, alice: f'title="{alice.ram_user.display_name}"'),
    "accounts:user-detail": ("Alice", lambda owner, alice: "AliyunDataWorksFullAccess"),
    "accounts:security-settings": ("RAM user security settings", lambda owner, alice: "Logon IP masks"),
    "accounts:password-policy": ("Password policy", lambda owner, alice: 'name="minimum_length" value="12"'),
    "accounts:update-default-domain": ("Update default domain", lambda owner, alice: owner.account.default_domain),
    "accounts:policy-list": ("Policies", lambda owner, alice: "AliyunDataWorksFullAccess"),
    "accounts:audit-trail": ("Audit trail", lambda owner, alice: alice.ram_user.principal),
    "accounts:packet-list": ("Delivery packets", lambda owner, alice: f">{alice.ram_user.name}</a>"),
    "accounts:credential-report": ("Credential report", lambda owner, alice: f"alice@{owner.account.account_id}"),
    "projects:check-permissions": ("Check permissions", lambda owner, alice: "There are no projects yet"),
    "accounts:group-list": ("Groups", lambda owner, alice: ">data-eng</a>"),
    "accounts:group-detail": ("Data engineering", lambda owner, alice: f">{alice.ram_user.name}</a>"),
}


@pytest.mark.parametrize("name", ADMIN_NAMES)
def test_read_only_ram_user_reads_but_changes_nothing(owner, ram_reader, ram_user, name):
    attach_policy(actor=owner.actor, ram_user=ram_user.ram_user, policy_name="AliyunDataWorksFullAccess")
    group = create_group(actor=owner.actor, name="data-eng", display_name="Data engineering")
    add_to_group(actor=owner.actor, group=group, ram_user=ram_user.ram_user)
    client = signed_in(ram_reader)
    url = url_for(name, pk=ram_user.ram_user.pk, domain=owner.account.default_domain, group_pk=group.pk)
    data = {
        **plausible_post_data(owner),
        "policy_name": "AdministratorAccess",
        "confirm_name": "alice",
        "users-TOTAL_FORMS": "1",
        "users-INITIAL_FORMS": "0",
        "users-0-name": "eve",
        "users-0-display_name": "Eve",
    }
    before = database_state()
    get = client.get(url)
    # (The report's download, with no report yet, leads to the page that makes one: tests/accounts/test_credential_….)
    assert get.status_code == (
        {"accounts:credential-report-download": 302}.get(name, 200) if name in READ_PAGES else 403
    )
    if name in READ_PAGES - {"accounts:audit-export", "accounts:credential-report-download"}:  # (CSV files)
        heading, page = heading_and_text(get)
        expected_heading, fact = READ_PAGE_FACTS[name]
        assert heading.startswith(expected_heading)
        assert fact(owner, ram_user) in page
    post = client.post(url, data)
    if name in READ_PAGES - OWNER_ONLY_CHANGES - ADMIN_CHANGES:
        assert post.status_code in (200, 302, 405)
    else:
        assert post.status_code == 403, f"{name} let a read-only user POST"
    assert database_state() == before


def test_read_only_ram_user_sees_no_change_buttons(ram_reader, ram_user):
    client = signed_in(ram_reader)
    page = client.get(reverse("accounts:user-detail", args=[ram_user.ram_user.pk])).content.decode()
    assert "Modify Logon Settings" not in page
    assert reverse("accounts:delete-user", args=[ram_user.ram_user.pk]) not in page
    assert "Create User" not in client.get(reverse("accounts:user-list")).content.decode()
    settings_page = client.get(reverse("accounts:security-settings"))
    assert "otp_code" not in settings_page.context["form"].fields
    assert all(field.disabled for field in settings_page.context["form"].fields.values())


def new_user_rows(*names: str) -> dict:
    data = {"users-TOTAL_FORMS": str(len(names)), "users-INITIAL_FORMS": "0"}
    for index, name in enumerate(names):
        data |= {f"users-{index}-name": name, f"users-{index}-display_name": name.title()}
        data |= {f"users-{index}-password_mode": "generate", f"users-{index}-must_reset_password": "on"}
    return data


def test_ram_admin_creates_and_edits_users(owner, ram_admin, ram_user):
    client = signed_in(ram_admin)
    response = client.post(reverse("accounts:create-users"), new_user_rows("carol", "dave"), follow=True)
    assert response.status_code == 200 and "2 users created" in response.content.decode()
    assert set(RamUser.objects.filter(name__in=["carol", "dave"]).values_list("name", flat=True)) == {"carol", "dave"}
    created = AuditEvent.objects.filter(action="ram_user.create", actor=ram_admin.user.principal)
    assert sorted(created.values_list("target", flat=True)) == [
        f"RAM${owner.account.account_id}:carol",
        f"RAM${owner.account.account_id}:dave",
    ]
    response = client.post(
        reverse("accounts:edit-user", args=[ram_user.ram_user.pk]), {"name": "alice", "display_name": "Alice Liddell"}
    )
    assert response.status_code == 302
    assert RamUser.objects.get(pk=ram_user.ram_user.pk).display_name == "Alice Liddell"
    assert AuditEvent.objects.filter(action="ram_user.update", actor=ram_admin.user.principal).count() == 1


def test_ram_admin_attaches_and_detaches_policies(ram_admin, ram_user):
    client = signed_in(ram_admin)
    url = reverse("accounts:attach-policy", args=[ram_user.ram_user.pk])
    assert client.post(url, {"policy_name": POLICY_NAME}).status_code == 302
    assert PolicyAttachment.objects.filter(ram_user=ram_user.ram_user, policy_name=POLICY_NAME).exists()
    client.post(reverse("accounts:detach-policy", args=[ram_user.ram_user.pk, POLICY_NAME]), {"confirm": POLICY_NAME})
    assert not PolicyAttachment.objects.filter(ram_user=ram_user.ram_user).exists()


@pytest.mark.parametrize("name", sorted(OWNER_ONLY_CHANGES))
def test_ram_admin_reads_but_cannot_change_owner_only_settings(owner, ram_admin, name):
    client = signed_in(ram_admin)
    page = client.get(reverse(name))
    assert page.status_code == 200
    assert not page.context["is_owner"]
    before = database_state()
    response = client.post(reverse(name), {**plausible_post_data(owner), "otp_code": owner.code()})
    assert response.status_code == 403
    assert database_state() == before


def test_ram_admin_is_refused_the_owners_own_account_page(ram_admin):
    client = signed_in(ram_admin)
    before = database_state()
    assert client.get(reverse("accounts:my-account")).status_code == 403
    # Backup codes are one's own: without a device of one's own, none are made (and the owner's are never touched).
    assert client.post(reverse("accounts:regenerate-backup-codes"), {"otp_code": "123456"}).status_code == 302
    assert database_state() == before
