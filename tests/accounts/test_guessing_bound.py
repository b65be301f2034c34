"""Password guessing is bounded per identity across every source, and its owner still gets in: with the password and
an MFA code in one step, or from a browser where they signed in before (accounts.services.guessing)."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Authenticator, IdentityLock, SignInLock
from accounts.services.guessing import IDENTITY_MAX_CODE_FAILURES, IDENTITY_MAX_FAILURES
from accounts.services.logon import LogonChange, change_own_password, modify_logon_settings
from accounts.services.otp import new_authenticator
from accounts.services.password_step import (
    GUESSING_LOCKED,
    GUESSING_LOCKED_CODES_SPENT,
    SignInRefused,
    check_ram_user_password,
)
from portal.audit import Origin
from portal.models import AuditEvent
from tests.accounts.test_concurrency import run_concurrently
from tests.conftest import RAM_PASSWORD, fresh_totp_code, make_owner, make_ram_user, signed_in, totp_code

WRONG = "Wrong-Guess-Number-0000"


def address(index: int) -> str:
    return f"10.0.{index // 250}.{index % 250 + 1}"


def guess(owner, index: int, password: str = WRONG, *, login: str = "alice", **kwargs):
    origin = Origin(channel="console", source_ip=address(index), request_id="TEST")
    return check_ram_user_password(account=owner.account, login=login, password=password, origin=origin, **kwargs)


def guess_150_times_from_30_addresses(owner, login: str = "alice") -> None:
    for index in range(150):
        with pytest.raises(SignInRefused):
            guess(owner, index % 30, login=login)


def failures_by_reason(reason: str) -> int:
    return AuditEvent.objects.filter(action="sign_in.failed", details__reason=reason).count()


@pytest.fixture
def alice(owner):
    person = make_ram_user(owner, "alice")
    person.device = new_authenticator(user=person.user, name="alice", confirmed=True)
    return person


def sign_in_page(owner) -> str:
    return reverse("accounts:ram-sign-in", args=[owner.account.default_domain])


def test_150_wrong_passwords_from_30_addresses_check_the_password_only_20_times(owner, alice):
    guess_150_times_from_30_addresses(owner)
    # Each address had its 5 tries (the per-source lock stays), but only the first 20 were checked at all.
    assert failures_by_reason("wrong_password") == IDENTITY_MAX_FAILURES == 20
    assert failures_by_reason("guessing_locked") == 150 - 20 - failures_by_reason("locked")
    lock = IdentityLock.objects.get(identity=f"{owner.account.account_id}:alice")
    assert lock.failures == 20 and lock.locked_until > timezone.now() + timedelta(minutes=59)
    event = AuditEvent.objects.get(action="sign_in.guessing_locked")
    assert event.target == f"{owner.account.account_id}:alice" and event.details["failures"] == 20
    # The right password alone, from a new address, is refused too: it asks for a code as well.
    with pytest.raises(SignInRefused) as refusal:
        guess(owner, 200, RAM_PASSWORD)
    assert refusal.value.needs_code and refusal.value.message == GUESSING_LOCKED


def test_its_owner_gets_in_with_the_right_password_and_a_code_in_one_step(owner, alice):
    guess_150_times_from_30_addresses(owner)
    client = Client(REMOTE_ADDR=address(201))
    asked = client.post(sign_in_page(owner), {"login": "alice", "password": RAM_PASSWORD})
    page = asked.content.decode()
    assert asked.status_code == 200 and "a password alone does not sign in here for a while" in page
    assert 'name="otp_code"' in page and "Verification code" in page  # the form now asks for the code too
    signed = client.post(
        sign_in_page(owner), {"login": "alice", "password": RAM_PASSWORD, "otp_code": fresh_totp_code(alice.device)}
    )
    assert signed.status_code == 302 and signed.url == reverse("accounts:my-credentials")  # no second code step
    mine = client.get(reverse("accounts:my-credentials"))
    assert mine.status_code == 200 and alice.ram_user.logon_name in mine.content.decode()
    assert AuditEvent.objects.filter(action="sign_in.success", actor=alice.ram_user.principal).count() == 1
    # Still locked for everyone else: the lock was passed, not lifted.
    assert IdentityLock.objects.get(identity=f"{owner.account.account_id}:alice").locked_until > timezone.now()


def test_a_browser_where_the_owner_signed_in_before_passes_the_lock_with_the_password_alone(owner, alice):
    known = Client(REMOTE_ADDR=address(250))
    first = known.post(sign_in_page(owner), {"login": "alice", "password": RAM_PASSWORD})
    known.post(first.url, {"otp_code": fresh_totp_code(alice.device)})
    assert "portal_known_device" in known.cookies
    assert f"{owner.account.account_id}" not in known.cookies["portal_known_device"].value  # no name in it
    known.post(reverse("accounts:sign-out"))

    guess_150_times_from_30_addresses(owner)
    again = known.post(sign_in_page(owner), {"login": "alice", "password": RAM_PASSWORD})
    assert again.status_code == 302 and again.url == reverse("accounts:sign-in-verify")  # the usual next step
    # The cookie is bound to alice: it does not pass the lock for another name.
    bob = make_ram_user(owner, "bob")
    guess_150_times_from_30_addresses(owner, login="bob")
    refused = known.post(sign_in_page(owner), {"login": "bob", "password": bob.password})
    assert refused.status_code == 200 and "a password alone does not sign in" in refused.content.decode()


def test_wrong_codes_while_locked_neither_check_the_password_nor_throttle_the_device(owner, alice):
    guess_150_times_from_30_addresses(owner)
    checked_before = failures_by_reason("wrong_password")
    for index in range(5):
        with pytest.raises(SignInRefused):
            guess(owner, 300 + index, RAM_PASSWORD, otp_code=f"{index:06d}")
    assert failures_by_reason("wrong_password") == checked_before
    device = Authenticator.objects.get(pk=alice.device.pk)
    assert device.throttling_failure_count == 0
    checked = guess(owner, 310, RAM_PASSWORD, otp_code=fresh_totp_code(alice.device))
    assert checked.user == alice.user and checked.device.pk == alice.device.pk


def test_a_valid_code_with_a_wrong_password_is_spent_and_refused(owner, alice):
    guess_150_times_from_30_addresses(owner)
    code = totp_code(alice.device)
    with pytest.raises(SignInRefused):
        guess(owner, 400, WRONG, otp_code=code)
    with pytest.raises(SignInRefused):  # the same code again, now with the right password: spent
        guess(owner, 401, RAM_PASSWORD, otp_code=code)


def test_unknown_names_lock_the_same_way_and_reveal_nothing(owner, alice):
    guess_150_times_from_30_addresses(owner, login="nobody")
    with pytest.raises(SignInRefused) as refusal:
        guess(owner, 500, "anything", login="nobody")
    assert refusal.value.needs_code
    with pytest.raises(SignInRefused):
        guess(owner, 501, "anything", login="nobody", otp_code="123456")


def test_the_lock_lapses_after_an_hour(owner, alice):
    guess_150_times_from_30_addresses(owner)
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        checked = guess(owner, 600, RAM_PASSWORD)
        assert checked.user == alice.user and checked.device is None
        assert not IdentityLock.objects.exists()  # a success starts the count again


def test_a_correct_password_starts_the_count_again(owner, alice):
    for index in range(IDENTITY_MAX_FAILURES - 1):
        with pytest.raises(SignInRefused):
            guess(owner, index)
    guess(owner, 700, RAM_PASSWORD)
    for index in range(IDENTITY_MAX_FAILURES - 1):
        with pytest.raises(SignInRefused):
            guess(owner, 100 + index)
    assert guess(owner, 701, RAM_PASSWORD).user == alice.user


def test_the_user_page_shows_the_lock(owner, alice):
    guess_150_times_from_30_addresses(owner)
    page = signed_in(owner).get(reverse("accounts:user-detail", args=[alice.ram_user.pk])).content.decode()
    assert 'data-testid="sign-in-lock"' in page
    lock = IdentityLock.objects.get()
    assert f"Locked until {lock.locked_until:%Y-%m-%d %H:%M} UTC</span> against password guessing" in page
    assert "after 20 failed attempts in a row" in page
    assert "from 30 addresses after repeated wrong passwords: <code>" in page and ", and others." in page
    shown = SignInLock.objects.filter(locked_until__gt=timezone.now()).order_by("-locked_until")[:5]
    for source in shown:  # the five longest-locked sources, by address, with their failures
        assert f"<code>{source.source_ip}</code> ({source.failures} failed attempts)" in page


def test_the_owner_passes_the_lock_with_password_and_code_too(owner):
    for index in range(30):
        Client(REMOTE_ADDR=address(index)).post(
            reverse("accounts:owner-sign-in"), {"email": owner.user.email, "password": WRONG}
        )
    client = Client(REMOTE_ADDR=address(99))
    refused = client.post(reverse("accounts:owner-sign-in"), {"email": owner.user.email, "password": owner.password})
    assert refused.status_code == 200 and "a password alone does not sign in" in refused.content.decode()
    signed = client.post(
        reverse("accounts:owner-sign-in"),
        {"email": owner.user.email, "password": owner.password, "otp_code": owner.code()},
    )
    assert signed.status_code == 302 and signed.url == reverse("accounts:overview")


def test_parallel_guesses_from_40_addresses_check_the_password_20_times(transactional_db):
    owner = make_owner("guessing@acme.example", "Guessing")
    make_ram_user(owner, "alice")
    addresses = iter(range(40))
    results = run_concurrently(40, lambda: guess(owner, next(addresses)))
    assert all(isinstance(result, SignInRefused) for result in results), results
    assert failures_by_reason("wrong_password") == IDENTITY_MAX_FAILURES
    assert SignInLock.objects.count() == 40


def test_codes_past_the_lock_are_limited_per_lock_and_odd_digits_are_no_error(owner, alice):
    guess_150_times_from_30_addresses(owner)
    for index, code in enumerate(
        ["²²²²²²", "１２３４５６", *[f"{n:06d}" for n in range(IDENTITY_MAX_CODE_FAILURES - 2)]]
    ):
        with pytest.raises(SignInRefused) as refusal:
            guess(owner, 800 + index, RAM_PASSWORD, otp_code=code)
        assert refusal.value.message == GUESSING_LOCKED
    # This lock's codes are spent: even the right code is not checked now (guessing a code here stays hopeless).
    with pytest.raises(SignInRefused) as refusal:
        guess(owner, 820, RAM_PASSWORD, otp_code=fresh_totp_code(alice.device))
    assert refusal.value.message == GUESSING_LOCKED_CODES_SPENT
    response = Client(REMOTE_ADDR=address(821)).post(
        sign_in_page(owner), {"login": "alice", "password": RAM_PASSWORD, "otp_code": "²²²²²²"}
    )
    assert response.status_code == 200  # the sign-in page again, with the refusal: no error page
    assert GUESSING_LOCKED_CODES_SPENT in response.content.decode()
    assert "_auth_user_id" not in response.wsgi_request.session


def test_an_administrator_clears_the_lock_and_it_is_audited(owner, alice):
    guess_150_times_from_30_addresses(owner)
    client = signed_in(owner)
    response = client.post(reverse("accounts:clear-sign-in-lock", args=[alice.ram_user.pk]), follow=True)
    assert "The sign-in lock of alice was cleared." in response.content.decode()
    assert not IdentityLock.objects.exists() and not SignInLock.objects.exists()
    event = AuditEvent.objects.get(action="sign_in.unlock")
    assert event.target == alice.ram_user.principal and event.details == {"guessing_lock": True, "locked_sources": 30}
    assert guess(owner, 900, RAM_PASSWORD).user == alice.user
    again = client.post(reverse("accounts:clear-sign-in-lock", args=[alice.ram_user.pk]), follow=True)
    assert "is not locked" in again.content.decode()
    assert AuditEvent.objects.filter(action="sign_in.unlock").count() == 1


def test_each_further_lock_lasts_longer_and_at_100_failures_it_lasts_until_cleared(owner, alice):
    now = timezone.now()
    durations = []
    for period in range(5):
        with time_machine.travel(now + timedelta(days=2 * period)):
            for index in range(IDENTITY_MAX_FAILURES):
                with pytest.raises(SignInRefused):
                    guess(owner, 1000 + period * 30 + index)
            lock = IdentityLock.objects.get()
            durations.append(round((lock.locked_until - timezone.now()).total_seconds() / 3600))
    assert durations[:4] == [1, 2, 4, 8]
    assert lock.failures == 100 and durations[4] > 24 * 365  # NIST's limit: until its owner or an administrator
    page = signed_in(owner).get(reverse("accounts:user-detail", args=[alice.ram_user.pk])).content.decode()
    assert "Locked until cleared</span> against password guessing" in page


def test_a_new_password_makes_the_known_browser_unknown_again(owner, alice):
    known = Client(REMOTE_ADDR=address(950))
    first = known.post(sign_in_page(owner), {"login": "alice", "password": RAM_PASSWORD})
    known.post(first.url, {"otp_code": fresh_totp_code(alice.device)})
    known.post(reverse("accounts:sign-out"))
    new_password = "Harvest-Quartz-Beacon-3318"
    modify_logon_settings(
        actor=owner.actor, ram_user=alice.ram_user, change=LogonChange(is_enabled=True, new_password=new_password)
    )
    guess_150_times_from_30_addresses(owner)
    refused = known.post(sign_in_page(owner), {"login": "alice", "password": new_password})
    assert refused.status_code == 200 and "a password alone does not sign in" in refused.content.decode()


def test_changing_ones_own_password_is_no_way_around_the_bound(owner, alice):
    guess_150_times_from_30_addresses(owner)
    actor = Actor(account=owner.account, origin=Origin(channel="api", source_ip=address(960)), user=alice.user)
    with pytest.raises(ValidationError, match="Too many wrong passwords were tried for you"):
        change_own_password(actor=actor, current_password=RAM_PASSWORD, new_password="Harvest-Quartz-Beacon-3318")
    alice.user.refresh_from_db()
    assert alice.user.check_password(RAM_PASSWORD)


def test_an_owner_email_of_254_characters_is_counted_without_error(db):
    email = f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 57}.com"
    assert len(email) == 254
    response = Client().post(reverse("accounts:owner-sign-in"), {"email": email, "password": WRONG})
    assert response.status_code == 200 and "incorrect" in response.content.decode()
    assert SignInLock.objects.get().identity.startswith("owner:sha256:")
