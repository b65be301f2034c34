"""The Groups pages (issue 17, item 1): "Create Group" (also sent twice), "Add Members", "Add Permissions", a group's
project roles, removing and deleting with their confirmations; and one member's rights through a group, read alike
by check_permission, the credential page, the delivery sheet, the RAM API and the MaxCompute API (pyodps)."""

import pytest
from django.test import Client
from django.urls import reverse
from odps import ODPS

from accounts.actors import operator_actor
from accounts.models import Group, GroupMembership, GroupPolicyAttachment
from accounts.services.access_keys import issue_access_key
from accounts.services.groups import add_to_group, attach_group_policy, create_group, remove_from_group
from accounts.sheets import delivery_sheet
from portal.models import AuditEvent
from projects.matrix import Channel
from projects.models import GroupRoleGrant
from projects.permissions import check_permission
from projects.services import grant_group_roles
from tests.api.conftest import signed_query
from tests.conftest import make_ram_user, signed_in
from tests.db_state import database_state
from tests.portal.test_visible_labels import fields_without_label


def group_url(name: str, group: Group, *args) -> str:
    return reverse(f"accounts:{name}", args=[group.pk, *args])


def test_create_group_then_its_page_and_a_repeated_submission_lands_there_too(owner):
    client = signed_in(owner)
    assert fields_without_label(client, reverse("accounts:create-group")) == []
    data = {"name": "data-eng", "display_name": "数据工程 Data", "comments": "Warehouse team"}
    first = client.post(reverse("accounts:create-group"), data)
    group = Group.objects.get(account=owner.account)
    assert first.status_code == 302 and first["Location"] == group_url("group-detail", group)
    again = client.post(reverse("accounts:create-group"), data)  # a double click, or the form sent again
    assert again.status_code == 302 and again["Location"] == group_url("group-detail", group)
    assert Group.objects.count() == 1 and AuditEvent.objects.filter(action="group.create").count() == 1

    other = client.post(reverse("accounts:create-group"), {**data, "comments": "Another team"})
    assert other.status_code == 200
    assert "A group with this name already exists" in other.content.decode()
    page = client.get(group_url("group-detail", group)).content.decode()
    assert "数据工程 Data" in page and "Warehouse team" in page and "Add Members" in page and "Add Permissions" in page
    assert fields_without_label(client, group_url("group-detail", group)) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "This field is required"), ("bad name", "Use 1–64 characters"), ("x" * 65, "Use 1–64 characters")],
)
def test_a_bad_group_name_is_told_and_changes_nothing(owner, name, message):
    client = signed_in(owner)
    before = database_state()
    answer = client.post(reverse("accounts:create-group"), {"name": name})
    assert answer.status_code == 200 and message in answer.content.decode()
    assert database_state() == before


def test_add_members_by_name_all_or_none(owner, settings):
    settings.PORTAL_MAX_GROUPS_PER_USER = 1
    alice, bob = make_ram_user(owner, "alice"), make_ram_user(owner, "Bob.Wang")
    group, other = create_group(actor=owner.actor, name="team"), create_group(actor=owner.actor, name="other")
    client = signed_in(owner)
    url = group_url("add-group-members", group)
    before = database_state()
    unknown = client.post(url, {"user_names": "alice, nobody"})
    assert unknown.status_code == 200 and "No RAM user is named nobody" in unknown.content.decode()
    assert database_state() == before

    added = client.post(url, {"user_names": "ALICE\nbob.wang"}, follow=True)  # names ignore case
    assert "Added to team: alice, Bob.Wang." in added.content.decode()
    assert set(GroupMembership.objects.values_list("ram_user__name", flat=True)) == {"alice", "Bob.Wang"}
    full = client.post(group_url("add-group-members", other), {"user_names": "alice"})
    assert full.status_code == 200 and "at most 1 groups" in full.content.decode()
    assert not GroupMembership.objects.filter(group=other).exists()
    assert alice.ram_user.pk and bob.ram_user.pk


def test_policies_via_a_group_show_on_the_member_s_pages(owner):
    alice = make_ram_user(owner, "alice")
    group = create_group(actor=owner.actor, name="readers")
    client = signed_in(owner)
    attach = client.post(group_url("attach-group-policy", group), {"policy_name": "AliyunRAMReadOnlyAccess"})
    assert attach.status_code == 302 and GroupPolicyAttachment.objects.get().policy_name == "AliyunRAMReadOnlyAccess"
    client.post(reverse("accounts:add-user-to-group", args=[alice.ram_user.pk]), {"group": group.pk})
    assert GroupMembership.objects.get().ram_user == alice.ram_user

    user_page = client.get(reverse("accounts:user-detail", args=[alice.ram_user.pk])).content.decode()
    assert 'data-testid="policy-via-group"><strong>AliyunRAMReadOnlyAccess</strong>' in user_page
    assert group_url("group-detail", group) in user_page
    own_page = signed_in(alice).get(reverse("accounts:my-credentials")).content.decode()
    assert "AliyunRAMReadOnlyAccess <span" in own_page and "(via group readers)" in own_page
    policies_page = client.get(reverse("accounts:policy-list")).content.decode()
    assert ">group readers</a>" in policies_page and "(1 member)" in policies_page
    # The member reads RAM now: the Users page opens for her.
    assert signed_in(alice).get(reverse("accounts:user-list")).status_code == 200


def test_remove_a_member_and_revoke_a_policy_ask_first(owner):
    alice = make_ram_user(owner, "alice")
    group = create_group(actor=owner.actor, name="readers")
    attach_group_policy(actor=owner.actor, group=group, policy_name="AliyunRAMReadOnlyAccess")
    add_to_group(actor=owner.actor, group=group, ram_user=alice.ram_user)
    client = signed_in(owner)
    before = database_state()
    asked = client.get(group_url("remove-group-member", group, alice.ram_user.pk)).content.decode()
    assert "Remove alice from readers" in asked and "AliyunRAMReadOnlyAccess" in asked
    assert client.post(group_url("remove-group-member", group, alice.ram_user.pk)).status_code == 200  # unconfirmed
    assert database_state() == before
    client.post(group_url("remove-group-member", group, alice.ram_user.pk), {"confirm": "alice"})
    assert not GroupMembership.objects.exists()

    asked = client.get(group_url("detach-group-policy", group, "AliyunRAMReadOnlyAccess")).content.decode()
    assert "Revoke AliyunRAMReadOnlyAccess from the group readers" in asked
    client.post(
        group_url("detach-group-policy", group, "AliyunRAMReadOnlyAccess"), {"confirm": "AliyunRAMReadOnlyAccess"}
    )
    assert not GroupPolicyAttachment.objects.exists()


def test_a_group_s_project_roles_granted_revoked_and_deleted_with_it(owner, project):
    alice = make_ram_user(owner, "alice")
    group = create_group(actor=owner.actor, name="developers")
    add_to_group(actor=owner.actor, group=group, ram_user=alice.ram_user)
    client = signed_in(owner)
    page = client.get(group_url("group-detail", group)).content.decode()
    assert "Grant roles" in page and "sales_dw" in page
    granted = client.post(
        reverse("projects:grant-group-roles", args=[group.pk]), {"project": project.pk, "roles": ["role_project_dev"]}
    )
    assert granted.status_code == 302
    assert list(GroupRoleGrant.objects.values_list("role", flat=True)) == ["role_project_dev"]
    assert check_permission(alice.user, project, "table_create", Channel.CONSOLE)
    nothing = client.post(reverse("projects:grant-group-roles", args=[group.pk]), {"project": project.pk}, follow=True)
    assert "Roles: Choose at least one role." in nothing.content.decode()

    revoke_url = reverse("projects:revoke-group-role", args=[group.pk]) + f"?project={project.pk}&role=role_project_dev"
    asked = client.get(revoke_url).content.decode()
    assert "Revoke role_project_dev in sales_dw from the group developers" in asked
    client.post(
        reverse("projects:revoke-group-role", args=[group.pk]),
        {"project": project.pk, "role": "role_project_dev", "confirm": "sales_dw:role_project_dev"},
    )
    assert not GroupRoleGrant.objects.exists()

    grant_group_roles(actor=owner.actor, project=project, group=group, roles=["role_project_pe"])
    asked = client.get(group_url("delete-group", group)).content.decode()
    assert (
        "Its 1 member leaves the group" in asked and "Its 1 project role are revoked" in asked
    ) or "1 project role" in asked
    client.post(group_url("delete-group", group), {"confirm": "developers"})
    assert not Group.objects.exists() and not GroupRoleGrant.objects.exists() and not GroupMembership.objects.exists()
    assert AuditEvent.objects.get(action="group.delete").details["revoked_project_roles"] == [
        "sales_dw: role_project_pe"
    ]


def test_a_reader_sees_groups_without_their_buttons(owner, ram_reader):
    group = create_group(actor=owner.actor, name="readers")
    client = signed_in(ram_reader)
    listing = client.get(reverse("accounts:group-list")).content.decode()
    assert ">readers</a>" in listing and "Create Group" not in listing
    page = client.get(group_url("group-detail", group)).content.decode()
    assert "Add Members" not in page and "Add Permissions" not in page and "Delete" not in page


# --- One member's rights, read alike everywhere ----------------------------------------------------------------------


def test_rights_through_a_group_agree_everywhere(transactional_db, live_server, owner, project):
    """check_permission, the credential page, the delivery sheet, the RAM API and pyodps's show grants all say the
    same of alice's group-given rights, and where they come from; and all stop saying it when she leaves."""
    alice = make_ram_user(owner, "alice")
    alice_key = issue_access_key(actor=operator_actor(owner.account), holder=alice.user, otp_code=None)
    key = (alice_key.access_key.access_key_id, alice_key.secret)
    owner_key = issue_access_key(actor=operator_actor(owner.account), holder=owner.user, otp_code=None)
    group = create_group(actor=owner.actor, name="developers")
    attach_group_policy(actor=owner.actor, group=group, policy_name="AliyunRAMReadOnlyAccess")
    grant_group_roles(actor=owner.actor, project=project, group=group, roles=["role_project_dev"])
    add_to_group(actor=owner.actor, group=group, ram_user=alice.ram_user)
    odps = ODPS(
        owner_key.access_key.access_key_id, owner_key.secret, project="sales_dw", endpoint=f"{live_server.url}/api"
    )
    principal = alice.ram_user.principal

    def api_lists_users() -> str:
        answer = Client().post(f"/?{signed_query(*key, {'Action': 'ListUsers', 'Version': '2015-05-01'})}")
        return answer.json().get("Code", "OK")

    decision = check_permission(alice.user, project, "table_create", Channel.API)
    assert decision and "Developer" in decision.reason
    page = signed_in(alice).get(reverse("accounts:my-credentials")).content.decode()
    assert "(via group developers)" in page and "role_project_dev" in page
    [section] = delivery_sheet(alice.ram_user).sections
    assert "Roles: role_project_dev (Developer, via group developers)" in section.lines
    assert api_lists_users() == "OK"
    grants = odps.run_security_query(f"show grants for {principal}")
    assert grants["Roles"] == ["role_project_dev"]
    assert grants["RoleSources"] == {"role_project_dev": "via group developers"}
    assert "table_create" in {entry["Operation"] for entry in grants["Allowed"]}

    remove_from_group(actor=owner.actor, group=group, ram_user=alice.ram_user)
    assert not check_permission(alice.user, project, "table_create", Channel.API)
    page = signed_in(alice).get(reverse("accounts:my-credentials")).content.decode()
    assert "via group developers" not in page and "role_project_dev" not in page
    assert delivery_sheet(alice.ram_user).sections == ()
    assert api_lists_users() == "NoPermission"
    grants = odps.run_security_query(f"show grants for {principal}")
    assert grants["Roles"] == [] and grants["RoleSources"] == {}
