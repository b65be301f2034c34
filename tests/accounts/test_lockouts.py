"""Lockouts said as they are: to the person signing in (without a word about the password), on the owner's own page,
and a throttled one-time code told to wait rather than called wrong."""

import re
from datetime import timedelta

import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import IdentityLock, SignInLock
from accounts.services.guessing import owner_identity
from portal.models import AuditEvent
from tests.accounts.test_sign_in import ram_sign_in_url, sign_in_owner
from tests.conftest import RAM_PASSWORD, fresh_totp_code, signed_in


def refusal(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_a_source_lock_is_named_with_its_end_and_says_nothing_of_the_password(owner, ram_user):
    client = Client()
    url = ram_sign_in_url(owner.account)
    for _ in range(5):  # the account's policy: 5 wrong passwords from one address
        client.post(url, {"login": "alice", "password": "wrong-wrong-wrong"})
    right = client.post(url, {"login": "alice", "password": RAM_PASSWORD})
    wrong = client.post(url, {"login": "alice", "password": "wrong-wrong-wrong"})
    until = SignInLock.objects.get(identity__endswith=":alice").locked_until
    expected = f"sign-in from here is locked until {until:%H:%M} UTC. The password was not checked"
    assert expected in refusal(right) and expected in refusal(wrong)
    assert "_auth_user_id" not in client.session
    # A name nobody has locks alike, so the message tells no one which names exist.
    for _ in range(6):
        unknown = client.post(url, {"login": "nobody", "password": "wrong-wrong-wrong"})
    assert "sign-in from here is locked until" in refusal(unknown)


def test_the_owner_sees_their_own_lock_and_clears_it(owner):
    identity = owner_identity(owner.user.email)
    IdentityLock.objects.create(
        identity=identity, failures=40, last_failure_at=timezone.now(), locked_until=timezone.now() + timedelta(hours=2)
    )
    SignInLock.objects.create(
        identity=identity,
        source_ip="203.0.113.9",
        failures=5,
        last_failure_at=timezone.now(),
        locked_until=timezone.now() + timedelta(hours=1),
    )
    client = signed_in(owner)  # signed in past the lock (with a code, as the lock allows)
    page = client.get(reverse("accounts:my-account")).content.decode()
    lock = IdentityLock.objects.get()
    assert f"Locked until {lock.locked_until:%Y-%m-%d %H:%M} UTC</span> against password guessing" in page
    assert "after 40 failed attempts in a row from browsers you had not signed in with" in page
    assert "<code>203.0.113.9</code> (5 failed attempts)" in page
    response = client.post(reverse("accounts:clear-own-sign-in-lock"), follow=True)
    assert "The lock on your sign-in was cleared." in response.content.decode()
    assert not IdentityLock.objects.exists() and not SignInLock.objects.exists()
    event = AuditEvent.objects.get(action="sign_in.unlock")
    assert event.target == owner.user.email and event.details == {"guessing_lock": True, "locked_sources": 1}
    again = client.post(reverse("accounts:clear-own-sign-in-lock"), follow=True)
    assert "Your sign-in is not locked." in again.content.decode()
    assert AuditEvent.objects.filter(action="sign_in.unlock").count() == 1


def test_a_ram_user_cannot_use_the_owners_unlock(ram_user):
    response = signed_in(ram_user).post(reverse("accounts:clear-own-sign-in-lock"))
    assert response.status_code == 403


def test_a_throttled_code_is_told_to_wait_not_called_wrong(owner):
    client = Client()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        sign_in_owner(client, owner)
        wrong = client.post(reverse("accounts:sign-in-verify"), {"otp_code": "000000"})
        assert "The code is wrong" in refusal(wrong)
        code = fresh_totp_code(owner.device)
        throttled = client.post(reverse("accounts:sign-in-verify"), {"otp_code": code})
        assert throttled.status_code == 429
        assert "Too many attempts: wait 1 second, then enter the code your device shows then." in refusal(throttled)
        assert "_auth_user_id" not in client.session
        clock.shift(timedelta(seconds=2))
        passed = client.post(reverse("accounts:sign-in-verify"), {"otp_code": code})
    assert passed.status_code == 302 and passed.url == reverse("accounts:overview")
