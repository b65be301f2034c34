"""Who may call what: the caller's key decides, by the same rules as the web UI."""

import pytest
from alibabacloud_ram20150501 import models as ram
from Tea.exceptions import TeaException

from accounts.models import AccessKey, RamUser
from tests.conftest import make_ram_user
from tests.db_state import database_state

WRITES = {
    "CreateUser": lambda sdk: sdk.create_user(ram.CreateUserRequest(user_name="eve", display_name="Eve")),
    "UpdateUser": lambda sdk: sdk.update_user(ram.UpdateUserRequest(user_name="bob", new_display_name="B")),
    "DeleteUser": lambda sdk: sdk.delete_user(ram.DeleteUserRequest(user_name="carol")),
    "CreateLoginProfile": lambda sdk: sdk.create_login_profile(
        ram.CreateLoginProfileRequest(user_name="bob", password="Quartz-Harbor-Lantern-42")
    ),
    "AttachPolicyToUser": lambda sdk: sdk.attach_policy_to_user(
        ram.AttachPolicyToUserRequest(policy_type="System", policy_name="AdministratorAccess", user_name="alice")
    ),
    "CreateAccessKey": lambda sdk: sdk.create_access_key(ram.CreateAccessKeyRequest(user_name="bob")),
    "CreateOwnAccessKey": lambda sdk: sdk.create_access_key(ram.CreateAccessKeyRequest()),
}
READS = {
    "ListUsers": lambda sdk: sdk.list_users(ram.ListUsersRequest()),
    "GetUser": lambda sdk: sdk.get_user(ram.GetUserRequest(user_name="bob")),
    "ListAccessKeys": lambda sdk: sdk.list_access_keys(ram.ListAccessKeysRequest(user_name="bob")),
    "ListPolicies": lambda sdk: sdk.list_policies(ram.ListPoliciesRequest()),
    "ListPoliciesForUser": lambda sdk: sdk.list_policies_for_user(ram.ListPoliciesForUserRequest(user_name="bob")),
    "GetPasswordPolicy": lambda sdk: sdk.get_password_policy(),
    "GetSecurityPreference": lambda sdk: sdk.get_security_preference(),
    "GetAccountAlias": lambda sdk: sdk.get_account_alias(),
    "ListVirtualMFADevices": lambda sdk: sdk.list_virtual_mfadevices(),
}


def refusals(sdk, calls: dict) -> dict[str, str | None]:
    answers = {}
    for name, call in calls.items():
        try:
            call(sdk)
        except TeaException as error:
            answers[name] = error.code
        else:
            answers[name] = None
    return answers


def test_a_ram_users_key_without_ram_policies_can_neither_write_nor_read_until_granted_read_only(
    sdk_of, owner_sdk, owner
):
    alice = make_ram_user(owner, "alice")
    make_ram_user(owner, "bob", console_logon=False)
    make_ram_user(owner, "carol", console_logon=False)
    alice_sdk = sdk_of(alice)
    before = database_state()
    assert refusals(alice_sdk, WRITES) == dict.fromkeys(WRITES, "NoPermission")
    assert refusals(alice_sdk, READS) == dict.fromkeys(READS, "NoPermission")
    assert database_state() == before
    assert AccessKey.objects.filter(user=alice.user).count() == 1

    owner_sdk.attach_policy_to_user(
        ram.AttachPolicyToUserRequest(policy_type="System", policy_name="AliyunRAMReadOnlyAccess", user_name="alice")
    )
    assert refusals(alice_sdk, READS) == dict.fromkeys(READS)
    assert alice_sdk.get_user(ram.GetUserRequest(user_name="bob")).body.user.user_name == "bob"
    before = database_state()
    assert refusals(alice_sdk, WRITES) == dict.fromkeys(WRITES, "NoPermission")
    assert database_state() == before
    assert AccessKey.objects.filter(user=alice.user).count() == 1


def test_a_ram_administrator_writes_but_not_what_is_the_owners(sdk_of, owner):
    admin_sdk = sdk_of(make_ram_user(owner, "admin", policies=("AliyunRAMFullAccess",)))
    make_ram_user(owner, "alice")
    make_ram_user(owner, "bob", console_logon=False)
    make_ram_user(owner, "carol", console_logon=False)
    assert refusals(admin_sdk, WRITES) == dict.fromkeys(WRITES)
    assert RamUser.objects.filter(account=owner.account, name="eve").exists()
    assert not RamUser.objects.filter(account=owner.account, name="carol").exists()
    assert RamUser.objects.get(account=owner.account, name="bob").is_console_logon_enabled
    with pytest.raises(TeaException) as owners:
        admin_sdk.set_account_alias(ram.SetAccountAliasRequest(account_alias="acme-data"))
    assert owners.value.code == "NoPermission"


def test_another_accounts_users_and_keys_are_not_found(owner_sdk, other_owner):
    mallory = make_ram_user(other_owner, "mallory")
    mallory_key = AccessKey.objects.filter(user=mallory.user)
    assert not mallory_key.exists()
    before = database_state()
    for call in (
        lambda: owner_sdk.get_user(ram.GetUserRequest(user_name="mallory")),
        lambda: owner_sdk.delete_user(ram.DeleteUserRequest(user_name="mallory")),
        lambda: owner_sdk.create_access_key(ram.CreateAccessKeyRequest(user_name="mallory")),
        lambda: owner_sdk.get_login_profile(ram.GetLoginProfileRequest(user_name="mallory")),
    ):
        with pytest.raises(TeaException) as foreign:
            call()
        assert foreign.value.code == "EntityNotExist.User"
    assert database_state() == before
