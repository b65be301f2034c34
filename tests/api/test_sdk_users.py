import pytest
from alibabacloud_ram20150501 import models as ram
from Tea.exceptions import TeaException

from accounts.models import RamUser
from portal.models import AuditEvent


def test_create_get_list_update_and_delete_a_user(sdk, owner):
    created = sdk.create_user(ram.CreateUserRequest(user_name="alice", display_name="Alice", email="alice@example.com"))
    assert created.body.user.user_name == "alice" and created.body.request_id
    ram_user = RamUser.objects.get(account=owner.account, name="alice")
    assert ram_user.email == "alice@example.com"
    event = AuditEvent.objects.get(action="ram_user.create")
    assert event.channel == "api" and event.actor == owner.account.principal

    got = sdk.get_user(ram.GetUserRequest(user_name="alice"))
    assert got.body.user.display_name == "Alice" and got.body.user.user_id == str(ram_user.pk)

    for name in ("bob", "carol", "dave"):
        sdk.create_user(ram.CreateUserRequest(user_name=name, display_name=name.title()))
    first = sdk.list_users(ram.ListUsersRequest(max_items=3))
    assert [u.user_name for u in first.body.users.user] == ["alice", "bob", "carol"]
    assert first.body.is_truncated and first.body.marker
    second = sdk.list_users(ram.ListUsersRequest(max_items=3, marker=first.body.marker))
    assert [u.user_name for u in second.body.users.user] == ["dave"] and not second.body.is_truncated

    sdk.update_user(ram.UpdateUserRequest(user_name="alice", new_display_name="Alice L."))
    assert RamUser.objects.get(pk=ram_user.pk).display_name == "Alice L."

    sdk.delete_user(ram.DeleteUserRequest(user_name="alice"))
    assert not RamUser.objects.filter(pk=ram_user.pk).exists()
    assert AuditEvent.objects.filter(action="ram_user.delete", channel="api").count() == 1


def test_errors_come_with_rams_codes(sdk, owner):
    sdk.create_user(ram.CreateUserRequest(user_name="alice", display_name="Alice"))
    with pytest.raises(TeaException) as taken:
        sdk.create_user(ram.CreateUserRequest(user_name="ALICE", display_name="Alice"))
    assert taken.value.code == "EntityAlreadyExists.User"
    with pytest.raises(TeaException) as missing:
        sdk.get_user(ram.GetUserRequest(user_name="nobody"))
    assert missing.value.code == "EntityNotExist.User"
    with pytest.raises(TeaException) as invalid:
        sdk.create_user(ram.CreateUserRequest(user_name="bad name!", display_name="X"))
    assert invalid.value.code == "InvalidParameter.UserName.InvalidChars"
    assert RamUser.objects.filter(account=owner.account).count() == 1


def test_delete_user_refuses_while_a_login_profile_and_then_a_key_remain(owner_sdk, owner):
    owner_sdk.create_user(ram.CreateUserRequest(user_name="bob", display_name="Bob"))
    owner_sdk.create_login_profile(ram.CreateLoginProfileRequest(user_name="bob", password="Quartz-Harbor-Lantern-42"))
    key_id = owner_sdk.create_access_key(ram.CreateAccessKeyRequest(user_name="bob")).body.access_key.access_key_id

    with pytest.raises(TeaException) as profile:
        owner_sdk.delete_user(ram.DeleteUserRequest(user_name="bob"))
    assert profile.value.code == "DeleteConflict.User.LoginProfile"
    owner_sdk.delete_login_profile(ram.DeleteLoginProfileRequest(user_name="bob"))

    with pytest.raises(TeaException) as key:
        owner_sdk.delete_user(ram.DeleteUserRequest(user_name="bob"))
    assert key.value.code == "DeleteConflict.User.AccessKey"
    assert RamUser.objects.filter(account=owner.account, name="bob").exists()
    assert not AuditEvent.objects.filter(action="ram_user.delete").exists()

    owner_sdk.update_access_key(
        ram.UpdateAccessKeyRequest(user_name="bob", user_access_key_id=key_id, status="Inactive")
    )
    owner_sdk.delete_access_key(ram.DeleteAccessKeyRequest(user_name="bob", user_access_key_id=key_id))
    owner_sdk.delete_user(ram.DeleteUserRequest(user_name="bob"))
    assert not RamUser.objects.filter(account=owner.account, name="bob").exists()
    assert list(AuditEvent.objects.filter(channel="api").order_by("pk").values_list("action", flat=True)) == [
        "ram_user.create",
        "console_logon.enable",
        "access_key.create",
        "packet.shown",
        "console_logon.disable",
        "access_key.disable",
        "access_key.delete",
        "ram_user.delete",
    ]
