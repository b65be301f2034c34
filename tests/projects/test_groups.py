"""User groups (issue 17, item 1): RAM's name rules and limits, rights that members hold through their groups (and
lose with them), deletion that leaves nothing behind, and the same rules under concurrent changes."""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections

from accounts.models import Group, GroupMembership, GroupPolicyAttachment, RamUser
from accounts.permissions import can_read_ram, can_write_ram
from accounts.rights import DIRECT, policy_sources, policy_sources_of, source_words
from accounts.services.groups import (
    add_to_group,
    add_users_to_group,
    attach_group_policy,
    create_group,
    delete_group,
    detach_group_policy,
    remove_from_group,
    update_group,
)
from accounts.services.policies import attach_policy
from accounts.services.ram_users import delete_ram_user
from portal.models import AuditEvent
from projects.models import GroupRoleGrant
from projects.permissions import check_permission
from projects.rights import project_role_sources, role_sources
from projects.services import delete_project, grant_group_roles, revoke_group_roles
from tests.conftest import make_owner, make_ram_user
from tests.db_state import database_state


def fresh(person):
    """The person's user as a new request would load it (no cached rights)."""
    return RamUser.objects.get(pk=person.ram_user.pk).user


def codes(error: ValidationError) -> set[str]:
    if hasattr(error, "error_dict"):
        return {item.code for items in error.error_dict.values() for item in items}
    return {item.code for item in error.error_list}


@pytest.mark.parametrize("name", ["", "a" * 65, "data eng", "data/eng", "数据组", "ops\n"])
def test_a_group_name_follows_ram_s_rules(owner, name):
    before = database_state()
    with pytest.raises(ValidationError) as refused:
        create_group(actor=owner.actor, name=name)
    assert "name" in refused.value.message_dict
    assert database_state() == before


def test_group_names_are_unique_per_account_ignoring_case(owner, other_owner):
    create_group(actor=owner.actor, name="Data-Eng", display_name="数据工程", comments="The warehouse team")
    with pytest.raises(ValidationError) as refused:
        create_group(actor=owner.actor, name="data-eng")
    assert codes(refused.value) == {"group_taken"}
    create_group(actor=other_owner.actor, name="data-eng")  # another account's names are its own
    assert Group.objects.get(account=owner.account).display_name == "数据工程"


def test_the_account_s_group_limit(owner, settings):
    settings.PORTAL_MAX_GROUPS = 2
    create_group(actor=owner.actor, name="a")
    create_group(actor=owner.actor, name="b")
    with pytest.raises(ValidationError) as refused:
        create_group(actor=owner.actor, name="c")
    assert codes(refused.value) == {"group_limit"}


def test_only_ram_administrators_change_groups(owner, ram_reader):
    group = create_group(actor=owner.actor, name="data-eng")
    before = database_state()
    for change in (
        lambda: create_group(actor=ram_reader.actor, name="other"),
        lambda: attach_group_policy(actor=ram_reader.actor, group=group, policy_name="AdministratorAccess"),
        lambda: add_to_group(actor=ram_reader.actor, group=group, ram_user=ram_reader.ram_user),
        lambda: delete_group(actor=ram_reader.actor, group=group, with_everything=True),
    ):
        with pytest.raises(PermissionDenied):
            change()
    assert database_state() == before


def test_another_account_s_group_cannot_be_touched(owner, other_owner):
    theirs = create_group(actor=other_owner.actor, name="theirs")
    alice = make_ram_user(owner, "alice")
    with pytest.raises(ValidationError):
        add_to_group(actor=owner.actor, group=theirs, ram_user=alice.ram_user)
    with pytest.raises(ValidationError):
        delete_group(actor=owner.actor, group=theirs, with_everything=True)
    assert Group.objects.filter(pk=theirs.pk).exists()


def test_renaming_a_group_keeps_its_members_and_is_audited(owner):
    group = create_group(actor=owner.actor, name="data-eng")
    alice = make_ram_user(owner, "alice")
    add_to_group(actor=owner.actor, group=group, ram_user=alice.ram_user)
    create_group(actor=owner.actor, name="taken")
    with pytest.raises(ValidationError) as refused:
        update_group(actor=owner.actor, group=group, name="TAKEN", display_name="", comments="")
    assert codes(refused.value) == {"group_taken"}
    renamed = update_group(actor=owner.actor, group=group, name="analytics", display_name="Analytics", comments="")
    assert renamed.memberships.get().ram_user == alice.ram_user
    event = AuditEvent.objects.get(action="group.update")
    assert event.target == "group data-eng" and event.details["new_name"] == "analytics"


def test_members_hold_the_group_s_policies_and_lose_them_with_it(owner):
    alice, bob = make_ram_user(owner, "alice"), make_ram_user(owner, "bob")
    group = create_group(actor=owner.actor, name="admins")
    attach_group_policy(actor=owner.actor, group=group, policy_name="AliyunRAMFullAccess")
    assert not can_write_ram(fresh(alice))
    add_users_to_group(actor=owner.actor, group=group, ram_users=[alice.ram_user, bob.ram_user])
    assert can_write_ram(fresh(alice)) and can_read_ram(fresh(bob))
    assert policy_sources(fresh(alice)) == {"AliyunRAMFullAccess": ("admins",)}

    attach_policy(actor=owner.actor, ram_user=alice.ram_user, policy_name="AliyunRAMFullAccess")
    assert policy_sources(fresh(alice)) == {"AliyunRAMFullAccess": (DIRECT, "admins")}
    assert source_words(policy_sources(fresh(alice))["AliyunRAMFullAccess"]) == "directly and via group admins"

    remove_from_group(actor=owner.actor, group=group, ram_user=bob.ram_user)
    assert not can_read_ram(fresh(bob))
    detach_group_policy(actor=owner.actor, group=group, policy_name="AliyunRAMFullAccess")
    assert policy_sources(fresh(alice)) == {"AliyunRAMFullAccess": (DIRECT,)}  # its own stays


def test_effective_policies_of_many_users_in_one_query(owner, django_assert_num_queries):
    users = [make_ram_user(owner, name) for name in ("alice", "bob", "carol")]
    first, second = create_group(actor=owner.actor, name="first"), create_group(actor=owner.actor, name="second")
    for group in (first, second):
        attach_group_policy(actor=owner.actor, group=group, policy_name="AliyunRAMReadOnlyAccess")
    add_users_to_group(actor=owner.actor, group=first, ram_users=[users[0].ram_user, users[1].ram_user])
    add_to_group(actor=owner.actor, group=second, ram_user=users[0].ram_user)
    attach_policy(actor=owner.actor, ram_user=users[2].ram_user, policy_name="AliyunDataWorksFullAccess")
    with django_assert_num_queries(1):
        found = policy_sources_of([person.ram_user.pk for person in users])
    assert found == {
        users[0].ram_user.pk: {"AliyunRAMReadOnlyAccess": ("first", "second")},
        users[1].ram_user.pk: {"AliyunRAMReadOnlyAccess": ("first",)},
        users[2].ram_user.pk: {"AliyunDataWorksFullAccess": (DIRECT,)},
    }


def test_a_user_s_group_limit(owner, settings):
    settings.PORTAL_MAX_GROUPS_PER_USER = 2
    alice, bob = make_ram_user(owner, "alice"), make_ram_user(owner, "bob")
    groups = [create_group(actor=owner.actor, name=f"g{number}") for number in range(3)]
    add_to_group(actor=owner.actor, group=groups[0], ram_user=alice.ram_user)
    add_to_group(actor=owner.actor, group=groups[1], ram_user=alice.ram_user)
    before = database_state()
    with pytest.raises(ValidationError) as refused:
        add_users_to_group(actor=owner.actor, group=groups[2], ram_users=[bob.ram_user, alice.ram_user])
    assert codes(refused.value) == {"user_group_limit"} and "alice" in str(refused.value)
    assert database_state() == before  # bob did not join either: all or nothing
    with pytest.raises(ValidationError) as refused:
        add_to_group(actor=owner.actor, group=groups[0], ram_user=alice.ram_user)
    assert codes(refused.value) == {"already_member"}


def test_members_hold_the_group_s_project_roles(owner, project):
    alice = make_ram_user(owner, "alice")
    group = create_group(actor=owner.actor, name="developers")
    assert not check_permission(alice.user, project, "table_create", "console")
    grant_group_roles(actor=owner.actor, project=project, group=group, roles=["role_project_dev"])
    assert not check_permission(fresh(alice), project, "table_create", "console")  # not a member yet
    add_to_group(actor=owner.actor, group=group, ram_user=alice.ram_user)
    decision = check_permission(fresh(alice), project, "table_create", "console")
    assert decision, decision.reason
    assert role_sources(fresh(alice), project) == {"role_project_dev": ("developers",)}
    assert [(found.name, roles) for found, roles in project_role_sources(fresh(alice))] == [
        ("sales_dw", {"role_project_dev": ("developers",)})
    ]
    revoke_group_roles(actor=owner.actor, project=project, group=group, roles=["role_project_dev"])
    assert not check_permission(fresh(alice), project, "table_create", "console")


def test_a_group_with_members_or_policies_is_deleted_only_with_everything(owner, project):
    alice = make_ram_user(owner, "alice")
    group = create_group(actor=owner.actor, name="developers")
    add_to_group(actor=owner.actor, group=group, ram_user=alice.ram_user)
    attach_group_policy(actor=owner.actor, group=group, policy_name="AliyunRAMReadOnlyAccess")
    grant_group_roles(actor=owner.actor, project=project, group=group, roles=["role_project_dev", "role_project_pe"])
    before = database_state()
    with pytest.raises(ValidationError) as refused:
        delete_group(actor=owner.actor, group=group)
    assert codes(refused.value) == {"group_has_members"}
    assert database_state() == before

    removal = delete_group(actor=owner.actor, group=group, with_everything=True)
    assert removal.members == ["alice"] and removal.policies == ["AliyunRAMReadOnlyAccess"]
    assert removal.project_roles == ["sales_dw: role_project_dev", "sales_dw: role_project_pe"]
    assert not Group.objects.exists() and not GroupMembership.objects.exists()
    assert not GroupPolicyAttachment.objects.exists() and not GroupRoleGrant.objects.exists()
    assert not check_permission(fresh(alice), project, "table_create", "console")
    assert AuditEvent.objects.get(action="group.delete").details["revoked_project_roles"] == removal.project_roles


def test_a_user_whose_roles_all_come_from_a_group_is_deleted_in_one_step(owner, project):
    alice = make_ram_user(owner, "alice")
    group = create_group(actor=owner.actor, name="developers")
    grant_group_roles(actor=owner.actor, project=project, group=group, roles=["role_project_dev"])
    add_to_group(actor=owner.actor, group=group, ram_user=alice.ram_user)
    delete_ram_user(actor=owner.actor, ram_user=alice.ram_user, otp_code=owner.code())
    assert not RamUser.objects.filter(name="alice").exists() and not GroupMembership.objects.exists()
    assert GroupRoleGrant.objects.get().group == group  # the group keeps its roles for its other members
    assert AuditEvent.objects.get(action="ram_user.delete").details["left_groups"] == ["developers"]


def test_deleting_a_project_revokes_its_group_roles(owner, project):
    group = create_group(actor=owner.actor, name="developers")
    grant_group_roles(actor=owner.actor, project=project, group=group, roles=["role_project_dev"])
    delete_project(actor=owner.actor, project=project)
    assert not GroupRoleGrant.objects.exists() and Group.objects.filter(pk=group.pk).exists()
    assert AuditEvent.objects.get(action="project.delete").details["removed_groups"] == ["developers"]


# --- Under concurrency (threads, each with its own connection) -------------------------------------------------------


def run_each(*calls) -> list:
    """Each call in its own thread and connection, released together; each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = calls[index]()
        except Exception as error:  # the test inspects every outcome
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def refusal_codes(results: list) -> list[str]:
    """The codes of the refusals among the results; anything but a service's refusal fails the test."""
    found = []
    for result in results:
        if isinstance(result, Exception):
            assert isinstance(result, ValidationError), repr(result)
            found.extend(sorted(codes(result)))
    return found


def test_concurrent_joins_never_pass_a_user_s_group_limit(transactional_db, settings):
    settings.PORTAL_MAX_GROUPS_PER_USER = 2
    owner = make_owner("groups-race@acme.example", "Race")
    alice = make_ram_user(owner, "alice")
    groups = [create_group(actor=owner.actor, name=f"g{number}") for number in range(4)]
    add_to_group(actor=owner.actor, group=groups[0], ram_user=alice.ram_user)
    results = run_each(
        *(
            lambda group=group: add_to_group(actor=owner.actor, group=group, ram_user=alice.ram_user)
            for group in groups[1:]
        )
    )
    assert refusal_codes(results) == ["user_group_limit", "user_group_limit"], results
    assert GroupMembership.objects.filter(ram_user=alice.ram_user).count() == 2


def test_a_group_deleted_while_members_join_leaves_no_member_behind(transactional_db):
    owner = make_owner("groups-delete@acme.example", "Delete")
    people = [make_ram_user(owner, f"user{number}") for number in range(4)]
    group = create_group(actor=owner.actor, name="doomed")
    add_to_group(actor=owner.actor, group=group, ram_user=people[0].ram_user)
    results = run_each(
        lambda: delete_group(actor=owner.actor, group=group, with_everything=True),
        *(
            lambda person=person: add_to_group(actor=owner.actor, group=group, ram_user=person.ram_user)
            for person in people[1:]
        ),
    )
    removal = results[0]
    assert not isinstance(removal, Exception), removal
    joined = [result for result in results[1:] if not isinstance(result, Exception)]
    # Each join either came first (and the deletion removed it) or found the group gone: never a member left over.
    assert set(refusal_codes(results[1:])) <= {"group_not_found"}
    assert sorted(removal.members) == sorted(["user0", *(membership.ram_user.name for membership in joined)])
    assert not Group.objects.exists() and not GroupMembership.objects.exists()


def test_concurrent_adds_of_the_same_user_make_one_membership(transactional_db):
    owner = make_owner("groups-twice@acme.example", "Twice")
    alice = make_ram_user(owner, "alice")
    group = create_group(actor=owner.actor, name="team")
    results = run_each(*(lambda: add_to_group(actor=owner.actor, group=group, ram_user=alice.ram_user),) * 3)
    assert refusal_codes(results) == ["already_member", "already_member"], results
    assert GroupMembership.objects.count() == 1
