"""Console logon: "Modify Logon Settings", own password changes, and the password step of sign-in."""

import ipaddress
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_otp.models import Device

from accounts.actors import Actor
from accounts.models import (
    DeliveryPacket,
    OneTimeReveal,
    PasswordHistoryEntry,
    PasswordPolicy,
    PrimaryAccount,
    RamUser,
    User,
)
from accounts.passwords import generate_password, password_problems, policy_for
from accounts.permissions import ensure_can_write_ram, ensure_same_account
from accounts.services.guessing import (
    IDENTITY_MAX_FAILURES,
    clear_every_lock,
    clear_failures,
    clear_identity_failures,
    code_attempt_succeeded,
    known_device_mark,
    locked_sources,
    owner_identity,
    ram_identity,
    reserve_attempt,
    reserve_code_attempt,
    reserve_identity_attempt,
    source_key,
)
from accounts.services.otp import verify_code_past_guessing_lock
from accounts.services.packets import seal_delivery_packet, supersede_packet_secrets
from accounts.services.ram_users import context_words
from accounts.services.reveals import fill_reveal
from portal.audit import Origin, record_event

OWNER_MAX_FAILED_ATTEMPTS = 5
SIGN_IN_REFUSED = "The logon name or password is incorrect, or sign-in is locked for a while. Try again."
GUESSING_LOCKED = (
    "Too many wrong passwords were tried for this logon name, so a password alone does not sign in here for a while. "
    "Enter your password together with a code from your MFA device, or sign in from a browser you have used here "
    "before."
)
GUESSING_LOCKED_CODES_SPENT = (
    "Too many wrong passwords and codes were tried for this logon name. Sign in from a browser you have used here "
    "before, try again later, or ask your administrator to clear the sign-in lock."
)
# Verifying against this keeps the time of an unknown name equal to that of a wrong password.
_DUMMY_HASH = make_password("portal-dummy-password-for-timing")


class SignInRefused(Exception):
    def __init__(self, message: str = SIGN_IN_REFUSED, *, needs_code: bool = False):
        self.message = message
        self.needs_code = needs_code  # the form must ask for a code beside the password (guessing lock)
        super().__init__(message)


@dataclass(frozen=True)
class PasswordChecked:
    user: User
    device: Device | None = None  # a code verified in the same step (passing the lock on guessing)


@dataclass(frozen=True)
class LogonChange:
    is_enabled: bool
    new_password: str | None = None  # a typed password
    generate_password: bool = False
    must_reset_password: bool = False
    must_bind_mfa: bool = False


def end_sessions(user: User) -> None:
    """Every session of the user stops at its next request (the session hash no longer matches)."""
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])


def _store_new_password(user: User, password: str) -> None:
    if user.has_usable_password():
        PasswordHistoryEntry.objects.create(user=user, password=user.password)
    user.set_password(password)
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "password_changed_at"])
    end_sessions(user)


@dataclass(frozen=True)
class LogonResult:
    generated_password: str | None = None  # shown once by the caller
    packet: DeliveryPacket | None = None  # a new password, sealed for delivery


def modify_logon_settings(
    *, actor: Actor, ram_user: RamUser, change: LogonChange, reveal: OneTimeReveal | None = None
) -> LogonResult:
    """Applies "Modify Logon Settings". A new password (typed or generated) is sealed in a delivery packet,
    which the form's one-time page (`reveal`) opens.

    Disabling logon or setting a password ends the user's sessions.
    """
    ensure_can_write_ram(actor)
    ensure_same_account(actor, ram_user)
    user = ram_user.user
    generated = None
    new_password = change.new_password
    if change.is_enabled:
        if change.generate_password:
            new_password = generated = generate_password(policy_for(actor.account))
        elif new_password:
            weak = password_problems(
                new_password,
                policy=policy_for(actor.account),
                context_words=context_words(actor.account, ram_user.name),
                user=user,
            )
            if weak:
                raise ValidationError({"password": weak})
        elif not user.has_usable_password():
            raise ValidationError({"password": ["Set a password or generate one to enable console logon."]})
    packet = None
    superseded = []
    with transaction.atomic():
        # Only the RAM user's row is locked (not the joined identity and account rows): every path that changes a
        # RAM user's password takes this lock first, so two of them never wait on each other crosswise.
        locked = RamUser.objects.select_for_update(of=("self",)).select_related("user", "account").get(pk=ram_user.pk)
        was_enabled = locked.is_console_logon_enabled
        if not change.is_enabled:
            if locked.user.has_usable_password():
                superseded = supersede_packet_secrets(
                    actor=actor, ram_user=locked, event="console_logon_disabled", password=True
                )
            locked.user.set_unusable_password()
            locked.user.save(update_fields=["password"])
            end_sessions(locked.user)
            locked.is_console_logon_enabled = False
            locked.must_reset_password = False
            locked.must_bind_mfa = False
            action = "console_logon.disable"
        else:
            if new_password:
                _store_new_password(locked.user, new_password)
                # Sealed packets with the old password would hand out one that no longer works.
                superseded = supersede_packet_secrets(
                    actor=actor, ram_user=locked, event="password_replaced", password=True
                )
                packet = seal_delivery_packet(actor=actor, ram_user=locked, password=new_password)
            locked.is_console_logon_enabled = True
            locked.must_reset_password = change.must_reset_password
            locked.must_bind_mfa = change.must_bind_mfa
            action = "console_logon.enable" if not was_enabled else "console_logon.update"
        locked.save()
        record_event(
            actor=actor,
            action=action,
            target=locked.principal,
            details={
                "password_changed": bool(new_password),
                "password_generated": generated is not None,
                "reset_required": locked.must_reset_password,
                "mfa_required": locked.must_bind_mfa,
                "delivery_packet": packet.pk if packet else None,
            }
            | ({"superseded_packets": superseded} if superseded else {}),
        )
        fill_reveal(reveal, packets=[packet], facts={"ram_user": locked.pk})
    return LogonResult(generated_password=generated, packet=packet)


def change_own_password(
    *, actor: Actor, current_password: str, new_password: str, is_forced_reset: bool = False
) -> None:
    """A user replaces their own password: where the settings allow it, or when a reset is required."""
    if not is_forced_reset:
        ensure_self_service(actor, "allow_change_password")
    user = actor.user
    # The same lock as sign-in: whoever holds a session or a key cannot guess the password endlessly.
    identity = identity_of(user)
    source_ip = source_key(actor.origin.source_ip)
    max_attempts = OWNER_MAX_FAILED_ATTEMPTS if user.is_owner else policy_for(actor.account).max_failed_attempts
    # The per-identity bound too: a stolen session or AccessKey must not become a password oracle from many addresses.
    if not reserve_attempt(identity=identity, source_ip=source_ip, max_attempts=max_attempts):
        raise ValidationError({"current_password": ["Too many wrong passwords; try again in an hour."]})
    reservation = reserve_identity_attempt(identity=identity)
    if reservation.is_locked:
        raise ValidationError({"current_password": ["Too many wrong passwords were tried for you; try again later."]})
    if not user.check_password(current_password or ""):
        raise ValidationError({"current_password": ["The current password is incorrect."]})
    clear_failures(identity=identity, source_ip=source_ip)
    clear_identity_failures(identity=identity, reservation=reservation)
    if user.is_owner:
        policy, words = PasswordPolicy(), (user.email.split("@")[0], actor.account.name)
    else:
        ram_user = user.ram_user
        policy, words = policy_for(actor.account), context_words(actor.account, ram_user.name)
    if new_password == current_password:
        raise ValidationError({"new_password": ["The new password must differ from the current one."]})
    weak = password_problems(new_password, policy=policy, context_words=words, user=user)
    if weak:
        raise ValidationError({"new_password": weak})
    with transaction.atomic():
        if not user.is_owner:  # the same lock, first, as "Modify Logon Settings" takes
            RamUser.objects.select_for_update(of=("self",)).filter(pk=user.ram_user.pk).first()
        _store_new_password(user, new_password)
        if not user.is_owner:
            RamUser.objects.filter(pk=user.ram_user.pk).update(must_reset_password=False)
            user.ram_user.must_reset_password = False
        superseded = (
            []
            if user.is_owner
            else supersede_packet_secrets(actor=actor, ram_user=user.ram_user, event="password_replaced", password=True)
        )
        record_event(
            actor=actor,
            action="password.change",
            target=user.display,
            details={"superseded_packets": superseded} if superseded else None,
        )


def is_password_expired(user: User, account: PrimaryAccount, *, policy: PasswordPolicy | None = None) -> bool:
    if user.is_owner or user.password_changed_at is None:
        return False
    policy = policy or policy_for(account)
    if not policy.max_age_days:
        return False
    return user.password_changed_at + timedelta(days=policy.max_age_days) < timezone.now()


def is_source_allowed(account: PrimaryAccount, source_ip: str | None) -> bool:
    masks = account.security_settings.logon_ip_masks
    if not masks:
        return True
    try:
        address = ipaddress.ip_address(source_ip or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(mask, strict=False) for mask in masks)


def _record_failure(account: PrimaryAccount | None, origin: Origin, identity: str, reason: str) -> None:
    if account is None:
        return
    with transaction.atomic():
        record_event(
            actor=Actor(account=account, origin=origin),
            action="sign_in.failed",
            target=identity,
            details={"reason": reason},
        )


def identity_of(user: User) -> str:
    """The name the guessing bounds count a user's sign-ins under (unknown names are counted the same way)."""
    if user.is_owner:
        return owner_identity(user.email)
    return ram_identity(user.ram_user.account.account_id, user.ram_user.name)


def _check_password_step(
    *,
    identity: str,
    max_attempts: int,
    user: User | None,
    password: str,
    account: PrimaryAccount | None,
    origin: Origin,
    known_devices: frozenset[str],
    otp_code: str | None,
) -> Device | None:
    """The password step within the guessing bounds (accounts.services.guessing); `user` is None when no one
    may sign in under this name. Returns the device whose code passed the identity's lock, if it was locked."""
    source_ip = source_key(origin.source_ip)
    # Locked identities are refused without hashing: unknown names lock the same way, so this says nothing.
    if not reserve_attempt(identity=identity, source_ip=source_ip, max_attempts=max_attempts):
        _record_failure(account, origin, identity, "locked")
        raise SignInRefused()
    is_known_device = known_device_mark(identity, user) in known_devices
    reservation = None if is_known_device else reserve_identity_attempt(identity=identity)
    if reservation is not None and reservation.is_locked:
        return _pass_guessing_lock(
            identity=identity, user=user, password=password, account=account, origin=origin, otp_code=otp_code
        )
    if user is None:
        check_password(password, _DUMMY_HASH)
    if user is None or not user.check_password(password or ""):
        _record_failure(account, origin, identity, "wrong_password" if user else "unknown")
        if reservation is not None and reservation.locks_now and account is not None:
            with transaction.atomic():
                record_event(
                    actor=Actor(account=account, origin=origin),
                    action="sign_in.guessing_locked",
                    target=identity,
                    details={"failures": IDENTITY_MAX_FAILURES, "locked_sources": locked_sources(identity)},
                )
        raise SignInRefused()
    clear_failures(identity=identity, source_ip=source_ip)
    clear_identity_failures(identity=identity, reservation=reservation)
    return None


def _pass_guessing_lock(
    *, identity: str, user: User | None, password: str, account, origin: Origin, otp_code: str | None
) -> Device:
    """The way past an identity's lock on guessing: a fresh code of one of its MFA devices, then the password.

    The code is checked first and only a valid one earns a password check; it is spent even when the password
    then is wrong, or whoever holds one valid code could try passwords with it until it expires.
    """
    if not otp_code:
        _record_failure(account, origin, identity, "guessing_locked")
        raise SignInRefused(GUESSING_LOCKED, needs_code=True)
    if not reserve_code_attempt(identity=identity):
        _record_failure(account, origin, identity, "guessing_locked")
        raise SignInRefused(GUESSING_LOCKED_CODES_SPENT, needs_code=True)
    device = verify_code_past_guessing_lock(user=user, code=otp_code) if user is not None else None
    if device is None:
        _record_failure(account, origin, identity, "wrong_code")
        raise SignInRefused(GUESSING_LOCKED, needs_code=True)
    if not user.check_password(password or ""):
        _record_failure(account, origin, identity, "wrong_password")
        raise SignInRefused(GUESSING_LOCKED, needs_code=True)
    code_attempt_succeeded(identity=identity)
    clear_failures(identity=identity, source_ip=source_key(origin.source_ip))
    return device


def check_owner_password(
    *,
    email: str,
    password: str,
    origin: Origin,
    known_devices: frozenset[str] = frozenset(),
    otp_code: str | None = None,
) -> PasswordChecked:
    """The owner whose email and password these are, or SignInRefused with one message for every cause."""
    email = (email or "").strip().lower()
    user = User.objects.filter(email=email, is_active=True).select_related("owned_account").first()
    account = user.owned_account if user is not None and user.is_owner else None
    device = _check_password_step(
        identity=owner_identity(email),
        max_attempts=OWNER_MAX_FAILED_ATTEMPTS,
        user=user if account else None,
        password=password,
        account=account,
        origin=origin,
        known_devices=known_devices,
        otp_code=otp_code,
    )
    return PasswordChecked(user=user, device=device)


def split_logon_name(login: str, account: PrimaryAccount) -> str | None:
    """The user name in `name` or `name@domain`, when the domain is one of this account's; else None."""
    login = (login or "").strip()
    name, at, domain = login.partition("@")
    if at and domain.lower() not in {account.default_domain.lower(), (account.alias_domain or "").lower()}:
        return None
    return name


def check_ram_user_password(
    *,
    account: PrimaryAccount,
    login: str,
    password: str,
    origin: Origin,
    known_devices: frozenset[str] = frozenset(),
    otp_code: str | None = None,
) -> PasswordChecked:
    """The RAM user signing in at this account's logon link, or SignInRefused."""
    if not is_source_allowed(account, origin.source_ip):
        _record_failure(account, origin, login[:100], "network_not_allowed")
        raise SignInRefused(
            f"Console sign-in to this account is not allowed from your network ({source_key(origin.source_ip)})."
        )
    name = split_logon_name(login, account) or ""
    identity = ram_identity(account.account_id, name)
    policy = policy_for(account)
    ram_user = RamUser.objects.named(account=account, name=name)
    is_allowed = ram_user is not None and ram_user.is_console_logon_enabled and ram_user.user.is_active
    device = _check_password_step(
        identity=identity,
        max_attempts=policy.max_failed_attempts,
        user=ram_user.user if is_allowed else None,
        password=password,
        account=account,
        origin=origin,
        known_devices=known_devices,
        otp_code=otp_code,
    )
    if policy.hard_expiry and is_password_expired(ram_user.user, account, policy=policy):
        _record_failure(account, origin, identity, "password_expired")
        raise SignInRefused("Your password has expired. Ask an administrator to set a new one.")
    return PasswordChecked(user=ram_user.user, device=device)


def clear_sign_in_lock(*, actor: Actor, ram_user: RamUser) -> None:
    """ "Clear sign-in lock": lifts the user's locks against password guessing, the identity's and every source's."""
    ensure_can_write_ram(actor)
    ensure_same_account(actor, ram_user)
    with transaction.atomic():
        was_locked, sources = clear_every_lock(identity=ram_identity(ram_user.account.account_id, ram_user.name))
        if not (was_locked or sources):
            raise ValidationError("The sign-in of this user is not locked.")
        record_event(
            actor=actor,
            action="sign_in.unlock",
            target=ram_user.principal,
            details={"guessing_lock": was_locked, "locked_sources": sources},
        )


def record_sign_in(*, actor: Actor) -> None:
    # Django's login() has already stamped last_login.
    with transaction.atomic():
        record_event(actor=actor, action="sign_in.success", target=actor.user.display)


def sign_out_everywhere(*, actor: Actor) -> None:
    with transaction.atomic():
        end_sessions(actor.user)
        record_event(actor=actor, action="sign_out.everywhere", target=actor.user.display)


def ensure_self_service(actor: Actor, setting: str) -> None:
    """RAM users manage their own credentials only where the security settings allow it."""
    if actor.user is not None and not actor.user.is_owner and not getattr(actor.account.security_settings, setting):
        raise PermissionDenied("Your administrator does not allow this.")
