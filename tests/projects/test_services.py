from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db.models import ProtectedError

from accounts.actors import operator_actor
from accounts.models import RamUser
from accounts.services.access_keys import issue_access_key
from accounts.services.ram_users import DeleteConflict, delete_ram_user
from portal.models import AuditEvent
from projects import services
from projects.matrix import Role
from projects.models import Project, ProjectMember, RoleGrant
from projects.services import (
    add_member,
    create_project,
    delete_project,
    remove_member,
    revoke_everything_and_delete_user,
    revoke_roles,
    update_project_settings,
)
from tests.conftest import make_ram_user

ALL_SIX = [role.value for role in Role]


@pytest.fixture
def keyed_owner(owner):
    issue_access_key(actor=operator_actor(owner.account), holder=owner.user, otp_code=None)
    return owner


@pytest.fixture
def project(keyed_owner):
    return create_project(actor=keyed_owner.actor, name="sales_dw", description="Sales")


def test_project_creation_without_an_enabled_account_access_key_is_refused_with_that_reason(owner):
    with pytest.raises(PermissionDenied, match="AccessKey pair is not enabled for the Alibaba Cloud account"):
        create_project(actor=owner.actor, name="sales_dw")
    assert not Project.objects.exists() and not AuditEvent.objects.filter(action="project.create").exists()


def test_the_owner_creates_a_project_it_owns(keyed_owner):
    project = create_project(actor=keyed_owner.actor, name="Sales_DW", description="Sales")
    assert project.account == keyed_owner.account and project.created_by == keyed_owner.account.principal
    assert AuditEvent.objects.get(action="project.create").target == "Sales_DW"


@pytest.mark.parametrize("name", ["ab", "1sales", "sales-dw", "s" * 29, "", "sales dw"])
def test_project_names_follow_the_rules(keyed_owner, name):
    with pytest.raises(ValidationError):
        create_project(actor=keyed_owner.actor, name=name)
    assert not Project.objects.exists()


def test_project_names_are_unique_ignoring_case(project, keyed_owner, other_owner):
    issue_access_key(actor=operator_actor(other_owner.account), holder=other_owner.user, otp_code=None)
    with pytest.raises(ValidationError, match="already exists"):
        create_project(actor=other_owner.actor, name="SALES_DW")


def test_ram_users_need_the_dataworks_policy_to_create_projects(keyed_owner):
    plain = make_ram_user(keyed_owner, "plain")
    builder = make_ram_user(keyed_owner, "builder", policies=("AliyunDataWorksFullAccess",))
    with pytest.raises(PermissionDenied, match="AliyunDataWorksFullAccess"):
        create_project(actor=plain.actor, name="plain_prj")
    assert create_project(actor=builder.actor, name="builder_prj").created_by == builder.ram_user.principal


def test_members_join_get_roles_and_leave_only_without_roles(project, keyed_owner, ram_user):
    add_member(actor=keyed_owner.actor, project=project, ram_user=ram_user.ram_user, roles=[Role.DEV])
    with pytest.raises(ValidationError, match="Revoke the roles"):
        remove_member(actor=keyed_owner.actor, project=project, ram_user=ram_user.ram_user)
    assert ProjectMember.objects.filter(project=project).count() == 1
    assert revoke_roles(actor=keyed_owner.actor, project=project, ram_user=ram_user.ram_user, roles=ALL_SIX) == [
        Role.DEV.value
    ]
    remove_member(actor=keyed_owner.actor, project=project, ram_user=ram_user.ram_user)
    assert not ProjectMember.objects.exists()
    actions = list(AuditEvent.objects.filter(action__startswith="project.").values_list("action", flat=True))
    assert sorted(actions) == ["project.create", "project.member_add", "project.member_remove", "project.role_revoke"]


def test_members_come_from_the_same_account(project, keyed_owner, other_ram_user):
    with pytest.raises(PermissionDenied):
        add_member(actor=keyed_owner.actor, project=project, ram_user=other_ram_user.ram_user, roles=[Role.DEV])
    assert not ProjectMember.objects.exists()


def test_a_project_administrator_manages_members_and_a_developer_does_not(project, keyed_owner, ram_user):
    admin = make_ram_user(keyed_owner, "prjadmin")
    add_member(actor=keyed_owner.actor, project=project, ram_user=admin.ram_user, roles=[Role.ADMIN])
    add_member(actor=keyed_owner.actor, project=project, ram_user=ram_user.ram_user, roles=[Role.DEV])
    bob = make_ram_user(keyed_owner, "bob")
    add_member(actor=admin.actor, project=project, ram_user=bob.ram_user, roles=[Role.GUEST])
    with pytest.raises(PermissionDenied, match="Project administrator"):
        revoke_roles(actor=ram_user.actor, project=project, ram_user=bob.ram_user, roles=[Role.GUEST])
    assert RoleGrant.objects.filter(member__ram_user=bob.ram_user).count() == 1


def test_owner_only_settings(project, keyed_owner, ram_user):
    add_member(actor=keyed_owner.actor, project=project, ram_user=ram_user.ram_user, roles=[Role.ADMIN])
    with pytest.raises(PermissionDenied, match="Only the project owner"):
        update_project_settings(actor=ram_user.actor, project=project, values={"is_full_table_scan_allowed": True})
    updated = update_project_settings(
        actor=keyed_owner.actor,
        project=project,
        values={"ip_whitelist": ["10.0.0.1", "10.1.0.0/16"], "is_data_protection_on": True},
    )
    assert updated.ip_whitelist == ["10.0.0.1/32", "10.1.0.0/16"] and updated.is_data_protection_on
    with pytest.raises(ValidationError, match="not an IP address"):
        update_project_settings(actor=keyed_owner.actor, project=project, values={"ip_whitelist": ["nope"]})


def test_deleting_a_project_removes_its_memberships(project, keyed_owner, ram_user):
    add_member(actor=keyed_owner.actor, project=project, ram_user=ram_user.ram_user, roles=[Role.DEV, Role.PE])
    delete_project(actor=keyed_owner.actor, project=project)
    assert not Project.objects.exists() and not ProjectMember.objects.exists() and not RoleGrant.objects.exists()
    assert AuditEvent.objects.get(action="project.delete").details["removed_members"] == [ram_user.ram_user.principal]


def test_a_member_can_never_be_deleted_from_under_a_project(project, keyed_owner, ram_user):
    add_member(actor=keyed_owner.actor, project=project, ram_user=ram_user.ram_user, roles=ALL_SIX)
    with pytest.raises(DeleteConflict) as conflict:
        delete_ram_user(actor=keyed_owner.actor, ram_user=ram_user.ram_user, otp_code=keyed_owner.code())
    assert conflict.value.blockers == ["membership of project sales_dw"]
    # Even the database refuses: no path leaves the seed's "p4_…" orphan.
    with pytest.raises(ProtectedError):
        RamUser.objects.get(pk=ram_user.ram_user.pk).delete()
    assert RamUser.objects.filter(pk=ram_user.ram_user.pk).exists()


def test_one_action_revokes_every_role_leaves_every_project_and_deletes(project, keyed_owner, ram_user):
    second = create_project(actor=keyed_owner.actor, name="ops_dw")
    add_member(actor=keyed_owner.actor, project=project, ram_user=ram_user.ram_user, roles=ALL_SIX)
    add_member(actor=keyed_owner.actor, project=second, ram_user=ram_user.ram_user, roles=[Role.GUEST])
    removed = revoke_everything_and_delete_user(
        actor=keyed_owner.actor, ram_user=ram_user.ram_user, otp_code=keyed_owner.code()
    )
    assert sorted(removed) == sorted([f"sales_dw: {', '.join(sorted(ALL_SIX))}", "ops_dw: role_project_guest"])
    assert not RamUser.objects.filter(pk=ram_user.ram_user.pk).exists()
    assert not ProjectMember.objects.exists() and not RoleGrant.objects.exists()
    events = AuditEvent.objects.filter(
        target=ram_user.ram_user.principal, action__in=["project.member_remove_all", "ram_user.delete"]
    )
    assert sorted(events.values_list("action", flat=True)) == ["project.member_remove_all", "ram_user.delete"]
    assert len(set(events.values_list("request_id", flat=True))) == 1


def test_a_failure_in_the_middle_leaves_everything_as_it_was(project, keyed_owner, ram_user, monkeypatch):
    add_member(actor=keyed_owner.actor, project=project, ram_user=ram_user.ram_user, roles=[Role.DEV, Role.PE])
    events_before = AuditEvent.objects.count()

    def fail(**kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(services, "delete_ram_user", fail)
    with pytest.raises(RuntimeError):
        revoke_everything_and_delete_user(
            actor=keyed_owner.actor, ram_user=ram_user.ram_user, otp_code=keyed_owner.code()
        )
    assert RamUser.objects.filter(pk=ram_user.ram_user.pk).exists()
    assert sorted(RoleGrant.objects.values_list("role", flat=True)) == [Role.DEV.value, Role.PE.value]
    assert ProjectMember.objects.count() == 1
    assert AuditEvent.objects.count() == events_before


def test_a_wrong_code_changes_nothing_and_counts_as_a_failure(project, keyed_owner, ram_user):
    add_member(actor=keyed_owner.actor, project=project, ram_user=ram_user.ram_user, roles=[Role.DEV])
    with pytest.raises(ValidationError):
        revoke_everything_and_delete_user(actor=keyed_owner.actor, ram_user=ram_user.ram_user, otp_code="000000")
    assert RoleGrant.objects.count() == 1 and RamUser.objects.filter(pk=ram_user.ram_user.pk).exists()
    assert AuditEvent.objects.filter(action="otp.failed").count() == 1


def test_operator_commands_create_projects_and_add_members(keyed_owner, ram_user):
    out = StringIO()
    call_command("create_project", account=keyed_owner.account.account_id, name="cli_prj", description="x", stdout=out)
    assert "Created project cli_prj" in out.getvalue()
    call_command("add_member", project="cli_prj", user="alice", role="role_project_dev,role_project_pe", stdout=out)
    grants = RoleGrant.objects.filter(member__project__name="cli_prj", member__ram_user=ram_user.ram_user)
    assert sorted(grants.values_list("role", flat=True)) == ["role_project_dev", "role_project_pe"]
    events = AuditEvent.objects.filter(channel="command", action__in=["project.create", "project.member_add"])
    assert events.count() == 2


def test_operator_commands_refuse_bad_input(keyed_owner, ram_user):
    with pytest.raises(CommandError, match="no primary account"):
        call_command("create_project", account="0" * 16, name="x_prj")
    with pytest.raises(CommandError, match="Use 3–28 characters"):
        call_command("create_project", account=keyed_owner.account.account_id, name="x")
    call_command("create_project", account=keyed_owner.account.account_id, name="cli_prj", stdout=StringIO())
    with pytest.raises(CommandError, match="Unknown role"):
        call_command("add_member", project="cli_prj", user="alice", role="role_project_boss")
    with pytest.raises(CommandError, match="no RAM user named ghost"):
        call_command("add_member", project="cli_prj", user="ghost", role="role_project_dev")
    assert not ProjectMember.objects.exists()
