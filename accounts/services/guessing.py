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

Strangers can spend the ten wrong codes a lock allows on the second way, and a person with no MFA device has only
the first: they wait for the lock to end, or an administrator clears it ("Clear sign-in lock" on the user page).
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from accounts.models import IdentityLock, SignInLock, User

LOCK_DURATION = timedelta(hours=1)
IDENTITY_MAX_FAILURES = 20
# Each further lock of an identity lasts twice as long (up to a day); at 100 consecutive failures (NIST's limit,
# IdentityLock.is_held_until_cleared) it lasts until its owner signs in past it or an administrator clears it.
IDENTITY_LONGEST_LOCK = timedelta(days=1)
LOCKED_FOR_GOOD = timedelta(days=3650)
# Wrong codes sent with a password past an identity's lock, per lock: enough for a person's typos, and few enough
# that guessing a code there is hopeless (3 in a million per try).
IDENTITY_MAX_CODE_FAILURES = 10


def reserve_attempt(*, identity: str, source_ip: str, max_attempts: int) -> bool:
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


def source_locked_until(*, identity: str, source_ip: str) -> datetime | None:
    """When the lock of this identity from this source ends; None when it is not locked."""
    return (
        SignInLock.objects.filter(identity=identity, source_ip=source_ip, locked_until__gt=timezone.now())
        .values_list("locked_until", flat=True)
        .first()
    )


def clear_failures(*, identity: str, source_ip: str) -> None:
    SignInLock.objects.filter(identity=identity, source_ip=source_ip).delete()


def clear_every_lock(*, identity: str) -> tuple[bool, int]:
    """Lifts the identity's lock and its locks per source (an administrator's "Clear sign-in lock"): whether the
    identity was locked, and from how many sources."""
    now = timezone.now()
    was_locked = IdentityLock.objects.filter(identity=identity, locked_until__gt=now).exists()
    sources = SignInLock.objects.filter(identity=identity, locked_until__gt=now).count()
    IdentityLock.objects.filter(identity=identity).delete()
    SignInLock.objects.filter(identity=identity).delete()
    return was_locked, sources


@dataclass(frozen=True)
class IdentityReservation:
    is_locked: bool  # the password alone does not sign in now
    locks_now: bool = False  # this attempt is the one that locks it, should it fail


def _lock_duration(failures: int) -> timedelta:
    if failures >= IdentityLock.FAILURES_BEFORE_HELD_UNTIL_CLEARED:
        return LOCKED_FOR_GOOD
    # (A power of an int may be a float to the type checker; times a timedelta it is a timedelta either way.)
    doubled: timedelta = LOCK_DURATION * 2 ** (failures // IDENTITY_MAX_FAILURES - 1)
    return min(doubled, IDENTITY_LONGEST_LOCK)


def reserve_identity_attempt(*, identity: str) -> IdentityReservation:
    """Counts an attempt, from a browser not known to the identity, against the identity's bound. The count goes on
    across locks (consecutive failures) until a correct password, or an administrator, clears it."""
    now = timezone.now()
    with transaction.atomic():
        try:
            lock, _created = IdentityLock.objects.select_for_update().get_or_create(
                identity=identity, defaults={"failures": 0, "last_failure_at": now}
            )
        except IntegrityError:
            lock = IdentityLock.objects.select_for_update().get(identity=identity)
        if lock.locked_until and lock.locked_until > now:
            return IdentityReservation(is_locked=True)
        if lock.locked_until:  # that lock is over: the person may try codes again under the next one
            lock.locked_until, lock.code_failures = None, 0
        lock.failures += 1
        lock.last_failure_at = now
        locks_now = lock.failures % IDENTITY_MAX_FAILURES == 0
        if locks_now:
            lock.locked_until = now + _lock_duration(lock.failures)
        lock.save()
    return IdentityReservation(is_locked=False, locks_now=locks_now)


def reserve_code_attempt(*, identity: str) -> bool:
    """Counts a code sent with a password past the identity's lock; False when this lock's codes are spent."""
    with transaction.atomic():
        lock = IdentityLock.objects.select_for_update().filter(identity=identity).first()
        if lock is None:
            return True
        if lock.code_failures >= IDENTITY_MAX_CODE_FAILURES:
            return False
        lock.code_failures += 1
        lock.save(update_fields=["code_failures"])
    return True


def code_attempt_succeeded(*, identity: str) -> None:
    IdentityLock.objects.filter(identity=identity).update(code_failures=0)


def clear_identity_failures(*, identity: str, reservation: IdentityReservation | None) -> None:
    """The password was right: the count of consecutive failures starts again. A lock in force stays, unless this
    very attempt set it."""
    rows = IdentityLock.objects.filter(identity=identity)
    if not (reservation is not None and reservation.locks_now):
        rows = rows.exclude(locked_until__gt=timezone.now())
    rows.delete()


def active_identity_lock(identity: str) -> IdentityLock | None:
    return IdentityLock.objects.filter(identity=identity, locked_until__gt=timezone.now()).first()


def source_locks(identity: str, *, limit: int = 5) -> list[SignInLock]:
    """A few of the sources locked out for this identity now, the longest lock first (a page names them)."""
    return list(
        SignInLock.objects.filter(identity=identity, locked_until__gt=timezone.now()).order_by("-locked_until")[:limit]
    )


def lock_status(identity: str) -> dict[str, object]:
    """What a page shows of an identity's locks (accounts/_sign_in_lock.html): the lock on every source, how many
    sources are locked on their own, and a few of them (also as words, in the active language)."""
    locked, locks = locked_sources(identity), source_locks(identity)
    return {
        "guessing_lock": active_identity_lock(identity),
        "locked_sources": locked,
        "source_locks": locks,
        "source_lock_list": _source_lock_list(locks, locked=locked),
    }


def _source_lock_list(locks: list[SignInLock], *, locked: int) -> SafeString:
    """The locked sources a page names: each address with its failed attempts, and "and others" when more are
    locked than are named."""
    listed = format_html_join(
        pgettext("between the items of a list", ", "),
        "{}",
        (
            (
                format_html(
                    ngettext(
                        "<code>{address}</code> ({count} failed attempt)",
                        "<code>{address}</code> ({count} failed attempts)",
                        lock.failures,
                    ),
                    address=lock.source_ip,
                    count=lock.failures,
                ),
            )
            for lock in locks
        ),
    )
    return format_html(_("{list}, and others"), list=listed) if locked > len(locks) else listed


def locked_sources(identity: str) -> int:
    """How many source addresses are locked out for this identity now."""
    return SignInLock.objects.filter(identity=identity, locked_until__gt=timezone.now()).count()


def known_device_mark(identity: str, user: User | None) -> str:
    """What a browser keeps, signed, to show that the identity signed in there. A keyed hash, so that the cookie
    does not name the account or the person; bound to the user's password and session generation, so that a new
    password or "sign out everywhere" makes every browser unknown again. Empty (matching nothing) without a user."""
    if user is None:
        return ""
    return salted_hmac(
        "accounts.known-device",
        f"{identity}:{user.password}:{user.session_generation}",
        secret=settings.SECRET_KEY,
        algorithm="sha256",
    ).hexdigest()[:32]


def owner_identity(email: str) -> str:
    identity = f"owner:{email.strip().lower()}"
    # An email may have 254 characters, the lock tables' identity 255: a long one is counted under its hash.
    return identity if len(identity) <= 255 else f"owner:sha256:{hashlib.sha256(identity.encode()).hexdigest()}"


def ram_identity(account_id: str, name: str) -> str:
    return f"{account_id}:{name.lower()}"


def source_key(source_ip: str | None) -> str:
    return source_ip or "0.0.0.0"
