"""The password step of signing in (owners by email, RAM users at their logon link), within the bounds on
password guessing (accounts.services.guessing); and the records of signing in and clearing its locks."""

import ipaddress
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.actors import ANONYMOUS, Actor
from accounts.models import (
    PasswordPolicy,
    PrimaryAccount,
    RamUser,
    User,
)
from accounts.passwords import policy_for
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
    source_locked_until,
)
from accounts.services.otp import MfaDevice, verify_code_past_guessing_lock
from portal.audit import Origin, record_event

OWNER_MAX_FAILED_ATTEMPTS = 5
# Marked here, translated where said (as plain English here, tests and callers compare them).
SIGN_IN_REFUSED = gettext_noop("The logon name or password is incorrect, or sign-in is locked for a while. Try again.")
LOCKED_HERE = gettext_noop(
    "Too many failed sign-ins with this logon name from your network: sign-in from here is locked until %(until)s "
    "UTC. The password was not checked; try again then, or ask your administrator to clear the lock."
)
LOCKED_HERE_FOR_A_WHILE = gettext_noop(  # (the lock's end unknown: it ended meanwhile)
    "Too many failed sign-ins with this logon name from your network: sign-in from here is locked until later. "
    "The password was not checked; try again then, or ask your administrator to clear the lock."
)
GUESSING_LOCKED = gettext_noop(
    "Too many wrong passwords were tried for this logon name, so a password alone does not sign in here for a while. "
    "Enter your password together with a code from your MFA device, or sign in from a browser you have used here "
    "before."
)
GUESSING_LOCKED_CODES_SPENT = gettext_noop(
    "Too many wrong passwords and codes were tried for this logon name. Sign in from a browser you have used here "
    "before, try again later, or ask your administrator to clear the sign-in lock."
)
# Verifying against this keeps the time of an unknown name equal to that of a wrong password.
_DUMMY_HASH = make_password("portal-dummy-password-for-timing")


class SignInRefused(Exception):
    def __init__(self, message: str | None = None, *, needs_code: bool = False):
        message = message or _(SIGN_IN_REFUSED)
        self.message = message
        self.needs_code = needs_code  # the form must ask for a code beside the password (guessing lock)
        super().__init__(message)


@dataclass(frozen=True)
class PasswordChecked:
    user: User
    device: MfaDevice | None = None  # a code verified in the same step (passing the lock on guessing)


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
            actor=Actor(account=account, origin=origin, label=ANONYMOUS),
            action="sign_in.failed",
            target=identity,
            details={"reason": reason},
        )


def identity_of(user: User) -> str:
    """The name the guessing bounds count a user's sign-ins under (unknown names are counted the same way)."""
    if user.is_owner:
        assert user.email is not None, "an owner signs in by email (accounts.services.primary_accounts)"
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
) -> PasswordChecked:
    """The password step within the guessing bounds (accounts.services.guessing); `user` is None when no one
    may sign in under this name, and is refused. Returns who passed, with the device whose code passed the identity's
    lock if it was locked."""
    source_ip = source_key(origin.source_ip)
    # Locked identities are refused without hashing: unknown names lock the same way, so this says nothing.
    if not reserve_attempt(identity=identity, source_ip=source_ip, max_attempts=max_attempts):
        _record_failure(account, origin, identity, "locked")
        # Said as it is: the password was not checked, so this reveals nothing of it, and unknown names lock alike.
        until = source_locked_until(identity=identity, source_ip=source_ip)
        raise SignInRefused(_(LOCKED_HERE) % {"until": f"{until:%H:%M}"} if until else _(LOCKED_HERE_FOR_A_WHILE))
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
                    actor=Actor(account=account, origin=origin, label=ANONYMOUS),
                    action="sign_in.guessing_locked",
                    target=identity,
                    details={"failures": IDENTITY_MAX_FAILURES, "locked_sources": locked_sources(identity)},
                )
        raise SignInRefused()
    clear_failures(identity=identity, source_ip=source_ip)
    clear_identity_failures(identity=identity, reservation=reservation)
    return PasswordChecked(user=user)


def _pass_guessing_lock(
    *,
    identity: str,
    user: User | None,
    password: str,
    account: PrimaryAccount | None,
    origin: Origin,
    otp_code: str | None,
) -> PasswordChecked:
    """The way past an identity's lock on guessing: a fresh code of one of its MFA devices, then the password.

    The code is checked first and only a valid one earns a password check; it is spent even when the password
    then is wrong, or whoever holds one valid code could try passwords with it until it expires.
    """
    if not otp_code:
        _record_failure(account, origin, identity, "guessing_locked")
        raise SignInRefused(_(GUESSING_LOCKED), needs_code=True)
    if not reserve_code_attempt(identity=identity):
        _record_failure(account, origin, identity, "guessing_locked")
        raise SignInRefused(_(GUESSING_LOCKED_CODES_SPENT), needs_code=True)
    device = verify_code_past_guessing_lock(user=user, code=otp_code) if user is not None else None
    if user is None or device is None:
        _record_failure(account, origin, identity, "wrong_code")
        raise SignInRefused(_(GUESSING_LOCKED), needs_code=True)
    if not user.check_password(password or ""):
        _record_failure(account, origin, identity, "wrong_password")
        raise SignInRefused(_(GUESSING_LOCKED), needs_code=True)
    code_attempt_succeeded(identity=identity)
    clear_failures(identity=identity, source_ip=source_key(origin.source_ip))
    return PasswordChecked(user=user, device=device)


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
    return _check_password_step(
        identity=owner_identity(email),
        max_attempts=OWNER_MAX_FAILED_ATTEMPTS,
        user=user if account else None,
        password=password,
        account=account,
        origin=origin,
        known_devices=known_devices,
        otp_code=otp_code,
    )


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
            _("Console sign-in to this account is not allowed from your network (%(address)s).")
            % {"address": source_key(origin.source_ip)}
        )
    name = split_logon_name(login, account) or ""
    identity = ram_identity(account.account_id, name)
    policy = policy_for(account)
    ram_user = RamUser.objects.named(account=account, name=name)
    is_allowed = ram_user is not None and ram_user.is_console_logon_enabled and ram_user.user.is_active
    checked = _check_password_step(
        identity=identity,
        max_attempts=policy.max_failed_attempts,
        user=ram_user.user if ram_user is not None and is_allowed else None,
        password=password,
        account=account,
        origin=origin,
        known_devices=known_devices,
        otp_code=otp_code,
    )
    if policy.hard_expiry and is_password_expired(checked.user, account, policy=policy):
        _record_failure(account, origin, identity, "password_expired")
        raise SignInRefused(_("Your password has expired. Ask an administrator to set a new one."))
    return checked


def clear_sign_in_lock(*, actor: Actor, ram_user: RamUser) -> None:
    """ "Clear sign-in lock": lifts the user's locks against password guessing, the identity's and every source's."""
    ensure_can_write_ram(actor)
    ensure_same_account(actor, ram_user)
    identity = ram_identity(ram_user.account.account_id, ram_user.name)
    _clear_locks(actor, identity, target=ram_user.principal, not_locked=_("The sign-in of this user is not locked."))


def clear_own_sign_in_lock(*, actor: Actor) -> None:
    """The owner lifts the locks on their own sign-in (signed in past them: with a code, or from a known browser)."""
    owner = actor.person
    if not owner.is_owner:
        raise PermissionDenied(_("Only the owner clears their own lock; a RAM user asks an administrator."))
    _clear_locks(actor, identity_of(owner), target=owner.display, not_locked=_("Your sign-in is not locked."))


def _clear_locks(actor: Actor, identity: str, *, target: str, not_locked: str) -> None:
    with transaction.atomic():
        was_locked, sources = clear_every_lock(identity=identity)
        if not (was_locked or sources):
            raise ValidationError(not_locked)
        record_event(
            actor=actor,
            action="sign_in.unlock",
            target=target,
            details={"guessing_lock": was_locked, "locked_sources": sources},
        )


def record_sign_in(*, actor: Actor) -> None:
    # Django's login() has already stamped last_login.
    with transaction.atomic():
        record_event(actor=actor, action="sign_in.success", target=actor.person.display)
