"""AccessKeys ("Create AccessKey", "Enable", "Disable", "Delete"): issued after an OTP check, secret shown once."""

import secrets
import string
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import AccessKey, DeliveryPacket, OneTimeReveal, User
from accounts.permissions import can_write_ram
from accounts.services.otp import require_otp
from accounts.services.packets import seal_delivery_packet, supersede_packet_secrets
from accounts.services.reveals import fill_reveal
from portal.audit import record_event
from portal.keyring import keyring

ACCESS_KEY_ID_PREFIX = "LTAI"
ACCESS_KEY_ID_LENGTH = 24
ACCESS_KEY_SECRET_LENGTH = 30
ALPHANUMERIC = string.ascii_letters + string.digits
# How often a key's "last used" is written: at most once a minute, so that busy keys don't make every
# signed request a write.
LAST_USED_RESOLUTION_SECONDS = 60


@dataclass(frozen=True)
class IssuedAccessKey:
    access_key: AccessKey
    secret: str  # shown once by the caller, never stored in clear
    packet: DeliveryPacket | None = None  # an administrator's key for a RAM user is also sealed for delivery


def new_access_key_id() -> str:
    return ACCESS_KEY_ID_PREFIX + "".join(
        secrets.choice(ALPHANUMERIC) for _ in range(ACCESS_KEY_ID_LENGTH - len(ACCESS_KEY_ID_PREFIX))
    )


def new_access_key_secret() -> str:
    return "".join(secrets.choice(ALPHANUMERIC) for _ in range(ACCESS_KEY_SECRET_LENGTH))


def open_secret(access_key: AccessKey) -> str:
    """The key's secret, for checking a request signature; never for display."""
    return keyring().open(access_key.sealed_secret, associated_data=access_key.associated_data)


def ensure_can_manage_keys_of(actor: Actor, holder: User) -> None:
    """Who may manage whose keys: the owner its own; RAM administrators RAM users'; a RAM user its own
    where the security settings allow it. Everything else is refused."""
    if actor.user is None:  # an operator on the server
        return
    if holder.is_owner:
        if holder.pk != actor.user.pk:
            raise PermissionDenied(_("Only the owner manages the primary account's AccessKeys."))
        return
    if holder.ram_user.account_id != actor.account.pk:
        raise PermissionDenied(_("This RAM user belongs to another account."))
    if can_write_ram(actor.user):
        return
    if holder.pk == actor.user.pk and actor.account.security_settings.allow_manage_access_keys:
        return
    raise PermissionDenied(_("You are not allowed to manage these AccessKeys."))


def _needs_otp_for_every_change(holder: User) -> bool:
    # The primary account's own keys can do everything: every operation on them needs the owner's code.
    return holder.is_owner


def issue_access_key(
    *, actor: Actor, holder: User, otp_code: str | None, reveal: OneTimeReveal | None = None
) -> IssuedAccessKey:
    """A new Active key for `holder`, within the per-user limit even under concurrent requests.

    The actor's code is checked first, so a replayed form issues nothing. The secret goes to the form's one-time
    page (`reveal`): through the key's delivery packet when a RAM user gets one from an administrator.
    """
    ensure_can_manage_keys_of(actor, holder)
    require_otp(actor=actor, otp_code=otp_code)
    with transaction.atomic():
        access_key, secret = create_access_key_locked(actor=actor, holder=holder)
        packet = None
        if not holder.is_owner and holder != actor.user:
            packet = seal_delivery_packet(
                actor=actor,
                ram_user=holder.ram_user,
                access_key_id=access_key.access_key_id,
                access_key_secret=secret,
            )
        record_event(
            actor=actor,
            action="access_key.create",
            target=holder.principal,
            details={"access_key_id": access_key.access_key_id} | ({"delivery_packet": packet.pk} if packet else {}),
        )
        fill_reveal(
            reveal,
            packets=[packet],
            secrets=None if packet else {"access_key_secret": secret},
            facts={"access_key_id": access_key.access_key_id, "holder": holder.pk},
        )
    return IssuedAccessKey(access_key=access_key, secret=secret, packet=packet)


def create_access_key_locked(*, actor: Actor, holder: User) -> tuple[AccessKey, str]:
    """A new key and its secret, within the per-user limit. Runs inside the caller's transaction and
    audit event, after the caller has checked who may do this."""
    limit = settings.PORTAL_MAX_ACCESS_KEYS_PER_USER
    # Locking the holder's row serialises issuance per user: the count below cannot go stale.
    User.objects.select_for_update().get(pk=holder.pk)
    if AccessKey.objects.filter(user=holder).count() >= limit:
        raise ValidationError(
            _("A user can have at most %(limit)s AccessKeys. Disable and delete one first.") % {"limit": limit},
            code="limit_exceeded",
        )
    secret = new_access_key_secret()
    access_key_id = new_access_key_id()
    access_key = AccessKey.objects.create(
        access_key_id=access_key_id,
        user=holder,
        sealed_secret=keyring().seal(secret, associated_data=access_key_id),
        created_by=actor.principal,
    )
    return access_key, secret


def set_access_key_status(
    *, actor: Actor, access_key: AccessKey, is_active: bool, otp_code: str | None = None
) -> AccessKey:
    """ "Enable" or "Disable" a key; disabling stops it signing requests at once."""
    holder = access_key.user
    ensure_can_manage_keys_of(actor, holder)
    if _needs_otp_for_every_change(holder):
        require_otp(actor=actor, otp_code=otp_code)
    status = AccessKey.Status.ACTIVE if is_active else AccessKey.Status.INACTIVE
    with transaction.atomic():
        locked = AccessKey.objects.select_for_update().get(pk=access_key.pk)
        if locked.status == status:
            return locked
        locked.status = status
        locked.save(update_fields=["status"])
        record_event(
            actor=actor,
            action="access_key.enable" if is_active else "access_key.disable",
            target=holder.principal,
            details={"access_key_id": locked.access_key_id},
        )
    return locked


def delete_access_key(*, actor: Actor, access_key: AccessKey, otp_code: str | None = None) -> None:
    """Deletes an Inactive key for good: its ID never signs anything again."""
    holder = access_key.user
    ensure_can_manage_keys_of(actor, holder)
    if _needs_otp_for_every_change(holder):
        require_otp(actor=actor, otp_code=otp_code)
    with transaction.atomic():
        locked = AccessKey.objects.select_for_update().filter(pk=access_key.pk).first()
        if locked is None:
            return
        if locked.is_active:
            raise ValidationError(_("Disable the AccessKey before deleting it."), code="delete_active_key")
        locked.delete()
        superseded = (
            []
            if holder.is_owner
            else supersede_packet_secrets(
                actor=actor, ram_user=holder.ram_user, event="access_key_deleted", access_key_id=locked.access_key_id
            )
        )
        record_event(
            actor=actor,
            action="access_key.delete",
            target=holder.principal,
            details={"access_key_id": access_key.access_key_id}
            | ({"superseded_packets": superseded} if superseded else {}),
        )


def record_access_key_use(*, access_key: AccessKey, channel: str, service: str) -> None:
    """Stamps when and through what a key was last used, at most once a minute per key."""
    now = timezone.now()
    if (
        access_key.last_used_at is not None
        and (now - access_key.last_used_at).total_seconds() < LAST_USED_RESOLUTION_SECONDS
        and access_key.last_used_channel == channel
    ):
        return
    AccessKey.objects.filter(pk=access_key.pk).update(
        last_used_at=now, last_used_channel=channel, last_used_service=service
    )
