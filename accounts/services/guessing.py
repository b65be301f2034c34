"""Bounds on password guessing that never let a stranger lock a person out (SPEC §4.3).

Two counters, both taken before the password is hashed and under a row lock, so that parallel guesses cannot slip
past them:

- Per (identity, source address): the password policy's "max failed attempts", then an hour's lock. Someone
  guessing from elsewhere cannot lock the person out with it; but an attacker with many addresses gets that many
  guesses from each of them.
- Per identity, across every source: NIST SP 800-63B §5.2.2 allows at most 100 consecutive failed attempts on one
  account. After IDENTITY_MAX_FAILURES consecutive failures from browsers not known to the identity, the password
  alone stops signing in for an hour, so the total stays near that number an hour, however many addresses guess.

A lock on the identity alone would hand every stranger a way to lock its owner out, so two ways pass it:

- A browser in which the identity signed in before (a signed "known device" cookie, after OWASP's device cookies).
  Its attempts count per source only; only someone who knew the password could have such a cookie.
- The password together with a valid code of one of the identity's MFA devices, in one step. The code is checked
  first and only a valid one earns a password check, so each password guess through this way takes a correct,
  unused code; and a wrong code does not throttle the device (see `verify_code_past_guessing_lock`), or the
  guessers would shut its owner out of this way too.

A person with no MFA device, signing in from a new browser while strangers are guessing, waits for the hour to end.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import IdentityLock, SignInLock

LOCK_DURATION = timedelta(hours=1)
IDENTITY_MAX_FAILURES = 20


def reserve_attempt(identity: str, source_ip: str, max_attempts: int) -> bool:
    """Counts an attempt from this source before the password is checked; False while locked.

    Counting first, under the row lock, means parallel requests cannot all slip in before the first
    failure is written: the limit holds however many guesses arrive at once.
    """
    now = timezone.now()
    first = {"failures": 1, "last_failure_at": now, "locked_until": now + LOCK_DURATION if max_attempts == 1 else None}
    with transaction.atomic():
        try:
            lock, created = SignInLock.objects.select_for_update().get_or_create(
                identity=identity, source_ip=source_ip, defaults=first
            )
        except IntegrityError:
            lock, created = SignInLock.objects.select_for_update().get(identity=identity, source_ip=source_ip), False
        if created:
            return True
        if lock.locked_until and lock.locked_until > now:
            return False
        if lock.locked_until:
            lock.failures, lock.locked_until = 0, None
        lock.failures += 1
        lock.last_failure_at = now
        if max_attempts and lock.failures >= max_attempts:
            lock.locked_until = now + LOCK_DURATION
        lock.save()
    return True


def clear_failures(identity: str, source_ip: str) -> None:
    SignInLock.objects.filter(identity=identity, source_ip=source_ip).delete()


@dataclass(frozen=True)
class IdentityReservation:
    is_locked: bool  # the password alone does not sign in now
    locks_now: bool = False  # this attempt is the one that locks it, should it fail


def reserve_identity_attempt(identity: str) -> IdentityReservation:
    """Counts an attempt, from a browser not known to the identity, against the identity's bound."""
    now = timezone.now()
    with transaction.atomic():
        try:
            lock, _ = IdentityLock.objects.select_for_update().get_or_create(
                identity=identity, defaults={"failures": 0, "last_failure_at": now}
            )
        except IntegrityError:
            lock = IdentityLock.objects.select_for_update().get(identity=identity)
        if lock.locked_until and lock.locked_until > now:
            return IdentityReservation(is_locked=True)
        if lock.locked_until:  # the hour is over: a new count
            lock.failures, lock.locked_until = 0, None
        lock.failures += 1
        lock.last_failure_at = now
        locks_now = lock.failures >= IDENTITY_MAX_FAILURES
        if locks_now:
            lock.locked_until = now + LOCK_DURATION
        lock.save()
    return IdentityReservation(is_locked=False, locks_now=locks_now)


def clear_identity_failures(identity: str, reservation: IdentityReservation | None) -> None:
    """The password was right: the count of consecutive failures starts again. A lock in force stays, unless this
    very attempt set it."""
    rows = IdentityLock.objects.filter(identity=identity)
    if not (reservation is not None and reservation.locks_now):
        rows = rows.exclude(locked_until__gt=timezone.now())
    rows.delete()


def active_identity_lock(identity: str) -> IdentityLock | None:
    return IdentityLock.objects.filter(identity=identity, locked_until__gt=timezone.now()).first()


def locked_sources(identity: str) -> int:
    """How many source addresses are locked out for this identity now."""
    return SignInLock.objects.filter(identity=identity, locked_until__gt=timezone.now()).count()


def known_device_mark(identity: str) -> str:
    """What a browser keeps, signed, to show that the identity signed in there: a keyed hash, so that the cookie
    does not name the account or the person."""
    return salted_hmac("accounts.known-device", identity, secret=settings.SECRET_KEY, algorithm="sha256").hexdigest()[
        :32
    ]


def owner_identity(email: str) -> str:
    return f"owner:{email.strip().lower()}"


def ram_identity(account_id: str, name: str) -> str:
    return f"{account_id}:{name.lower()}"


def source_key(source_ip: str | None) -> str:
    return source_ip or "0.0.0.0"
