"""Virtual MFA devices as the RAM OpenAPI manages them: created unbound (the seed leaves once, in that answer),
bound to a RAM user with two consecutive codes, deleted while unbound. The console's enrolment is in otp.py.

An unbound device is held by the user who created it (a TOTP device needs a user); binding hands it over.
"""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import USER_NAME_RE, Authenticator, PrimaryAccount, RamUser, User
from accounts.permissions import can_write_ram, ensure_same_account
from accounts.services.logon import ensure_self_service
from accounts.services.otp import (
    OWNER_DEVICE_NAME,
    confirm_totp_enrolment,
    devices_of_account,
    has_mfa_device,
    new_authenticator,
)
from portal.audit import record_event


def serial_number(account: PrimaryAccount, device: Authenticator) -> str:
    return f"acs:ram::{account.account_id}:mfa/{device.name}"


def device_name_of(account: PrimaryAccount, serial: str) -> str | None:
    """The device name in one of this account's serial numbers; None for anything else."""
    prefix = f"acs:ram::{account.account_id}:mfa/"
    return serial.removeprefix(prefix) if serial.startswith(prefix) else None


def ensure_can_manage_mfa_of(actor: Actor, holder: User) -> None:
    """RAM administrators manage everyone's devices; a RAM user its own where the security settings allow it."""
    if actor.user is None or can_write_ram(actor.user):
        return
    if holder.pk != actor.user.pk:
        raise PermissionDenied(_("You are not allowed to manage the MFA devices of other users."))
    ensure_self_service(actor, "allow_manage_mfa")


def create_virtual_mfa_device(*, actor: Actor, name: str) -> Authenticator:
    """A new unbound device, named uniquely within the account; the caller shows its seed once."""
    holder = actor.user or actor.account.owner
    ensure_can_manage_mfa_of(actor, holder)
    if not re.fullmatch(USER_NAME_RE, name or ""):
        raise ValidationError(
            {"name": [_("Use 1–64 characters: letters, digits, periods (.), hyphens (-) and underscores (_).")]}
        )
    if name.lower().startswith(OWNER_DEVICE_NAME.lower()):
        raise ValidationError(
            {"name": [_("“%(name)s” is reserved for the primary account's authenticators.") % {"name": name}]}
        )
    with transaction.atomic():
        # Locking the account serialises device creation in it, so that two requests cannot take one name.
        account = PrimaryAccount.objects.select_for_update().get(pk=actor.account.pk)
        if devices_of_account(account).filter(name__iexact=name).exists():
            raise ValidationError(
                _("A virtual MFA device named %(name)s already exists.") % {"name": name}, code="name_taken"
            )
        device = new_authenticator(user=holder, name=name)
        record_event(
            actor=actor, action="mfa.device_create", target=serial_number(account, device), details={"device": name}
        )
    return device


def bind_virtual_mfa_device(
    *, actor: Actor, device: Authenticator, ram_user: RamUser, code: str, next_code: str
) -> None:
    """Binds an unbound device to a RAM user who has none, with two consecutive codes from it."""
    ensure_same_account(actor, ram_user)
    ensure_can_manage_mfa_of(actor, ram_user.user)
    if actor.user is not None and not can_write_ram(actor.user) and device.user_id != actor.user.pk:
        raise PermissionDenied(_("You can bind only a device you created."))
    with transaction.atomic():
        locked: Authenticator | None = (
            Authenticator.objects.select_for_update().filter(pk=device.pk, confirmed=False).first()
        )
        if locked is None:
            raise ValidationError(_("This virtual MFA device does not exist or is bound."), code="device_gone")
        if has_mfa_device(ram_user.user):
            raise ValidationError(
                _("%(name)s already has an MFA device; unbind it first.") % {"name": ram_user.name},
                code="already_bound",
            )
        # Handed over before the codes are checked: the check commits on its own (a wrong code must count
        # towards throttling), and it looks for the device among the user's.
        locked.hand_to(ram_user.user)
        locked.save(update_fields=["user", "key"])
    confirm_totp_enrolment(
        actor=actor, user=ram_user.user, device_id=device.pk, code=code, next_code=next_code, backup_codes=False
    )


def delete_virtual_mfa_device(*, actor: Actor, device: Authenticator) -> None:
    """Deletes an unbound device; a bound one is unbound first (which deletes it)."""
    ensure_can_manage_mfa_of(actor, device.user)
    with transaction.atomic():
        locked: Authenticator | None = Authenticator.objects.select_for_update().filter(pk=device.pk).first()
        if locked is None:
            return
        if locked.confirmed:
            raise ValidationError(_("The virtual MFA device is bound to a user; unbind it first."), code="bound")
        serial = serial_number(actor.account, locked)
        locked.delete()
        record_event(actor=actor, action="mfa.device_delete", target=serial, details={"device": device.name})
