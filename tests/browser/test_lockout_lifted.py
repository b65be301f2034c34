"""A lockout seen and lifted by an administrator, in Chromium (issue 13): wrong passwords at the RAM user's logon
link until the account's password policy locks sign-in from that address; the owner finds the user by its "Locked
out" badge and the "Sign-in: Locked out" filter, reads the lock on the user page (until when, after how many
failures, from which address), clears it, and the user signs in again."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import IdentityLock, SignInLock
from accounts.passwords import policy_for
from accounts.services.guessing import ram_identity
from portal.models import AuditEvent
from tests.browser.conftest import Browsing, sign_in_owner
from tests.conftest import RAM_PASSWORD, make_ram_user

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

WRONG_PASSWORD = "Violet-Canyon-Ledger-5308"


def sign_in_at_the_logon_link(browsing: Browsing, domain: str, login: str, password: str) -> None:
    page = browsing.page
    browsing.open(reverse("accounts:ram-sign-in", args=[domain]))
    page.get_by_label("Logon name").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_locked_out_user_is_found_and_unlocked_by_the_owner_then_signs_in(browsing: Browsing, owner, ram_user):
    page, base_url = browsing.page, browsing.base_url
    account, alice = owner.account, ram_user.ram_user
    make_ram_user(owner, "bob")  # not locked: the filter leaves him out
    identity = ram_identity(account.account_id, alice.name)
    max_attempts = policy_for(account).max_failed_attempts
    assert max_attempts > 0, "the account's password policy must lock after some failures"

    # 1. Wrong passwords at alice's logon link, as many as the policy allows: each is refused alike.
    for attempt in range(1, max_attempts + 1):
        sign_in_at_the_logon_link(browsing, account.default_domain, "alice", WRONG_PASSWORD)
        expect(page.get_by_text("The logon name or password is incorrect")).to_be_visible()
        assert SignInLock.objects.get(identity=identity).failures == attempt
    lock = SignInLock.objects.get(identity=identity)
    assert lock.locked_until is not None and lock.source_ip == "127.0.0.1"

    # Now even her right password is not checked from here: the page says until when.
    sign_in_at_the_logon_link(browsing, account.default_domain, "alice", RAM_PASSWORD)
    expect(page.get_by_text(f"sign-in from here is locked until {lock.locked_until:%H:%M} UTC")).to_be_visible()
    expect(page).to_have_url(base_url + reverse("accounts:ram-sign-in", args=[account.default_domain]))
    browsing.snap("ram-sign-in-locked")

    # 2. The owner sees the badge on the Users table, and the "Sign-in: Locked out" filter finds alice alone.
    sign_in_owner(browsing, owner)
    browsing.open(reverse("accounts:user-list"))
    alice_row, bob_row = page.locator("tbody tr[data-user=alice]"), page.locator("tbody tr[data-user=bob]")
    expect(alice_row.get_by_test_id("locked-badge")).to_have_text("Locked out")
    expect(bob_row).to_be_visible()
    expect(bob_row.get_by_test_id("locked-badge")).to_have_count(0)
    page.get_by_label("Sign-in").select_option(label="Locked out")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"[?&]locked="))
    expect(page.locator("tbody tr[data-user]")).to_have_count(1)
    expect(alice_row).to_be_visible()
    expect(bob_row).to_have_count(0)
    browsing.snap("users-locked-out")

    # 3. On her page: until when (UTC), after how many failures, from which address.
    alice_row.get_by_role("link", name="alice", exact=True).click()
    expect(page).to_have_url(base_url + reverse("accounts:user-detail", args=[alice.pk]))
    sign_in_lock = page.get_by_test_id("sign-in-lock")
    expect(sign_in_lock).to_contain_text(f"Locked until {lock.locked_until:%Y-%m-%d %H:%M} UTC")
    expect(sign_in_lock).to_contain_text("from 1 address after repeated wrong passwords")
    expect(sign_in_lock).to_contain_text(f"127.0.0.1 ({max_attempts} failed attempts)")
    browsing.snap("user-page-locked")

    # 4. "Clear sign-in lock": said, gone from the database, recorded.
    sign_in_lock.get_by_role("button", name="Clear sign-in lock").click()
    expect(page).to_have_url(base_url + reverse("accounts:user-detail", args=[alice.pk]))
    expect(page.get_by_role("alert")).to_have_text("The sign-in lock of alice was cleared.")
    expect(page.get_by_test_id("sign-in-lock")).to_have_count(0)
    browsing.snap("user-page-lock-cleared")
    assert not SignInLock.objects.filter(identity=identity).exists()
    assert not IdentityLock.objects.filter(identity=identity).exists()
    [event] = AuditEvent.objects.filter(action="sign_in.unlock")
    assert event.target == alice.principal and event.actor == owner.account.principal
    assert event.details == {"guessing_lock": False, "locked_sources": 1}

    # The filter finds no one locked out now.
    browsing.open(reverse("accounts:user-list") + "?locked=yes")
    expect(page.locator("tbody tr[data-user]")).to_have_count(0)

    # 5. alice signs in with her password, from the very address that was locked.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(base_url + reverse("accounts:owner-sign-in"))
    sign_in_at_the_logon_link(browsing, account.default_domain, "alice", RAM_PASSWORD)
    expect(page).to_have_url(base_url + reverse("accounts:my-credentials"))
    expect(page.get_by_test_id("my-logon-name")).to_have_text(alice.logon_name)
    browsing.snap("alice-signed-in")
    assert AuditEvent.objects.filter(action="sign_in.success", actor=alice.principal).exists()
    assert not SignInLock.objects.filter(identity=identity).exists()
