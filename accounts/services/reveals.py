"""Secret-issuing forms are idempotent per form instance, and their secrets are shown once, on one page.

Each such form carries a random token. The first submission with it claims a `OneTimeReveal` row in a
transaction of its own (so that a repeat sees the claim at once), then does the work; the service that issues
the secrets fills the row in its own transaction (`fill_reveal`), so the work and its page exist together or
not at all. A repeated submission of the same form instance — a second click, Enter then a click, a reload, back
and resubmit — finds the row, does no work, waits while the first is still working, and goes to the same page.
The page (`show_reveal`) shows the secrets to their issuer once, and afterwards says plainly that they were shown.
"""

import hashlib
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import DeliveryPacket, OneTimeReveal, PrimaryAccount, User
from portal.audit import Origin, record_event
from portal.keyring import keyring

Kind, State = OneTimeReveal.Kind, OneTimeReveal.State
# A repeat waits this long for the first submission to finish before showing "still working" instead.
WAIT_FOR_FIRST_SECONDS = 20
POLL_SECONDS = 0.1
# A claim still "working" after this long belongs to a request that died (its work, one transaction, was rolled
# back): the next submission of the form takes it over.
ABANDONED_AFTER = timedelta(minutes=2)
# Secrets sealed here that their issuer never came to see are wiped after this long (packets keep theirs).
UNSEEN_SECRETS_KEPT = timedelta(days=1)
FORM_TOKEN_BYTES = 24
FORM_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{22,64}")


def new_form_token() -> str:
    return secrets.token_urlsafe(FORM_TOKEN_BYTES)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token_hash(user: User | None, form_token: str, browser_key: str) -> str:
    # Without a user (a claim page), the token is the claiming browser's: `browser_key` comes from its cookie.
    return _hash(f"{browser_key}:{form_token}" if user is None else form_token)


def _settled_earlier(user: User | None, token_hash: str) -> OneTimeReveal | None:
    """The earlier claim on this token, waited for while its request works on it; None when there is none, or
    when it was abandoned (a request that died mid-way, its work rolled back with it: the claim is dropped)."""
    deadline = time.monotonic() + WAIT_FOR_FIRST_SECONDS
    while True:
        # Plain reads while waiting: on SQLite every write transaction takes the database's one write lock.
        earlier = OneTimeReveal.objects.filter(user=user, form_token_hash=token_hash).first()
        if earlier is None or earlier.state != State.WORKING:
            return earlier
        if earlier.created_at < timezone.now() - ABANDONED_AFTER:
            OneTimeReveal.objects.filter(pk=earlier.pk, state=State.WORKING).delete()
            return None
        if time.monotonic() > deadline:
            return earlier  # its page says "still working" and looks again
        time.sleep(POLL_SECONDS)


def earlier_submission(*, user: User, form_token: str) -> OneTimeReveal | None:
    """The page of an earlier submission of this form instance, if there is one (waited for while it works)."""
    if not FORM_TOKEN_RE.fullmatch(form_token or ""):
        return None
    return _settled_earlier(user, _token_hash(user, form_token, ""))


def issue_once(
    *,
    user: User | None,
    form_token: str,
    kind: str,
    work: Callable[[OneTimeReveal], object],
    shows_packets: bool = True,
    browser_key: str = "",
) -> OneTimeReveal:
    """The one-time page of this form instance's submission. The first submission claims the token (committed at
    once, so that a repeat sees it) and runs `work(page)`, whose service fills the page in its own transaction; a
    repeat runs nothing. A refusal of the work (ValidationError, or anything else) drops the claim, so that the
    form can be corrected and sent again, and is raised on."""
    token_hash = _token_hash(user, form_token, browser_key)
    while True:
        earlier = _settled_earlier(user, token_hash)
        if earlier is not None:
            return earlier
        try:
            with transaction.atomic():
                claimed = OneTimeReveal.objects.create(
                    user=user,
                    account=user.account if user is not None else None,
                    browser_key_hash=_hash(browser_key) if user is None else "",
                    form_token_hash=token_hash,
                    uid=uuid.uuid4(),
                    kind=kind,
                    shows_packets=shows_packets,
                )
        except IntegrityError:  # a concurrent claim won the insert and has just committed it: read it next
            continue
        break
    try:
        work(claimed)
    except BaseException:
        OneTimeReveal.objects.filter(pk=claimed.pk, state=State.WORKING).delete()
        raise
    return claimed


def is_page_of_browser(reveal: OneTimeReveal, browser_key: str) -> bool:
    """A claim's page opens only in the browser that pressed "Reveal"."""
    return bool(browser_key) and reveal.user_id is None and reveal.browser_key_hash == _hash(browser_key)


def fill_reveal(
    reveal: OneTimeReveal | None,
    *,
    packets: Sequence[DeliveryPacket | None] = (),
    secrets: dict[str, object] | None = None,
    facts: dict[str, object] | None = None,
    account: PrimaryAccount | None = None,
) -> None:
    """Records what the page shows: packets whose secrets it opens (None for a secret that went in no packet),
    secrets kept nowhere else (sealed here), and plain facts. Called inside the issuing service's transaction, so the
    work and its page commit together."""
    if reveal is None:
        return
    reveal.facts = {**(facts or {}), "packets": [packet.pk for packet in packets if packet is not None]}
    reveal.sealed_secrets = (
        keyring().seal(json.dumps(secrets), associated_data=reveal.associated_data) if secrets else ""
    )
    reveal.state = State.READY
    reveal.account = account or reveal.account
    filled = OneTimeReveal.objects.filter(pk=reveal.pk, state=State.WORKING).update(
        facts=reveal.facts, sealed_secrets=reveal.sealed_secrets, state=State.READY, account=reveal.account
    )
    if not filled:
        # Taken over as abandoned while this request was still working: its work must not count twice.
        raise ValidationError(_("This took too long and was given up; nothing was changed. Submit the form again."))


def expire_unseen_reveals(*, now: datetime | None = None) -> int:
    """Wipes secrets sealed for a page that their issuer never opened (the worker runs this now and then). Pages
    whose secrets are in delivery packets keep them there: the packets can still be printed or emailed."""
    now = now or timezone.now()
    expired = 0
    stale = OneTimeReveal.objects.filter(state=State.READY, created_at__lte=now - UNSEEN_SECRETS_KEPT).exclude(
        sealed_secrets=""
    )
    for reveal in stale.select_related("account", "user__owned_account", "user__ram_user__account"):
        with transaction.atomic():
            if not OneTimeReveal.objects.filter(pk=reveal.pk, state=State.READY).update(
                sealed_secrets="", state=State.EXPIRED
            ):
                continue
            # A page is ready once its work filled it in (fill_reveal), which gave it its account.
            assert reveal.account is not None
            record_event(
                actor=Actor(account=reveal.account, origin=Origin(channel="command"), label="mail worker"),
                action="secrets.expired_unseen",
                target=reveal.user.display if reveal.user else f"packet {reveal.facts.get('packet')}",
                details={"kind": reveal.kind} | {key: value for key, value in reveal.facts.items() if key != "packets"},
            )
            expired += 1
    return expired
