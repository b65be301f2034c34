"""User groups through the RAM OpenAPI (issue 17, item 1), with the official `alibabacloud-ram20150501` SDK and both
of its signatures: every group action, RAM's limits and error codes, and rights that a member's own AccessKey holds
through its group."""

import pytest
from alibabacloud_ram20150501 import models as ram
from Tea.exceptions import TeaException

from accounts.models import Group, GroupMembership, GroupPolicyAttachment
from accounts.services.groups import add_to_group, attach_group_policy, create_group
from portal.models import AuditEvent
from tests.api.conftest import issue_key, ram_client
from tests.conftest import make_ram_user
from tests.db_state import database_state


@pytest.fixture(params=["acs3", "v2"])
def algorithm(request):
    return None if request.param == "acs3" else "v2"


def refused(call) -> str:
    with pytest.raises(TeaException) as error:
        call()
    return error.value.code


def test_a_group_s_life_through_the_sdk(sdk, owner):
    make_ram_user(owner, "alice")
    created = sdk.create_group(ram.CreateGroupRequest(group_name="Data-Eng", comments="The warehouse team")).body.group
    assert (created.group_name, created.comments) == ("Data-Eng", "The warehouse team")
    assert created.group_id and created.create_date
    got = sdk.get_group(ram.GetGroupRequest(group_name="data-eng")).body.group  # names ignore case, as RAM's
    assert got.group_id == created.group_id and got.update_date

    updated = sdk.update_group(
        ram.UpdateGroupRequest(group_name="Data-Eng", new_group_name="analytics", new_comments="Renamed")
    ).body.group
    assert (updated.group_name, updated.comments) == ("analytics", "Renamed")
    assert Group.objects.get(account=owner.account).name == "analytics"

    sdk.add_user_to_group(ram.AddUserToGroupRequest(group_name="analytics", user_name="alice"))
    users = sdk.list_users_for_group(ram.ListUsersForGroupRequest(group_name="analytics")).body
    assert [(user.user_name, user.display_name) for user in users.users.user] == [("alice", "Alice")]
    assert users.users.user[0].join_date and users.is_truncated is False
    groups = sdk.list_groups_for_user(ram.ListGroupsForUserRequest(user_name="alice")).body.groups.group
    assert [(group.group_name, group.comments) for group in groups] == [("analytics", "Renamed")]

    sdk.attach_policy_to_group(
        ram.AttachPolicyToGroupRequest(
            policy_type="System", policy_name="AliyunRAMReadOnlyAccess", group_name="analytics"
        )
    )
    policies = sdk.list_policies_for_group(ram.ListPoliciesForGroupRequest(group_name="analytics")).body
    assert [(policy.policy_name, policy.policy_type) for policy in policies.policies.policy] == [
        ("AliyunRAMReadOnlyAccess", "System")
    ]
    entities = sdk.list_entities_for_policy(
        ram.ListEntitiesForPolicyRequest(policy_type="System", policy_name="AliyunRAMReadOnlyAccess")
    ).body
    assert [group.group_name for group in entities.groups.group] == ["analytics"]
    assert entities.users.user == []  # alice holds it through the group, not herself

    sdk.detach_policy_from_group(
        ram.DetachPolicyFromGroupRequest(
            policy_type="System", policy_name="AliyunRAMReadOnlyAccess", group_name="analytics"
        )
    )
    sdk.remove_user_from_group(ram.RemoveUserFromGroupRequest(group_name="analytics", user_name="alice"))
    sdk.delete_group(ram.DeleteGroupRequest(group_name="analytics"))
    assert not Group.objects.exists()
    actions = list(
        AuditEvent.objects.filter(channel="api", action__startswith="group.").values_list("action", flat=True)
    )
    assert sorted(actions) == sorted(
        [
            "group.create",
            "group.update",
            "group.member_add",
            "group.policy_attach",
            "group.policy_detach",
            "group.member_remove",
            "group.delete",
        ]
    )


def test_groups_and_members_are_listed_in_pages(sdk, owner):
    for name in ("a-team", "b-team", "c-team"):
        group = create_group(actor=owner.actor, name=name)
    for name in ("xavier", "yara", "zoe"):
        add_to_group(actor=owner.actor, group=group, ram_user=make_ram_user(owner, name).ram_user)
    first = sdk.list_groups(ram.ListGroupsRequest(max_items=2)).body
    assert [group.group_name for group in first.groups.group] == ["a-team", "b-team"] and first.is_truncated
    rest = sdk.list_groups(ram.ListGroupsRequest(max_items=2, marker=first.marker)).body
    assert [group.group_name for group in rest.groups.group] == ["c-team"] and not rest.is_truncated
    members = sdk.list_users_for_group(ram.ListUsersForGroupRequest(group_name="c-team", max_items=2)).body
    assert [user.user_name for user in members.users.user] == ["xavier", "yara"] and members.is_truncated
    more = sdk.list_users_for_group(
        ram.ListUsersForGroupRequest(group_name="c-team", max_items=2, marker=members.marker)
    ).body
    assert [user.user_name for user in more.users.user] == ["zoe"]


def test_a_member_s_own_key_holds_the_group_s_policy(live_server, owner, owner_sdk, algorithm):
    alice = make_ram_user(owner, "alice")
    alice_sdk = ram_client(live_server, *issue_key(alice), signature_algorithm=algorithm)
    assert refused(lambda: alice_sdk.list_users(ram.ListUsersRequest())) == "NoPermission"
    readers = create_group(actor=owner.actor, name="readers")
    attach_group_policy(actor=owner.actor, group=readers, policy_name="AliyunRAMReadOnlyAccess")
    owner_sdk.add_user_to_group(ram.AddUserToGroupRequest(group_name="readers", user_name="alice"))
    assert [user.user_name for user in alice_sdk.list_users(ram.ListUsersRequest()).body.users.user] == ["alice"]
    assert refused(lambda: alice_sdk.create_group(ram.CreateGroupRequest(group_name="mine"))) == "NoPermission"
    # Its own groups it may read, as its own policies.
    own = alice_sdk.list_groups_for_user(ram.ListGroupsForUserRequest(user_name="alice")).body.groups.group
    assert [group.group_name for group in own] == ["readers"]
    owner_sdk.remove_user_from_group(ram.RemoveUserFromGroupRequest(group_name="readers", user_name="alice"))
    assert refused(lambda: alice_sdk.list_users(ram.ListUsersRequest())) == "NoPermission"


def test_group_errors_in_ram_s_codes_change_nothing(sdk, owner, settings):
    settings.PORTAL_MAX_GROUPS_PER_USER = 1
    settings.PORTAL_MAX_GROUPS = 3
    make_ram_user(owner, "alice")
    make_ram_user(owner, "bob")
    team = create_group(actor=owner.actor, name="team")
    create_group(actor=owner.actor, name="other")
    add_to_group(actor=owner.actor, group=team, ram_user=make_ram_user(owner, "carol", console_logon=False).ram_user)
    attach_group_policy(actor=owner.actor, group=team, policy_name="AliyunRAMReadOnlyAccess")
    sdk.add_user_to_group(ram.AddUserToGroupRequest(group_name="team", user_name="alice"))
    system = "System"
    before = database_state()
    for call, code in (
        (lambda: sdk.create_group(ram.CreateGroupRequest(group_name="TEAM")), "EntityAlreadyExists.Group"),
        (lambda: sdk.create_group(ram.CreateGroupRequest(group_name="bad name")), "InvalidParameter.GroupName"),
        (lambda: sdk.create_group(ram.CreateGroupRequest(group_name="x" * 65)), "InvalidParameter.GroupName"),
        (lambda: sdk.create_group(ram.CreateGroupRequest()), "MissingParameter.GroupName"),
        (lambda: sdk.get_group(ram.GetGroupRequest(group_name="nobody")), "EntityNotExist.Group"),
        (
            lambda: sdk.update_group(ram.UpdateGroupRequest(group_name="team", new_group_name="Other")),
            "EntityAlreadyExists.Group",
        ),
        (
            lambda: sdk.add_user_to_group(ram.AddUserToGroupRequest(group_name="nobody", user_name="bob")),
            "EntityNotExist.Group",
        ),
        (
            lambda: sdk.add_user_to_group(ram.AddUserToGroupRequest(group_name="team", user_name="nobody")),
            "EntityNotExist.User",
        ),
        (
            lambda: sdk.add_user_to_group(ram.AddUserToGroupRequest(group_name="team", user_name="alice")),
            "EntityAlreadyExists.User.Group",
        ),
        (
            lambda: sdk.add_user_to_group(ram.AddUserToGroupRequest(group_name="other", user_name="alice")),
            "LimitExceeded.User.Group",
        ),
        (
            lambda: sdk.remove_user_from_group(ram.RemoveUserFromGroupRequest(group_name="other", user_name="bob")),
            "EntityNotExist.User.Group",
        ),
        (lambda: sdk.delete_group(ram.DeleteGroupRequest(group_name="team")), "DeleteConflict.Group.User"),
        (lambda: sdk.delete_user(ram.DeleteUserRequest(user_name="carol")), "DeleteConflict.User.Group"),
        (
            lambda: sdk.attach_policy_to_group(
                ram.AttachPolicyToGroupRequest(
                    policy_type=system, policy_name="AliyunRAMReadOnlyAccess", group_name="team"
                )
            ),
            "EntityAlreadyExists.Group.Policy",
        ),
        (
            lambda: sdk.detach_policy_from_group(
                ram.DetachPolicyFromGroupRequest(
                    policy_type=system, policy_name="AdministratorAccess", group_name="team"
                )
            ),
            "EntityNotExist.Group.Policy",
        ),
        (
            lambda: sdk.attach_policy_to_group(
                ram.AttachPolicyToGroupRequest(policy_type=system, policy_name="NoSuchPolicy", group_name="team")
            ),
            "EntityNotExist.Policy",
        ),
        (
            lambda: sdk.list_entities_for_policy(
                ram.ListEntitiesForPolicyRequest(policy_type="Custom", policy_name="Mine")
            ),
            "EntityNotExist.Policy",
        ),
    ):
        assert refused(call) == code
    assert database_state() == before

    create_group(actor=owner.actor, name="third")
    assert refused(lambda: sdk.create_group(ram.CreateGroupRequest(group_name="fourth"))) == "LimitExceeded.Group"
    sdk.remove_user_from_group(ram.RemoveUserFromGroupRequest(group_name="team", user_name="alice"))
    sdk.remove_user_from_group(ram.RemoveUserFromGroupRequest(group_name="team", user_name="carol"))
    assert refused(lambda: sdk.delete_group(ram.DeleteGroupRequest(group_name="team"))) == "DeleteConflict.Group.Policy"
    assert GroupMembership.objects.filter(group=team).count() == 0
    assert GroupPolicyAttachment.objects.filter(group=team).count() == 1


def test_a_reader_reads_groups_and_changes_none(live_server, owner, algorithm):
    reader = make_ram_user(owner, "reader", policies=("AliyunRAMReadOnlyAccess",))
    create_group(actor=owner.actor, name="team")
    reader_sdk = ram_client(live_server, *issue_key(reader), signature_algorithm=algorithm)
    assert [group.group_name for group in reader_sdk.list_groups(ram.ListGroupsRequest()).body.groups.group] == ["team"]
    before = database_state()
    assert refused(lambda: reader_sdk.create_group(ram.CreateGroupRequest(group_name="mine"))) == "NoPermission"
    assert refused(lambda: reader_sdk.delete_group(ram.DeleteGroupRequest(group_name="team"))) == "NoPermission"
    assert database_state() == before
