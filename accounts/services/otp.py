"""One-time passwords: TOTP enrolment, backup codes, and the check that guards sensitive actions."""

import math
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.oath import TOTP
from django_otp_webauthn.models import WebAuthnCredential

from accounts.actors import Actor
from accounts.models import (
    USER_NAME_RE,
    Authenticator,
    BackupCode,
    BackupCodeDevice,
    OneTimeReveal,
    PasskeyProof,
    PrimaryAccount,
    User,
    authenticator_associated_data,
    hash_backup_code,
)
from accounts.services.reveals import fill_reveal
from portal.audit import Origin, record_event
from portal.keyring import keyring

BACKUP_CODE_COUNT = 10
# A passkey's one-time code (accounts.models.PasskeyProof): "pk" and 14 letters and digits, good for two minutes.
PASSKEY_CODE_PREFIX = "pk"
PASSKEY_CODE_LIFETIME = timedelta(minutes=2)
BACKUP_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
OWNER_DEVICE_NAME = "Authenticator"

# What accepts a code: an authenticator or the backup codes. (Both derive from django-otp's models, which ship no
# types: their managers answer Any, so what they return is given its type where it is read.)
type MfaDevice = Authenticator | BackupCodeDevice | WebAuthnCredential


class OtpRejected(ValidationError):
    def __init__(self, message: str | None = None) -> None:
        message = message or _("The verification code is wrong or has already been used.")
        super().__init__({"otp_code": [message]}, code="otp_rejected")


def new_authenticator(*, user: User, name: str, confirmed: bool = False) -> Authenticator:
    """A TOTP device with a fresh 160-bit seed (RFC 4226's recommended length), stored only sealed."""
    seed = secrets.token_bytes(20)
    sealed = keyring().seal_bytes(seed, associated_data=authenticator_associated_data(user.pk))
    return Authenticator.objects.create(user=user, name=name, confirmed=confirmed, key=sealed)


def has_mfa_device(user: User) -> bool:
    """Whether the person has an MFA device: an authenticator or a passkey (either makes sign-in ask for it)."""
    has_device: bool = (
        Authenticator.objects.filter(user=user, confirmed=True).exists()
        or WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    )
    return has_device


def mfa_device_count(user: User) -> int:
    """The person's MFA devices of every kind (authenticators and passkeys), for PORTAL_MAX_MFA_DEVICES."""
    count: int = (
        Authenticator.objects.filter(user=user, confirmed=True).count()
        + WebAuthnCredential.objects.filter(user=user, confirmed=True).count()
    )
    return count


def devices_of_account(account: PrimaryAccount) -> QuerySet[Authenticator]:
    """The account's virtual MFA devices as the RAM OpenAPI lists them: its RAM users', and unbound ones the owner
    created. The owner's own authenticators are not RAM devices: they guard the primary account and stay out of
    reach."""
    # (Named: the model's manager comes from django-otp, which ships no types.)
    devices: QuerySet[Authenticator] = Authenticator.objects.filter(
        Q(user__ram_user__account=account)
        # (the owner's own enrolments under way are "Authenticator…": never the API's)
        | (Q(user__owned_account=account, confirmed=False) & ~Q(name__istartswith=OWNER_DEVICE_NAME))
    )
    return devices


def mfa_devices_of(user: User) -> QuerySet[Authenticator]:
    """The person's bound MFA devices, oldest first."""
    devices: QuerySet[Authenticator] = Authenticator.objects.filter(user=user, confirmed=True).order_by("pk")
    return devices


def _taken_device_names(user: User) -> set[str]:
    """Names a new device of `user` may not take (lower case): its own devices' and, for a RAM user, every device
    of the account bound or created unbound through the API, since the RAM OpenAPI tells devices apart by name (their
    serial numbers). The person's own pending enrolment does not count."""
    if user.is_owner:
        names = Authenticator.objects.filter(user=user, confirmed=True).values_list("name", flat=True)
    else:
        account_devices = devices_of_account(user.ram_user.account).exclude(user=user, confirmed=False)
        names = account_devices.values_list("name", flat=True)
    passkeys = WebAuthnCredential.objects.filter(user=user, confirmed=True).values_list("name", flat=True)
    return {name.lower() for name in [*names, *passkeys]}


def suggested_device_name(user: User, *, base: str = "") -> str:
    """The name a new device is offered: the first is named as RAM's console names it (the user's name, or
    "Authenticator" for the owner), later ones get a number; a passkey's from `base` ("passkey")."""
    base = base or (OWNER_DEVICE_NAME if user.is_owner else user.ram_user.name)
    taken = _taken_device_names(user)
    if base.lower() not in taken:
        return base
    number = 2
    while f"{base}-{number}".lower() in taken:
        number += 1
    return f"{base}-{number}"[:64]


def device_name_problems(user: User, name: str) -> list[str]:
    if not re.fullmatch(USER_NAME_RE, name or ""):
        return [_("Use 1–64 characters: letters, digits, periods (.), hyphens (-) and underscores (_).")]
    if name.lower() in _taken_device_names(user):
        return [_("A device named %(name)s exists already: choose another name.") % {"name": name}]
    return []


PASSKEY_NAME = "passkey"  # (a device name, as the portal's device names go: letters, digits, . _ -)


def start_totp_enrolment(*, actor: Actor, user: User) -> Authenticator:
    """A fresh unconfirmed device whose seed the caller shows once (recorded as shown); any earlier unconfirmed
    one is dropped, so its seed is never shown twice. It is named when it is confirmed."""
    with transaction.atomic():
        Authenticator.objects.filter(user=user, confirmed=False).delete()
        device = new_authenticator(user=user, name=suggested_device_name(user))
        record_event(actor=actor, action="mfa.seed_shown", target=user.display)
        return device


def confirm_totp_enrolment(
    *,
    actor: Actor,
    user: User,
    device_id: int,
    code: str,
    next_code: str | None = None,
    reveal: OneTimeReveal | None = None,
    name: str | None = None,
    backup_codes: bool = True,
) -> list[str]:
    """Confirms the pending device with a code from it (and, when given, the code of the next time step), beside the
    person's other devices (at most PORTAL_MAX_MFA_DEVICES), named `name` (else as it was offered).

    The person's first MFA device brings ten backup codes (unless `backup_codes` is off: a device bound through the
    API, whose answer goes to a program), returned here (and to the form's one-time page, `reveal`) and stored only
    as hashes; later devices keep the codes the person has.
    """
    limit = settings.PORTAL_MAX_MFA_DEVICES
    if name is not None:
        problems = device_name_problems(user, name)
        if problems:
            raise ValidationError({"name": problems}, code="device_name")
    if mfa_device_count(user) >= limit:
        raise ValidationError({"otp_code": [_at_the_limit(limit)]}, code="device_limit")
    with transaction.atomic():
        device: Authenticator | None = (
            Authenticator.objects.select_for_update().filter(user=user, pk=device_id, confirmed=False).first()
        )
        if device is None:
            raise ValidationError(
                {"otp_code": [_("This enrolment has expired; scan the new QR code.")]}, code="enrolment_expired"
            )
        is_valid = device.verify_token(code)
        if is_valid and next_code is not None:
            # RAM binds with two consecutive codes: proof that the authenticator's clock runs with ours.
            first_step = device.last_t
            is_valid = device.verify_token(next_code) and device.last_t == first_step + 1
    if not is_valid:
        with transaction.atomic():
            record_event(actor=actor, action="mfa.failed", target=user.display)
        raise OtpRejected(_("The code does not match; check the authenticator's clock and try again."))
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # devices are counted one enrolment at a time
        if mfa_device_count(user) >= limit:
            raise ValidationError({"otp_code": [_at_the_limit(limit)]}, code="device_limit")
        if name is not None and name.lower() in _taken_device_names(user):  # taken meanwhile
            raise ValidationError(
                {"name": [_("A device named %(name)s exists already: choose another name.") % {"name": name}]}
            )
        device.confirmed = True
        if name is not None:
            device.name = name
        device.save(update_fields=["confirmed", "name"])
        has_codes = BackupCodeDevice.objects.filter(user=user).exists()
        codes = _replace_backup_codes(user) if backup_codes and not has_codes else []
        record_event(actor=actor, action="mfa.bind", target=user.display, details={"device": device.name})
        fill_reveal(reveal, secrets={"backup_codes": codes} if codes else None)
    return codes


def _at_the_limit(limit: int) -> str:
    return ngettext(
        "You have %(limit)s MFA device, the most allowed: remove one before adding another.",
        "You have %(limit)s MFA devices, the most allowed: remove one before adding another.",
        limit,
    ) % {"limit": limit}


def is_mfa_required(user: User) -> bool:
    """Whether the person must sign in with MFA: the owner always, a RAM user when its administrator says so."""
    return user.is_owner or user.ram_user.must_bind_mfa


def remove_mfa_device(*, actor: Actor, device_id: int, otp_code: str | None) -> str:
    """Removes one of the actor's own authenticators, with a code from any MFA device (a passkey's too, or a backup
    code); never the last MFA device while MFA is required. Returns the device's name."""
    user = actor.person
    require_otp(actor=actor, otp_code=otp_code)
    with transaction.atomic():
        device = _device_to_remove(user, mfa_devices_of(user).filter(pk=device_id))
        device.delete()
        _forget_backup_codes_without_devices(user)
        record_event(actor=actor, action="mfa.device_remove", target=user.display, details={"device": device.name})
    name: str = device.name
    return name


def remove_passkey(*, actor: Actor, passkey_id: int, otp_code: str | None) -> str:
    """Removes one of the actor's own passkeys (or security keys), on the same terms as `remove_mfa_device`."""
    user = actor.person
    require_otp(actor=actor, otp_code=otp_code)
    with transaction.atomic():
        passkey = _device_to_remove(user, WebAuthnCredential.objects.filter(user=user, confirmed=True, pk=passkey_id))
        passkey.delete()
        _forget_backup_codes_without_devices(user)
        record_event(actor=actor, action="mfa.passkey_remove", target=user.display, details={"device": passkey.name})
    name: str = passkey.name
    return name


def devices_left_after_removal(user: User) -> str:
    """What removing one of the person's MFA devices leaves them (the removal pages say it)."""
    others = mfa_device_count(user) - 1
    if others:
        return ngettext("You keep %(count)s other MFA device.", "You keep %(count)s other MFA devices.", others) % {
            "count": others
        }
    return _("It is your only MFA device: without one, sign-in asks for no code and your backup codes go with it.")


def _device_to_remove[D: (Authenticator, WebAuthnCredential)](user: User, devices: QuerySet[D]) -> D:
    """The device about to go, read under the person's row lock (two removals at once see each other's): refused
    when it is gone already, or is the last MFA device of a person who must sign in with MFA."""
    User.objects.select_for_update().filter(pk=user.pk).first()
    device = devices.first()
    if device is None:
        raise ValidationError(_("This MFA device is not one of yours, or was removed already."), code="device_gone")
    if mfa_device_count(user) == 1 and is_mfa_required(user):
        raise ValidationError(
            _("This is your only MFA device, and you must sign in with MFA: add another before removing it."),
            code="last_device",
        )
    return device


def _forget_backup_codes_without_devices(user: User) -> None:
    """Backup codes stand in for a device the person has: with the last one (of any kind) they go too."""
    if not has_mfa_device(user):
        BackupCodeDevice.objects.filter(user=user).delete()


def regenerate_backup_codes(*, actor: Actor, otp_code: str, reveal: OneTimeReveal | None = None) -> list[str]:
    """Ten new backup codes replace the old ones; the form's one-time page (`reveal`) shows them once."""
    require_otp(actor=actor, otp_code=otp_code)
    user = actor.person  # one's own backup codes
    with transaction.atomic():
        codes = _replace_backup_codes(user)
        record_event(actor=actor, action="mfa.backup_codes_regenerated", target=user.display)
        fill_reveal(reveal, secrets={"backup_codes": codes})
    return codes


def _replace_backup_codes(user: User) -> list[str]:
    BackupCodeDevice.objects.filter(user=user).delete()
    device: BackupCodeDevice = BackupCodeDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = []
    for _number in range(BACKUP_CODE_COUNT):
        raw = "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    BackupCode.objects.bulk_create(BackupCode(device=device, code_hash=hash_backup_code(code)) for code in codes)
    return codes


class OtpThrottled(OtpRejected):
    """Every device that could take the code is waiting out its throttle: the code was not even looked at."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        super().__init__(
            ngettext(
                "Too many attempts: wait %(seconds)s second, then enter the code your device shows then. (This code "
                "was not checked.)",
                "Too many attempts: wait %(seconds)s seconds, then enter the code your device shows then. (This code "
                "was not checked.)",
                seconds,
            )
            % {"seconds": seconds}
        )


def _throttled_for(devices: Sequence[Authenticator | BackupCodeDevice]) -> int:
    """Seconds until one of the devices takes a code again (django-otp doubles the wait after each wrong code);
    0 when one takes it now."""
    waits = []
    for device in devices:
        is_allowed, reason = device.verify_is_allowed()
        if is_allowed:
            return 0
        until = (reason or {}).get("locked_until")
        waits.append(math.ceil((until - timezone.now()).total_seconds()) if until else 1)
    return max(1, min(waits)) if waits else 0


def issue_passkey_code(*, user: User, device: WebAuthnCredential) -> str:
    """The one-time code a passkey's fresh signature stands for (accounts.passkeys): the person's page submits it
    as a code, which verify_otp accepts once, within PASSKEY_CODE_LIFETIME, from this person only."""
    code = PASSKEY_CODE_PREFIX + "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(14))
    PasskeyProof.objects.filter(user=user, expires_at__lt=timezone.now()).delete()
    PasskeyProof.objects.create(
        user=user, device=device, code_hash=hash_backup_code(code), expires_at=timezone.now() + PASSKEY_CODE_LIFETIME
    )
    return code


def _passkey_code_device(user: User, code: str) -> WebAuthnCredential | None:
    """The passkey behind a passkey's one-time code, spending the code; None when it is not one (any more)."""
    proof: PasskeyProof | None = (
        PasskeyProof.objects.select_for_update()
        .filter(user=user, code_hash=hash_backup_code(code), expires_at__gt=timezone.now())
        .select_related("device")
        .first()
    )
    if proof is None:
        return None
    proof.delete()
    device: WebAuthnCredential = proof.device
    return device


def verify_otp(*, user: User, code: str, origin: Origin) -> MfaDevice | None:
    """The device that accepts the code, or None. Rows are locked so that a code is never accepted twice.
    OtpThrottled when every device that could take it is still waiting out its throttle.

    The check commits on its own: a failure must count towards throttling even when the caller stops.
    """
    code = (code or "").strip().replace(" ", "")
    devices: list[Authenticator] | list[BackupCodeDevice]
    if code.startswith(PASSKEY_CODE_PREFIX) and len(code) == len(PASSKEY_CODE_PREFIX) + 14:
        with transaction.atomic():
            passkey = _passkey_code_device(user, code)
            if passkey is None:
                record_event(
                    actor=Actor(account=user.account, origin=origin, user=user),
                    action="otp.failed",
                    target=user.display,
                )
            return passkey
    with transaction.atomic():
        if code.isdigit() and len(code) == 6:
            devices = list(Authenticator.objects.select_for_update().filter(user=user, confirmed=True))
        else:
            devices = list(BackupCodeDevice.objects.select_for_update().filter(user=user, confirmed=True))
        wait = _throttled_for(devices)
        if not wait:
            for device in devices:
                if device.verify_token(code):
                    return device
            record_event(
                actor=Actor(account=user.account, origin=origin, user=user), action="otp.failed", target=user.display
            )
    if wait:
        raise OtpThrottled(wait)
    return None


def verify_code_past_guessing_lock(*, user: User, code: str) -> MfaDevice | None:
    """The device that accepts the code, for a sign-in whose identity is locked against password guessing
    (accounts.services.guessing); else None. Never accepted twice, but a wrong code does not throttle the device:
    strangers guessing there would otherwise lock its owner out of this one way past the lock. Guesses here are
    bounded by the per-source lock, and each one that is not a fresh valid code ends before any password check."""
    code = (code or "").strip().replace(" ", "")
    with transaction.atomic():
        if code.isascii() and code.isdigit() and len(code) == 6:  # ("²²²²²²" is digits to isdigit(), not to int())
            authenticators: QuerySet[Authenticator] = Authenticator.objects.select_for_update().filter(
                user=user, confirmed=True
            )
            for device in authenticators:
                totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
                totp.time = time.time()
                if totp.verify(int(code), device.tolerance, device.last_t + 1):
                    device.last_t = totp.t()
                    device.set_last_used_timestamp(commit=False)
                    device.save()
                    return device
        elif 0 < len(code) <= 16:
            backup_code_devices: QuerySet[BackupCodeDevice] = BackupCodeDevice.objects.select_for_update().filter(
                user=user, confirmed=True
            )
            for backup_code_device in backup_code_devices:
                used, _by_model = backup_code_device.codes.filter(code_hash=hash_backup_code(code)).delete()
                if used:
                    return backup_code_device
    return None


@dataclass(frozen=True)
class OtpProof:
    """That `user_id` passed the code check in this request. Made only by `require_otp`, so that a service
    composing others (revoke everything, then delete) checks the code once, outside its transaction."""

    user_id: int | None


def require_otp(*, actor: Actor, otp_code: str | None, proof: OtpProof | None = None) -> OtpProof:
    """Sensitive actions in the console need the actor's own code in the same request.

    Signed API requests and operator commands prove themselves otherwise.
    """
    if proof is not None and actor.user is not None and proof.user_id == actor.user.pk:
        return proof
    if actor.origin.channel != "console":
        return OtpProof(user_id=actor.user.pk if actor.user else None)
    if actor.user is None or not has_mfa_device(actor.user):
        raise OtpRejected(_("This action needs a code from your MFA device: bind one on your credential page first."))
    if not otp_code:
        raise OtpRejected(_("Enter the verification code from your authenticator."))
    if verify_otp(user=actor.user, code=otp_code, origin=actor.origin) is None:
        raise OtpRejected()
    return OtpProof(user_id=actor.user.pk)
