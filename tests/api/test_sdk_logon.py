"""Console logon through the RAM OpenAPI: the login profile and a RAM user's own password."""

import pytest
from alibabacloud_ram20150501 import models as ram
from Tea.exceptions import TeaException

from accounts.models import DeliveryPacket, RamUser
from accounts.services.security import update_security_settings
from portal.models import AuditEvent
from tests.conftest import RAM_PASSWORD, make_ram_user

NEW_PASSWORD = "Copper-Willow-Signal-7716"


def ram_user_named(owner, name) -> RamUser:
    return RamUser.objects.select_related("user").get(account=owner.account, name=name)


def test_create_login_profile_gives_a_user_console_logon(sdk, owner):
    sdk.create_user(ram.CreateUserRequest(user_name="alice", display_name="Alice"))
    created = sdk.create_login_profile(
        ram.CreateLoginProfileRequest(user_name="alice", password=NEW_PASSWORD, password_reset_required=True)
    )
    profile = created.body.login_profile
    assert (profile.user_name, profile.password_reset_required, profile.mfabind_required) == ("alice", True, False)
    assert profile.create_date

    alice = ram_user_named(owner, "alice")
    assert alice.is_console_logon_enabled and alice.must_reset_password and not alice.must_bind_mfa
    assert alice.user.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="console_logon.enable")
    assert event.channel == "api" and event.actor == owner.account.principal and event.target == alice.principal
    assert NEW_PASSWORD not in str(event.details)
    # The password the caller typed waits, sealed, for delivery to its person like the console's.
    assert DeliveryPacket.objects.get(ram_user=alice).has_password

    got = sdk.get_login_profile(ram.GetLoginProfileRequest(user_name="alice")).body.login_profile
    assert got.password_reset_required and got.user_name == "alice"


def test_update_and_delete_a_login_profile(owner_sdk, owner):
    owner_sdk.create_user(ram.CreateUserRequest(user_name="alice", display_name="Alice"))
    owner_sdk.create_login_profile(ram.CreateLoginProfileRequest(user_name="alice", password=NEW_PASSWORD))

    owner_sdk.update_login_profile(ram.UpdateLoginProfileRequest(user_name="alice", mfabind_required=True))
    alice = ram_user_named(owner, "alice")
    assert alice.must_bind_mfa and not alice.must_reset_password and alice.user.check_password(NEW_PASSWORD)

    owner_sdk.update_login_profile(ram.UpdateLoginProfileRequest(user_name="alice", password="Amber-Falcon-Drift-3390"))
    alice = ram_user_named(owner, "alice")
    assert alice.must_bind_mfa and alice.user.check_password("Amber-Falcon-Drift-3390")

    owner_sdk.delete_login_profile(ram.DeleteLoginProfileRequest(user_name="alice"))
    alice = ram_user_named(owner, "alice")
    assert not alice.is_console_logon_enabled and not alice.user.has_usable_password()
    assert list(AuditEvent.objects.filter(target=alice.principal).values_list("action", flat=True).order_by("pk")) == [
        "ram_user.create",
        "console_logon.enable",
        "console_logon.update",
        "console_logon.update",
        "console_logon.disable",
    ]


def test_login_profile_errors(owner_sdk, owner):
    owner_sdk.create_user(ram.CreateUserRequest(user_name="alice", display_name="Alice"))
    for call in (
        lambda: owner_sdk.get_login_profile(ram.GetLoginProfileRequest(user_name="alice")),
        lambda: owner_sdk.update_login_profile(ram.UpdateLoginProfileRequest(user_name="alice")),
        lambda: owner_sdk.delete_login_profile(ram.DeleteLoginProfileRequest(user_name="alice")),
    ):
        with pytest.raises(TeaException) as absent:
            call()
        assert absent.value.code == "EntityNotExist.User.LoginProfile"

    with pytest.raises(TeaException) as weak:
        owner_sdk.create_login_profile(ram.CreateLoginProfileRequest(user_name="alice", password="alice123"))
    assert weak.value.code == "InvalidParameter.Password"
    with pytest.raises(TeaException) as missing:
        owner_sdk.create_login_profile(ram.CreateLoginProfileRequest(user_name="nobody", password=NEW_PASSWORD))
    assert missing.value.code == "EntityNotExist.User"
    assert not ram_user_named(owner, "alice").is_console_logon_enabled

    owner_sdk.create_login_profile(ram.CreateLoginProfileRequest(user_name="alice", password=NEW_PASSWORD))
    with pytest.raises(TeaException) as twice:
        owner_sdk.create_login_profile(
            ram.CreateLoginProfileRequest(user_name="alice", password="Amber-Falcon-Drift-3390")
        )
    assert twice.value.code == "EntityAlreadyExists.User.LoginProfile"
    assert ram_user_named(owner, "alice").user.check_password(NEW_PASSWORD)


def test_a_ram_user_changes_its_own_password_where_the_settings_allow_it(sdk_of, owner):
    alice = make_ram_user(owner, "alice")
    alice_sdk = sdk_of(alice)
    alice_sdk.change_password(ram.ChangePasswordRequest(old_password=RAM_PASSWORD, new_password=NEW_PASSWORD))
    alice.user.refresh_from_db()
    assert alice.user.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="password.change")
    assert event.channel == "api" and event.actor == alice.ram_user.principal

    with pytest.raises(TeaException) as wrong:
        alice_sdk.change_password(ram.ChangePasswordRequest(old_password=RAM_PASSWORD, new_password="Other-Pass-8812x"))
    assert wrong.value.code == "InvalidParameter.OldPassword"

    update_security_settings(actor=owner.actor, otp_code=owner.code(), values={"allow_change_password": False})
    with pytest.raises(TeaException) as refused:
        alice_sdk.change_password(ram.ChangePasswordRequest(old_password=NEW_PASSWORD, new_password="Other-Pass-8812x"))
    assert refused.value.code == "NoPermission"
    alice.user.refresh_from_db()
    assert alice.user.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="password.change").count() == 1


def test_change_password_is_for_ram_users_only(owner_sdk, owner):
    with pytest.raises(TeaException) as refused:
        owner_sdk.change_password(ram.ChangePasswordRequest(old_password=owner.password, new_password=NEW_PASSWORD))
    assert refused.value.code == "NoPermission"
    owner.user.refresh_from_db()
    assert owner.user.check_password(owner.password)
