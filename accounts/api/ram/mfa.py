"""RAM actions on virtual MFA devices, mapped onto the portal's TOTP devices (at most one bound per RAM user).

A device's serial number is `acs:ram::<account id>:mfa/<device name>`. Unbinding deletes the device: its seed
has left the portal and is never trusted again, so a later DeleteVirtualMFADevice finds nothing.
"""

import base64
import io
from base64 import b32encode
from urllib.parse import quote, urlencode

import segno
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.actors import Actor
from accounts.api.registry import (
    ApiError,
    Params,
    ResponseFields,
    action,
    error_code,
    find_user,
    is_self,
    iso,
    readable_user,
    require_reader,
    require_writer,
    translate,
)
from accounts.models import Authenticator, PrimaryAccount, RamUser
from accounts.services.mfa import (
    bind_virtual_mfa_device,
    create_virtual_mfa_device,
    delete_virtual_mfa_device,
    device_name_of,
    serial_number,
)
from accounts.services.otp import OtpRejected, devices_of_account
from accounts.services.ram_users import unbind_mfa_device

DEVICE_TYPE = "VMFA"


def find_device(actor: Actor, params: Params) -> Authenticator:
    """The device a serial number names in the caller's account; an unbound one first, should a bound console
    device share its name."""
    serial = params.required("SerialNumber")
    name = device_name_of(actor.account, serial)
    device = (
        devices_of_account(actor.account).filter(name=name).select_related("user").order_by("confirmed", "pk").first()
        if name
        else None
    )
    if device is None:
        raise ApiError("EntityNotExist.VirtualMFADevice", f"The virtual MFA device does not exist: {serial}.", 404)
    return device


def bound_device(ram_user: RamUser) -> Authenticator:
    # (Annotated: the model's manager comes from django-otp, which ships no types.)
    device: Authenticator | None = Authenticator.objects.filter(user=ram_user.user, confirmed=True).first()
    if device is None:
        raise ApiError("EntityNotExist.User.MFADevice", f"The user {ram_user.name} has no MFA device.", 404)
    return device


def qr_code_png(account: PrimaryAccount, device: Authenticator, seed: str) -> str:
    """The otpauth URL as a base64 PNG, as RAM returns it."""
    issuer = settings.OTP_TOTP_ISSUER
    label = quote(f"{issuer}:{device.name}@{account.logon_domain}")
    query = urlencode({"secret": seed, "issuer": issuer, "digits": device.digits, "period": device.step})
    buffer = io.BytesIO()
    segno.make(f"otpauth://totp/{label}?{query}", error="m").save(buffer, kind="png", scale=5)
    return base64.b64encode(buffer.getvalue()).decode()


@action("CreateVirtualMFADevice")
def create_virtual_mfa_device_action(actor: Actor, params: Params) -> ResponseFields:
    name = params.required("VirtualMFADeviceName")
    try:
        device = create_virtual_mfa_device(actor=actor, name=name)
    except ValidationError as error:
        if error_code(error) == "name_taken":
            raise ApiError("EntityAlreadyExists.VirtualMFADevice", " ".join(error.messages), 409) from None
        raise translate(error, fields={"name": "VirtualMFADeviceName"}) from None
    except PermissionDenied as error:
        raise translate(error) from None
    # The seed's one showing: this answer, which is never cached (Cache-Control: no-store on every answer).
    seed = b32encode(device.bin_key).decode().rstrip("=")
    return {
        "VirtualMFADevice": {
            "SerialNumber": serial_number(actor.account, device),
            "Base32StringSeed": seed,
            "QRCodePNG": qr_code_png(actor.account, device, seed),
        }
    }


@action("BindMFADevice")
def bind_mfa_device(actor: Actor, params: Params) -> ResponseFields:
    if not is_self(actor, params.required("UserName")):
        require_writer(actor)
    ram_user = find_user(actor, params)
    device = find_device(actor, params)
    code, next_code = params.required("AuthenticationCode1"), params.required("AuthenticationCode2")
    if device.confirmed:
        raise ApiError("EntityAlreadyExists.VirtualMFADevice.User", "The virtual MFA device is already bound.", 409)
    try:
        bind_virtual_mfa_device(actor=actor, device=device, ram_user=ram_user, code=code, next_code=next_code)
    except OtpRejected:
        raise ApiError(
            "InvalidParameter.AuthenticationCode",
            "AuthenticationCode1 and AuthenticationCode2 must be two consecutive codes from the device.",
        ) from None
    except ValidationError as error:
        if error_code(error) == "already_bound":
            raise ApiError("EntityAlreadyExists.User.MFADevice", " ".join(error.messages), 409) from None
        # The device was bound or deleted meanwhile (the enrolment check found it gone).
        raise ApiError("EntityNotExist.VirtualMFADevice", "The virtual MFA device does not exist.", 404) from None
    except PermissionDenied as error:
        raise translate(error) from None
    return {}


@action("UnbindMFADevice")
def unbind_mfa_device_action(actor: Actor, params: Params) -> ResponseFields:
    require_writer(actor)
    ram_user = find_user(actor, params)
    serial = serial_number(actor.account, bound_device(ram_user))
    try:
        unbind_mfa_device(actor=actor, ram_user=ram_user)
    except (PermissionDenied, ValidationError) as error:
        raise translate(error, entity="MFADevice") from None
    return {"MFADevice": {"SerialNumber": serial}}


@action("GetUserMFAInfo")
def get_user_mfa_info(actor: Actor, params: Params) -> ResponseFields:
    ram_user = readable_user(actor, params)
    device = bound_device(ram_user)
    return {"MFADevice": {"SerialNumber": serial_number(actor.account, device), "Type": DEVICE_TYPE}}


@action("ListVirtualMFADevices")
def list_virtual_mfa_devices(actor: Actor, params: Params) -> ResponseFields:
    require_reader(actor)
    devices = devices_of_account(actor.account).select_related("user__ram_user").order_by("name", "pk")
    listed: list[ResponseFields] = []
    for device in devices:
        entry: ResponseFields = {"SerialNumber": serial_number(actor.account, device)}
        if device.confirmed:
            ram_user = device.user.ram_user
            entry["ActivateDate"] = iso(device.created_at)
            entry["User"] = {
                "UserId": str(ram_user.pk),
                "UserName": ram_user.name,
                "DisplayName": ram_user.display_name,
            }
        listed.append(entry)
    return {"VirtualMFADevices": {"VirtualMFADevice": listed}}


@action("DeleteVirtualMFADevice")
def delete_virtual_mfa_device_action(actor: Actor, params: Params) -> ResponseFields:
    device = find_device(actor, params)
    try:
        delete_virtual_mfa_device(actor=actor, device=device)
    except ValidationError as error:
        if error_code(error) == "bound":
            raise ApiError("DeleteConflict.VirtualMFADevice.User", " ".join(error.messages), 409) from None
        raise translate(error) from None
    except PermissionDenied as error:
        raise translate(error) from None
    return {}
