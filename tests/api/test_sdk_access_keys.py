"""AccessKeys through the RAM OpenAPI: issue, rotate, limits, and who may manage whose keys."""

import pytest
from alibabacloud_ram20150501 import models as ram
from Tea.exceptions import TeaException

from accounts.models import AccessKey, DeliveryPacket
from accounts.services.access_keys import open_secret
from accounts.services.security import update_security_settings
from portal.models import AuditEvent
from tests.api.conftest import ram_client
from tests.conftest import make_ram_user


def test_issue_and_rotate_a_users_key(sdk, owner, live_server):
    alice = make_ram_user(owner, "alice")
    first = sdk.create_access_key(ram.CreateAccessKeyRequest(user_name="alice")).body.access_key
    assert first.status == "Active" and first.create_date and len(first.access_key_secret) == 30
    stored = AccessKey.objects.get(access_key_id=first.access_key_id)
    assert stored.user == alice.user and open_secret(stored) == first.access_key_secret
    assert first.access_key_secret not in stored.sealed_secret
    # The secret left in the answer: the copy sealed for delivery is wiped, as after the issuing page.
    packet = DeliveryPacket.objects.get(access_key_id=first.access_key_id)
    assert packet.state == DeliveryPacket.State.WIPED and packet.channel == DeliveryPacket.Channel.SHOWN
    assert not packet.sealed_access_key_secret

    # The new key signs requests of its own (alice reads her own keys).
    alice_sdk = ram_client(live_server, first.access_key_id, first.access_key_secret)
    listed = alice_sdk.list_access_keys(ram.ListAccessKeysRequest()).body.access_keys.access_key
    assert [key.access_key_id for key in listed] == [first.access_key_id]

    second = sdk.create_access_key(ram.CreateAccessKeyRequest(user_name="alice")).body.access_key
    sdk.update_access_key(
        ram.UpdateAccessKeyRequest(user_name="alice", user_access_key_id=first.access_key_id, status="Inactive")
    )
    with pytest.raises(TeaException) as disabled:
        alice_sdk.list_access_keys(ram.ListAccessKeysRequest())
    assert disabled.value.code == "InvalidAccessKeyId.Inactive"
    sdk.delete_access_key(ram.DeleteAccessKeyRequest(user_name="alice", user_access_key_id=first.access_key_id))

    listed = sdk.list_access_keys(ram.ListAccessKeysRequest(user_name="alice")).body
    assert [(key.access_key_id, key.status) for key in listed.access_keys.access_key] == [
        (second.access_key_id, "Active")
    ]
    assert "Secret" not in str(listed.to_map())
    assert list(AccessKey.objects.filter(user=alice.user).values_list("access_key_id", flat=True)) == [
        second.access_key_id
    ]
    events = AuditEvent.objects.filter(channel="api", target=alice.ram_user.principal).order_by("pk")
    assert [(event.action, event.details.get("access_key_id")) for event in events] == [
        ("access_key.create", first.access_key_id),
        ("packet.shown", None),
        ("access_key.create", second.access_key_id),
        ("packet.shown", None),
        ("access_key.disable", first.access_key_id),
        ("access_key.delete", first.access_key_id),
    ]
    assert all(event.actor == owner.account.principal for event in events)
    assert first.access_key_secret not in str(list(AuditEvent.objects.values_list("details", flat=True)))


def test_key_limits_and_states_answer_with_rams_codes(owner_sdk, owner):
    alice = make_ram_user(owner, "alice")
    keys = [owner_sdk.create_access_key(ram.CreateAccessKeyRequest(user_name="alice")) for _ in range(2)]
    with pytest.raises(TeaException) as limit:
        owner_sdk.create_access_key(ram.CreateAccessKeyRequest(user_name="alice"))
    assert limit.value.code == "LimitExceeded.User.AccessKey"
    assert AccessKey.objects.filter(user=alice.user).count() == 2

    key_id = keys[0].body.access_key.access_key_id
    with pytest.raises(TeaException) as active:
        owner_sdk.delete_access_key(ram.DeleteAccessKeyRequest(user_name="alice", user_access_key_id=key_id))
    assert active.value.code == "DeleteConflict.AccessKey.Active"
    with pytest.raises(TeaException) as status:
        owner_sdk.update_access_key(
            ram.UpdateAccessKeyRequest(user_name="alice", user_access_key_id=key_id, status="Off")
        )
    assert status.value.code == "InvalidParameter.Status"
    with pytest.raises(TeaException) as unknown:
        owner_sdk.update_access_key(
            ram.UpdateAccessKeyRequest(user_name="alice", user_access_key_id="LTAI" + "x" * 20, status="Inactive")
        )
    assert unknown.value.code == "EntityNotExist.User.AccessKey"
    assert AccessKey.objects.get(access_key_id=key_id).is_active
    assert not AuditEvent.objects.filter(action__in=["access_key.delete", "access_key.disable"]).exists()


def test_a_key_named_under_another_user_is_not_found(owner_sdk, owner):
    make_ram_user(owner, "alice")
    make_ram_user(owner, "bob")
    key_id = owner_sdk.create_access_key(ram.CreateAccessKeyRequest(user_name="alice")).body.access_key.access_key_id
    with pytest.raises(TeaException) as foreign:
        owner_sdk.update_access_key(
            ram.UpdateAccessKeyRequest(user_name="bob", user_access_key_id=key_id, status="Inactive")
        )
    assert foreign.value.code == "EntityNotExist.User.AccessKey"
    assert AccessKey.objects.get(access_key_id=key_id).is_active


def test_without_user_name_the_owner_manages_the_primary_accounts_own_keys(owner_sdk, owner, owner_key):
    created = owner_sdk.create_access_key(ram.CreateAccessKeyRequest()).body.access_key
    assert AccessKey.objects.get(access_key_id=created.access_key_id).user == owner.user
    listed = owner_sdk.list_access_keys(ram.ListAccessKeysRequest()).body.access_keys.access_key
    assert {key.access_key_id for key in listed} == {owner_key[0], created.access_key_id}
    event = AuditEvent.objects.get(action="access_key.create", details__access_key_id=created.access_key_id)
    assert event.target == owner.account.principal and event.channel == "api"

    used = owner_sdk.get_access_key_last_used(ram.GetAccessKeyLastUsedRequest(user_access_key_id=owner_key[0]))
    assert used.body.access_key_last_used.last_used_date
    never = owner_sdk.get_access_key_last_used(
        ram.GetAccessKeyLastUsedRequest(user_access_key_id=created.access_key_id)
    )
    assert not never.body.access_key_last_used.last_used_date


def test_a_ram_user_manages_its_own_keys_only_where_manage_accesskey_is_allowed(sdk_of, owner):
    alice = make_ram_user(owner, "alice")
    alice_sdk = sdk_of(alice)
    with pytest.raises(TeaException) as refused:
        alice_sdk.create_access_key(ram.CreateAccessKeyRequest())
    assert refused.value.code == "NoPermission"
    assert AccessKey.objects.filter(user=alice.user).count() == 1

    update_security_settings(actor=owner.actor, otp_code=owner.code(), values={"allow_manage_access_keys": True})
    own = alice_sdk.create_access_key(ram.CreateAccessKeyRequest(user_name="alice")).body.access_key
    assert AccessKey.objects.get(access_key_id=own.access_key_id).user == alice.user
    # Her own key, issued to herself: nothing waits for delivery.
    assert not DeliveryPacket.objects.filter(access_key_id=own.access_key_id).exists()
    alice_sdk.update_access_key(ram.UpdateAccessKeyRequest(user_access_key_id=own.access_key_id, status="Inactive"))
    alice_sdk.delete_access_key(ram.DeleteAccessKeyRequest(user_access_key_id=own.access_key_id))
    assert not AccessKey.objects.filter(access_key_id=own.access_key_id).exists()
    assert AuditEvent.objects.filter(actor=alice.ram_user.principal, channel="api").count() == 3

    # Still nobody else's keys, and never the primary account's.
    make_ram_user(owner, "bob")
    for call in (
        lambda: alice_sdk.create_access_key(ram.CreateAccessKeyRequest(user_name="bob")),
        lambda: alice_sdk.list_access_keys(ram.ListAccessKeysRequest(user_name="bob")),
    ):
        with pytest.raises(TeaException) as other:
            call()
        assert other.value.code == "NoPermission"
