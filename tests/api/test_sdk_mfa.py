"""Virtual MFA devices through the RAM OpenAPI, on the portal's TOTP devices."""

import base64
import time

import pytest
from alibabacloud_ram20150501 import models as ram
from django_otp.oath import TOTP
from Tea.exceptions import TeaException

from accounts.models import Authenticator
from accounts.services.security import update_security_settings
from portal.models import AuditEvent
from tests.conftest import make_ram_user
from tests.db_state import database_state

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def codes_from(seed: str) -> tuple[str, str]:
    """Two consecutive codes, as an authenticator app shows them 30 seconds apart."""
    key = base64.b32decode(seed + "=" * (-len(seed) % 8))
    now = time.time()
    codes = []
    for ahead in (0, 1):
        totp = TOTP(key, step=30, t0=0, digits=6)
        totp.time = now + 30 * ahead
        codes.append(f"{totp.token():06d}")
    return codes[0], codes[1]


def test_create_bind_inspect_and_unbind_a_virtual_device(sdk, owner):
    alice = make_ram_user(owner, "alice")
    created = sdk.create_virtual_mfadevice(ram.CreateVirtualMFADeviceRequest(virtual_mfadevice_name="alice-phone"))
    device = created.body.virtual_mfadevice
    serial = f"acs:ram::{owner.account.account_id}:mfa/alice-phone"
    assert device.serial_number == serial
    assert base64.b64decode(device.qrcode_png).startswith(PNG_SIGNATURE)
    pending = Authenticator.objects.get(name="alice-phone")
    assert not pending.confirmed and base64.b32encode(pending.bin_key).decode().rstrip("=") == device.base_32string_seed
    event = AuditEvent.objects.get(action="mfa.device_create")
    assert event.channel == "api" and event.target == serial
    assert device.base_32string_seed not in str(event.details)

    listed = sdk.list_virtual_mfadevices().body.virtual_mfadevices.virtual_mfadevice
    assert [(entry.serial_number, entry.user) for entry in listed] == [(serial, None)]

    code, next_code = codes_from(device.base_32string_seed)
    sdk.bind_mfadevice(
        ram.BindMFADeviceRequest(
            serial_number=serial, user_name="alice", authentication_code_1=code, authentication_code_2=next_code
        )
    )
    bound = Authenticator.objects.get(pk=pending.pk)
    assert bound.confirmed and bound.user == alice.user
    assert AuditEvent.objects.get(action="mfa.bind").channel == "api"

    info = sdk.get_user_mfainfo(ram.GetUserMFAInfoRequest(user_name="alice")).body.mfadevice
    assert (info.serial_number, info.type) == (serial, "VMFA")
    [entry] = sdk.list_virtual_mfadevices().body.virtual_mfadevices.virtual_mfadevice
    assert (entry.user.user_name, entry.user.display_name) == ("alice", "Alice") and entry.activate_date

    with pytest.raises(TeaException) as bound_delete:
        sdk.delete_virtual_mfadevice(ram.DeleteVirtualMFADeviceRequest(serial_number=serial))
    assert bound_delete.value.code == "DeleteConflict.VirtualMFADevice.User"

    unbound = sdk.unbind_mfadevice(ram.UnbindMFADeviceRequest(user_name="alice")).body.mfadevice
    assert unbound.serial_number == serial
    assert not Authenticator.objects.filter(user=alice.user).exists()
    assert AuditEvent.objects.filter(action="mfa.unbind", channel="api").count() == 1
    with pytest.raises(TeaException) as none:
        sdk.get_user_mfainfo(ram.GetUserMFAInfoRequest(user_name="alice"))
    assert none.value.code == "EntityNotExist.User.MFADevice"


def test_wrong_codes_bind_nothing(owner_sdk, owner):
    alice = make_ram_user(owner, "alice")
    device = owner_sdk.create_virtual_mfadevice(
        ram.CreateVirtualMFADeviceRequest(virtual_mfadevice_name="spare")
    ).body.virtual_mfadevice
    code, next_code = codes_from(device.base_32string_seed)
    # Wrong codes, then right ones in the wrong order, then one code twice (and failures slow further tries).
    for first, second in (("000000", "111111"), (next_code, code), (code, code)):
        with pytest.raises(TeaException) as wrong:
            owner_sdk.bind_mfadevice(
                ram.BindMFADeviceRequest(
                    serial_number=device.serial_number,
                    user_name="alice",
                    authentication_code_1=first,
                    authentication_code_2=second,
                )
            )
        assert wrong.value.code == "InvalidParameter.AuthenticationCode"
    assert not Authenticator.objects.filter(user=alice.user, confirmed=True).exists()
    assert not AuditEvent.objects.filter(action="mfa.bind").exists()
    assert AuditEvent.objects.filter(action="mfa.failed").exists()


def test_device_errors(owner_sdk, owner):
    alice = make_ram_user(owner, "alice")
    owner_sdk.create_virtual_mfadevice(ram.CreateVirtualMFADeviceRequest(virtual_mfadevice_name="spare"))
    with pytest.raises(TeaException) as twice:
        owner_sdk.create_virtual_mfadevice(ram.CreateVirtualMFADeviceRequest(virtual_mfadevice_name="SPARE"))
    assert twice.value.code == "EntityAlreadyExists.VirtualMFADevice"
    with pytest.raises(TeaException) as bad_name:
        owner_sdk.create_virtual_mfadevice(ram.CreateVirtualMFADeviceRequest(virtual_mfadevice_name="my phone!"))
    assert bad_name.value.code == "InvalidParameter.VirtualMFADeviceName"
    with pytest.raises(TeaException) as foreign:
        owner_sdk.delete_virtual_mfadevice(ram.DeleteVirtualMFADeviceRequest(serial_number="acs:ram::1:mfa/spare"))
    assert foreign.value.code == "EntityNotExist.VirtualMFADevice"
    with pytest.raises(TeaException) as no_device:
        owner_sdk.unbind_mfadevice(ram.UnbindMFADeviceRequest(user_name="alice"))
    assert no_device.value.code == "EntityNotExist.User.MFADevice"

    owner_sdk.delete_virtual_mfadevice(
        ram.DeleteVirtualMFADeviceRequest(serial_number=f"acs:ram::{owner.account.account_id}:mfa/spare")
    )
    assert not Authenticator.objects.filter(name="spare").exists()
    assert AuditEvent.objects.filter(action="mfa.device_delete", channel="api").count() == 1
    assert not Authenticator.objects.filter(user=alice.user).exists()
    # The owner's own authenticator is not a RAM device: never listed, never reachable.
    assert owner_sdk.list_virtual_mfadevices().body.virtual_mfadevices.virtual_mfadevice == []


def test_a_ram_user_binds_its_own_device_where_the_settings_allow_it(sdk_of, owner):
    alice = make_ram_user(owner, "alice")
    alice_sdk = sdk_of(alice)
    device = alice_sdk.create_virtual_mfadevice(
        ram.CreateVirtualMFADeviceRequest(virtual_mfadevice_name="alice-phone")
    ).body.virtual_mfadevice
    code, next_code = codes_from(device.base_32string_seed)
    bind = ram.BindMFADeviceRequest(
        serial_number=device.serial_number,
        user_name="alice",
        authentication_code_1=code,
        authentication_code_2=next_code,
    )
    update_security_settings(actor=owner.actor, otp_code=owner.code(), values={"allow_manage_mfa": False})
    before = database_state()
    with pytest.raises(TeaException) as refused:
        alice_sdk.bind_mfadevice(bind)
    assert refused.value.code == "NoPermission"
    assert database_state() == before

    update_security_settings(actor=owner.actor, otp_code=owner.code(), values={"allow_manage_mfa": True})
    alice_sdk.bind_mfadevice(bind)
    assert Authenticator.objects.get(user=alice.user).confirmed
    assert AuditEvent.objects.get(action="mfa.bind").actor == alice.ram_user.principal

    # Binding for someone else, or unbinding, is RAM administration.
    make_ram_user(owner, "bob")
    with pytest.raises(TeaException) as other:
        alice_sdk.unbind_mfadevice(ram.UnbindMFADeviceRequest(user_name="alice"))
    assert other.value.code == "NoPermission"
    assert Authenticator.objects.get(user=alice.user).confirmed
