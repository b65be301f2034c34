"""The project pages: Projects, Project detail, Permissions, Check permissions, and the no-orphan delete."""

import html
import re

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.actors import operator_actor
from accounts.models import AccessKey, RamUser, User
from accounts.services.access_keys import issue_access_key
from portal.models import AuditEvent
from projects.matrix import MATRIX, ROLE_LABELS, Channel, Role
from projects.models import CrossProjectAccess, Project, ProjectMember, RoleGrant
from projects.permissions import check_permission
from projects.services import add_member, create_project
from tests.accounts.test_smoke_pages import heading_and_text
from tests.conftest import make_ram_user, signed_in
from tests.db_state import actions_since, last_event_id

ACCESS_KEY_REASON = "The AccessKey pair is not enabled for the Alibaba Cloud account"


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def issue_account_key(owner) -> AccessKey:
    return issue_access_key(actor=operator_actor(owner.account), holder=owner.user, otp_code=None).access_key


@pytest.fixture
def keyed_owner(owner):
    issue_account_key(owner)
    return owner


@pytest.fixture
def project(keyed_owner) -> Project:
    return create_project(actor=keyed_owner.actor, name="sales_dw", description="Sales data")


def detail_url(project: Project) -> str:
    return reverse("projects:project-detail", args=[project.pk])


def action_url(name: str, project: Project) -> str:
    return reverse(f"projects:{name}", args=[project.pk])


# Permissions and Check permissions


@pytest.mark.parametrize("who", ["owner", "ram_user"])
def test_the_permissions_page_shows_every_operation_of_the_matrix(request, who):
    person = request.getfixturevalue(who)
    response = signed_in(person).get(reverse("projects:permissions"))
    assert response.status_code == 200
    page = text_of(response)
    for row in MATRIX:
        assert row.description in page, row.description
        assert row.channel_label in page
    assert len(re.findall(r"<tr data-operation=", page)) == len(MATRIX)
    for phrase in ("Project owner", "Not supported", "Project administrator and developer", "All roles"):
        assert phrase in page
    assert "The AccessKey pair is enabled for the Alibaba Cloud account." in page


def decisions_shown(page: str) -> dict[tuple[str, str], bool]:
    rows = re.findall(r'data-operation="([a-z_]+)" data-channel="([a-z]+)" data-allowed="(true|false)"', page)
    return {(operation, channel): allowed == "true" for operation, channel, allowed in rows}


def test_check_permissions_shows_the_decisions_of_check_permission(keyed_owner, project, ram_user):
    add_member(actor=keyed_owner.actor, project=project, ram_user=ram_user.ram_user, roles=[Role.DEV])
    client = signed_in(keyed_owner)
    url = reverse("projects:check-permissions")
    assert client.get(url).status_code == 200
    for who, user in (("alice", ram_user.user), ("owner", keyed_owner.user)):
        response = client.get(url, {"user": who, "project": project.pk})
        assert response.status_code == 200
        page = text_of(response)
        shown = decisions_shown(page)
        assert len(shown) == len(MATRIX)
        for row in MATRIX:
            decision = check_permission(user, project, row.operation, row.channel)
            assert shown[(row.operation, row.channel)] is decision.allowed, row
            assert decision.reason in page
    alice_page = text_of(client.get(url, {"user": "alice", "project": project.pk}))
    assert decisions_shown(alice_page)[("table_create", Channel.API.value)] is True
    assert decisions_shown(alice_page)[("quota_change", Channel.CONSOLE.value)] is False


def test_check_permissions_names_an_unknown_user(keyed_owner, project):
    response = signed_in(keyed_owner).get(
        reverse("projects:check-permissions"), {"user": "nobody", "project": project.pk}
    )
    assert response.status_code == 200
    assert "This account has no RAM user named “nobody”." in text_of(response)
    assert not decisions_shown(text_of(response))


def test_check_permissions_is_for_the_owner_and_ram_readers(project, ram_reader, ram_user):
    heading, page = heading_and_text(signed_in(ram_reader).get(reverse("projects:check-permissions")))
    assert heading == "Check permissions"
    assert f'<option value="{project.pk}">sales_dw</option>' in page  # the account's project, to check in
    assert '<option value="alice">' in page  # and its users, suggested
    assert signed_in(ram_user).get(reverse("projects:check-permissions")).status_code == 403


# Creating projects


def test_project_creation_is_refused_without_an_enabled_account_access_key_then_allowed(owner):
    client = signed_in(owner)
    url = reverse("projects:project-list")
    assert ACCESS_KEY_REASON in text_of(client.get(url))
    response = client.post(url, {"name": "sales_dw", "description": "Sales"})
    assert response.status_code == 403
    assert ACCESS_KEY_REASON in text_of(response)
    assert not Project.objects.exists()
    assert not AuditEvent.objects.filter(action="project.create").exists()

    issue_account_key(owner)
    assert 'name="name"' in client.get(url).content.decode()
    response = client.post(url, {"name": "sales_dw", "description": "Sales"})
    project = Project.objects.get(name="sales_dw")
    assert response.status_code == 302 and response.url == detail_url(project)
    assert project.account == owner.account and project.created_by == owner.account.principal
    event = AuditEvent.objects.get(action="project.create")
    assert (event.actor, event.target, event.channel) == (owner.account.principal, "sales_dw", "console")
    assert "sales_dw" in text_of(client.get(url))


def test_a_disabled_account_access_key_does_not_count(owner):
    key = issue_account_key(owner)
    AccessKey.objects.filter(pk=key.pk).update(status=AccessKey.Status.INACTIVE)
    response = signed_in(owner).post(reverse("projects:project-list"), {"name": "sales_dw"})
    assert response.status_code == 403 and ACCESS_KEY_REASON in text_of(response)


def test_a_bad_project_name_is_shown_beside_its_field(keyed_owner, project):
    client = signed_in(keyed_owner)
    for name, message in (("1abc", "a letter first"), ("SALES_DW", "already exists")):
        response = client.post(reverse("projects:project-list"), {"name": name})
        assert response.status_code == 200
        assert message in text_of(response)
    assert Project.objects.count() == 1


def test_a_ram_user_with_dataworks_full_access_creates_a_project_and_administers_it(keyed_owner):
    builder = make_ram_user(keyed_owner, "builder", policies=("AliyunDataWorksFullAccess",))
    client = signed_in(builder)
    response = client.post(reverse("projects:project-list"), {"name": "builder_prj"})
    project = Project.objects.get(name="builder_prj")
    assert response.status_code == 302
    assert project.account == keyed_owner.account and project.created_by == builder.ram_user.principal
    member = ProjectMember.objects.get(project=project, ram_user=builder.ram_user)
    assert list(member.roles.values_list("role", flat=True)) == [Role.ADMIN]
    assert AuditEvent.objects.get(action="project.create").details["creator_roles"] == [Role.ADMIN]
    page = text_of(client.get(detail_url(project)))
    assert builder.ram_user.principal in page and "Add Member" in page


def test_a_plain_ram_user_cannot_create_projects(keyed_owner, ram_user):
    client = signed_in(ram_user)
    url = reverse("projects:project-list")
    page = text_of(client.get(url))
    assert "AliyunDataWorksFullAccess" in page and 'name="name"' not in page
    response = client.post(url, {"name": "plain_prj"})
    assert response.status_code == 403
    assert "Creating projects needs the AliyunDataWorksFullAccess policy." in text_of(response)
    assert not Project.objects.exists()


# Members


def test_members_are_added_granted_revoked_and_removed_through_the_pages(keyed_owner, project, ram_user):
    client = signed_in(keyed_owner)
    alice = ram_user.ram_user
    start = last_event_id()
    response = client.post(action_url("add-member", project), {"ram_user": "alice", "roles": [Role.DEV]})
    assert response.status_code == 302 and response.url == detail_url(project) + "#members"
    member = ProjectMember.objects.get(project=project, ram_user=alice)
    assert set(member.roles.values_list("role", flat=True)) == {Role.DEV}
    page = text_of(client.get(detail_url(project)))
    assert alice.principal in page and f"RAM${keyed_owner.account.account_id}:alice" in page
    assert "Alice" in page and "role_project_dev" in page and ROLE_LABELS[Role.DEV] in page

    client.post(action_url("grant-role", project), {"ram_user": alice.pk, "role": Role.PE})
    assert set(member.roles.values_list("role", flat=True)) == {Role.DEV, Role.PE}

    # Remove is refused while roles remain, with the service's words, and changes nothing.
    confirmed = {"ram_user": alice.pk, "confirm": "alice"}
    response = client.post(action_url("remove-member", project), confirmed, follow=True)
    assert f"Revoke the roles of {alice.principal}" in text_of(response)
    assert ProjectMember.objects.filter(pk=member.pk).exists()

    for role in (Role.DEV, Role.PE):
        data = {"ram_user": alice.pk, "role": role, "confirm": role}
        assert client.post(action_url("revoke-role", project), data).status_code == 302
    assert not RoleGrant.objects.filter(member=member).exists()
    client.post(action_url("remove-member", project), {"ram_user": alice.pk, "confirm": "alice"})
    assert not ProjectMember.objects.filter(project=project).exists()
    assert actions_since(start) == [
        "project.member_add",
        "project.role_grant",
        "project.role_revoke",
        "project.role_revoke",
        "project.member_remove",
    ]
    events = AuditEvent.objects.filter(pk__gt=start)
    assert set(events.values_list("target", flat=True)) == {alice.principal}
    assert set(events.values_list("actor", flat=True)) == {keyed_owner.account.principal}
    assert events.get(action="project.member_add").details == {"project": "sales_dw", "roles": [Role.DEV]}


def test_add_member_errors_show_beside_the_field_and_change_nothing(keyed_owner, project, ram_user, other_ram_user):
    client = signed_in(keyed_owner)
    add_member(actor=keyed_owner.actor, project=project, ram_user=ram_user.ram_user, roles=[])
    start = last_event_id()
    for name, message in (
        ("nobody", "This account has no RAM user named “nobody”."),
        ("mallory", "This account has no RAM user named “mallory”."),  # another account's user
        ("alice", "alice is already a member of sales_dw."),
    ):
        response = client.post(action_url("add-member", project), {"ram_user": name, "roles": [Role.DEV]})
        assert response.status_code == 200
        assert message in text_of(response)
    assert ProjectMember.objects.count() == 1 and not RoleGrant.objects.exists()
    assert actions_since(start) == []


def test_a_member_of_another_project_cannot_be_changed_through_this_one(keyed_owner, project, ram_user):
    other = create_project(actor=keyed_owner.actor, name="ops_dw")
    add_member(actor=keyed_owner.actor, project=other, ram_user=ram_user.ram_user, roles=[Role.DEV])
    client = signed_in(keyed_owner)
    data = {"ram_user": ram_user.ram_user.pk, "role": Role.DEV, "confirm": Role.DEV}
    assert client.post(action_url("revoke-role", project), data).status_code == 404
    assert client.post(action_url("remove-member", project), data).status_code == 404
    assert RoleGrant.objects.filter(member__project=other).count() == 1


def test_a_developer_sees_the_project_but_cannot_manage_its_members(keyed_owner, project, ram_user):
    bob = make_ram_user(keyed_owner, "bob")
    client = signed_in(ram_user)
    assert client.get(detail_url(project)).status_code == 404  # not a member: not there
    assert "sales_dw" not in text_of(client.get(reverse("projects:project-list")))
    add_member(actor=keyed_owner.actor, project=project, ram_user=ram_user.ram_user, roles=[Role.DEV])
    page = text_of(client.get(detail_url(project)))
    assert "sales_dw" in text_of(client.get(reverse("projects:project-list")))
    assert "Needs one of these roles in sales_dw: Project administrator." in page
    assert "Only the project owner may do this" in page and 'name="quota"' not in page
    response = client.post(action_url("add-member", project), {"ram_user": "bob", "roles": [Role.ADMIN]})
    assert response.status_code == 403
    assert not ProjectMember.objects.filter(ram_user=bob.ram_user).exists()


def test_a_project_administrator_adds_members(keyed_owner, project, ram_user):
    bob = make_ram_user(keyed_owner, "bob")
    add_member(actor=keyed_owner.actor, project=project, ram_user=ram_user.ram_user, roles=[Role.ADMIN])
    response = signed_in(ram_user).post(action_url("add-member", project), {"ram_user": "bob", "roles": [Role.GUEST]})
    assert response.status_code == 302
    assert ProjectMember.objects.get(ram_user=bob.ram_user).roles.get().role == Role.GUEST
    assert AuditEvent.objects.get(action="project.member_add", target=bob.ram_user.principal).actor == (
        ram_user.ram_user.principal
    )


def test_a_foreign_project_answers_like_a_missing_one(project, other_owner):
    client = signed_in(other_owner)
    missing = Project.objects.order_by("-pk").first().pk + 1000
    for url in (detail_url(project), reverse("projects:project-detail", args=[missing])):
        response = client.get(url)
        assert response.status_code == 404
        assert "sales_dw" not in response.content.decode()
    assert "sales_dw" not in text_of(client.get(reverse("projects:project-list")))


def add_members(project: Project, count: int, *, start: int) -> None:
    """`count` RAM users in the project, each with two roles, fast: no password hashing, one insert per table."""
    users = User.objects.bulk_create([User(password=make_password(None)) for _ in range(count)])
    ram_users = RamUser.objects.bulk_create(
        RamUser(account=project.account, user=user, name=f"m{start + index:05d}", display_name=f"Member {index}")
        for index, user in enumerate(users)
    )
    members = ProjectMember.objects.bulk_create(
        ProjectMember(project=project, ram_user=ram_user, added_by="test") for ram_user in ram_users
    )
    RoleGrant.objects.bulk_create(
        RoleGrant(member=member, role=role, granted_by="test") for member in members for role in (Role.DEV, Role.PE)
    )


def test_the_member_page_runs_the_same_queries_for_5_and_500_members(keyed_owner, project):
    client = signed_in(keyed_owner)
    url = detail_url(project)
    client.get(url)  # warm up what is cached per process
    add_members(project, 5, start=0)
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert response.status_code == 200 and response.context["page"].paginator.count == 5
    add_members(project, 495, start=1000)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200 and response.context["page"].paginator.count == 500
    assert len(few) == len(many), f"{len(few)} queries for 5 members, {len(many)} for 500"
    page = text_of(response)
    assert f"RAM${keyed_owner.account.account_id}:m00000" in page and "role_project_pe" in page


# Settings, cross-project access, deleting a project


def test_the_owner_changes_the_settings_and_a_member_cannot(keyed_owner, project, ram_user):
    add_member(actor=keyed_owner.actor, project=project, ram_user=ram_user.ram_user, roles=[Role.ADMIN])
    url = action_url("update-project-settings", project)
    data = {"ip_whitelist": "10.0.0.0/8, 192.168.1.7", "is_data_protection_on": "on", "quota": "Subscription"}
    assert signed_in(ram_user).post(url, data).status_code == 403
    client = signed_in(keyed_owner)
    response = client.post(url, {**data, "ip_whitelist": "10.0.0.0/8 not-an-ip"})
    assert response.status_code == 200 and "“not-an-ip” is not an IP address or CIDR block." in text_of(response)
    assert client.post(url, data).status_code == 302
    project.refresh_from_db()
    assert project.ip_whitelist == ["10.0.0.0/8", "192.168.1.7/32"]
    assert project.is_data_protection_on and not project.is_full_table_scan_allowed
    assert project.quota == "Subscription"
    assert AuditEvent.objects.filter(action="project.settings").count() == 1


def test_the_owner_authorises_and_revokes_cross_project_access(keyed_owner, project, ram_admin):
    source = create_project(actor=keyed_owner.actor, name="ops_dw")
    client = signed_in(keyed_owner)
    assert client.post(action_url("authorize-cross-project", project), {"source": source.pk}).status_code == 302
    assert CrossProjectAccess.objects.filter(source=source, target=project).exists()
    assert "ops_dw" in text_of(client.get(detail_url(source)))
    # A RAM administrator is not the owner: refused, nothing changes.
    assert (
        signed_in(ram_admin).post(action_url("revoke-cross-project", project), {"source": source.pk}).status_code == 403
    )
    confirmed = {"source": source.pk, "confirm": "ops_dw"}
    assert client.post(action_url("revoke-cross-project", project), confirmed).status_code == 302
    assert not CrossProjectAccess.objects.exists()
    assert actions_since(0)[-2:] == ["project.cross_access_grant", "project.cross_access_revoke"]


def test_deleting_a_project_needs_its_name_typed(keyed_owner, project, ram_user):
    add_member(actor=keyed_owner.actor, project=project, ram_user=ram_user.ram_user, roles=[Role.DEV])
    client = signed_in(keyed_owner)
    url = action_url("delete-project", project)
    assert "1 member" in text_of(client.get(url))
    response = client.post(url, {"confirm_name": "sales"})
    assert response.status_code == 200 and "Type sales_dw exactly." in text_of(response)
    assert Project.objects.filter(pk=project.pk).exists()
    assert signed_in(ram_user).post(url, {"confirm_name": "sales_dw"}).status_code == 403
    response = client.post(url, {"confirm_name": "sales_dw"})
    assert response.status_code == 302 and response.url == reverse("projects:project-list")
    assert not Project.objects.exists() and not ProjectMember.objects.exists() and not RoleGrant.objects.exists()
    assert AuditEvent.objects.get(action="project.delete").details["removed_members"] == [ram_user.ram_user.principal]


# The no-orphan delete and the credential page


def test_the_delete_page_lists_memberships_and_the_one_action_revokes_removes_and_deletes(
    keyed_owner, project, ram_user
):
    second = create_project(actor=keyed_owner.actor, name="ops_dw")
    alice = ram_user.ram_user
    add_member(actor=keyed_owner.actor, project=project, ram_user=alice, roles=[Role.DEV, Role.ADMIN])
    add_member(actor=keyed_owner.actor, project=second, ram_user=alice, roles=[Role.GUEST])
    client = signed_in(keyed_owner)
    page = text_of(client.get(reverse("accounts:delete-user", args=[alice.pk])))
    action = reverse("projects:revoke-and-delete-user", args=[alice.pk])
    assert f'action="{action}"' in page
    assert "ops_dw" in page and "sales_dw" in page and "role_project_guest" in page and "role_project_admin" in page
    assert "Type the user name to confirm" in page and "Verification code" in page
    assert "Revoke all roles, leave every project and delete" in page

    start = last_event_id()
    response = client.post(action, {"confirm_name": "alice", "otp_code": keyed_owner.code()})
    assert response.status_code == 302 and response.url == reverse("accounts:user-list")
    assert not ProjectMember.objects.exists() and not RoleGrant.objects.exists()
    assert not RamUser.objects.filter(pk=alice.pk).exists()
    assert not User.objects.filter(pk=ram_user.user.pk).exists()
    assert actions_since(start) == ["project.member_remove_all", "ram_user.delete"]
    removed = AuditEvent.objects.get(action="project.member_remove_all").details["removed"]
    assert sorted(removed) == ["ops_dw: role_project_guest", "sales_dw: role_project_admin, role_project_dev"]
    assert "was deleted" in text_of(client.get(response.url))


def test_the_one_action_with_a_wrong_code_or_name_changes_nothing(keyed_owner, project, ram_user):
    alice = ram_user.ram_user
    add_member(actor=keyed_owner.actor, project=project, ram_user=alice, roles=[Role.DEV])
    client = signed_in(keyed_owner)
    action = reverse("projects:revoke-and-delete-user", args=[alice.pk])
    response = client.post(action, {"confirm_name": "alice", "otp_code": "000000"})
    assert response.status_code == 200
    assert "The verification code is wrong or has already been used." in text_of(response)
    response = client.post(action, {"confirm_name": "alicia", "otp_code": keyed_owner.code()})
    assert "Type alice exactly." in text_of(response)
    assert RoleGrant.objects.filter(member__ram_user=alice).count() == 1
    assert RamUser.objects.filter(pk=alice.pk).exists()


def test_the_delete_page_of_a_user_in_no_project_keeps_the_plain_delete(owner, ram_user):
    page = text_of(signed_in(owner).get(reverse("accounts:delete-user", args=[ram_user.ram_user.pk])))
    assert "Revoke all roles" not in page
    assert 'id="submit-id-submit"' in page


def test_a_read_only_ram_user_cannot_use_the_one_action(keyed_owner, project, ram_reader, ram_user):
    add_member(actor=keyed_owner.actor, project=project, ram_user=ram_user.ram_user, roles=[Role.DEV])
    action = reverse("projects:revoke-and-delete-user", args=[ram_user.ram_user.pk])
    assert signed_in(ram_reader).post(action, {"confirm_name": "alice", "otp_code": "123456"}).status_code == 403
    assert RoleGrant.objects.count() == 1


def test_my_credentials_shows_my_projects_roles_and_what_they_allow(keyed_owner, project, ram_user):
    add_member(actor=keyed_owner.actor, project=project, ram_user=ram_user.ram_user, roles=[Role.DEV])
    page = text_of(signed_in(ram_user).get(reverse("accounts:my-credentials")))
    projects_card = page[page.index('data-testid="my-projects"') :]
    assert "sales_dw" in projects_card and "role_project_dev" in projects_card and "Developer" in projects_card
    console = projects_card[projects_card.index('data-channel="console"') : projects_card.index('data-channel="api"')]
    for row in MATRIX:
        if row.channel == Channel.CONSOLE:
            allowed = check_permission(ram_user.user, project, row.operation, row.channel).allowed
            assert (f"<li>{row.description}</li>" in console) is allowed, row.description
    assert "<li>Table creation</li>" in console and "Quota change" not in console
