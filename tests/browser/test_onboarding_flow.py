"""The onboarding flow a person clicks through: owner's first sign-in, Create User, the RAM user's first logon."""

import base64
import re
import time

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from playwright.sync_api import expect

from accounts.models import RamUser
from accounts.services.primary_accounts import create_primary_account
from portal.audit import Origin
from portal.models import AuditEvent
from tests.browser.conftest import sign_in_owner
from tests.conftest import OWNER_PASSWORD, make_owner

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

OWNER_EMAIL = "owner@acme.example"
ALICE_NEW_PASSWORD = "Quartz-Harbor-Lantern-6120"
INVALID = re.compile(r"\bis-invalid\b")


def code_for_key(shown_key: str) -> str:
    """The current TOTP code for a Base32 key as the enrolment page shows it (groups of 4, no padding)."""
    key = shown_key.replace(" ", "").upper()
    totp = TOTP(base64.b32decode(key + "=" * (-len(key) % 8)))
    totp.time = time.time()
    return f"{totp.token():06d}"


def test_owner_enrols_totp_creates_a_user_who_signs_in_and_changes_the_password(browsing):
    account = create_primary_account(
        email=OWNER_EMAIL, password=OWNER_PASSWORD, name="Acme", origin=Origin(channel="console")
    )
    page, base_url = browsing.page, browsing.base_url

    # 1. The owner's first sign-in: password, then enrolment of an authenticator, then backup codes.
    browsing.open(reverse("accounts:owner-sign-in"))
    browsing.snap("owner-sign-in")
    page.get_by_role("textbox", name="Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(base_url + reverse("accounts:sign-in-enrol"))
    expect(page.locator("img.qr-code")).to_be_visible()
    shown_key = page.get_by_test_id("totp-key").inner_text().strip()
    assert all(len(group) == 4 for group in shown_key.split(" ")[:-1]), shown_key
    browsing.snap("enrol-totp")
    page.get_by_label("Verification code").fill(code_for_key(shown_key))
    page.get_by_role("button", name="Confirm").click()
    backup_codes = page.get_by_test_id("backup-codes").locator("li")
    expect(backup_codes).to_have_count(10)
    assert len(set(backup_codes.all_inner_texts())) == 10
    browsing.snap("backup-codes")
    page.get_by_role("button", name="Copy").click()  # portal.js, loaded under the strict CSP
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()").split() == backup_codes.all_inner_texts()
    page.get_by_role("link", name="I have saved the backup codes · Continue").click()
    expect(page).to_have_url(base_url + reverse("accounts:overview"))
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_test_id("user-count")).to_have_text("0")
    browsing.snap("overview")
    page.get_by_role("button", name="Settings").click()  # Bootstrap's own script runs too
    expect(page.get_by_role("link", name="Password policy")).to_be_visible()
    browsing.snap("settings-menu")

    # 2. Users → Create User: one user with console logon and a generated password to reset at first logon.
    page.get_by_role("navigation").get_by_role("link", name="Users").click()
    expect(page).to_have_url(base_url + reverse("accounts:user-list"))
    browsing.snap("user-list-empty")
    page.get_by_role("link", name="Create User").click()
    expect(page).to_have_url(base_url + reverse("accounts:create-users"))
    browsing.snap("create-user")
    row = page.locator("[data-user-row]").first
    row.get_by_label("User name").fill("alice")
    row.get_by_label("Display name").fill("Alice Liddell")
    row.get_by_label("Console Password Logon").check()
    expect(row.get_by_label("Automatically generate a password")).to_be_checked()
    expect(row.get_by_label("Require password reset at next logon")).to_be_checked()
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_role("heading", name="1 user created")).to_be_visible()
    created = page.locator("[data-created-user=alice]")
    expect(created).to_contain_text(f"alice@{account.default_domain}")
    generated_password = page.locator("[data-delivery-sheet=alice] [data-secret=password]").inner_text().strip()
    assert len(generated_password) >= 12
    browsing.snap("users-created")

    alice = RamUser.objects.get(account=account, name="alice")
    assert alice.is_console_logon_enabled and alice.must_reset_password

    # 3. The owner signs out; alice signs in at the logon link and must change her password first.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(base_url + reverse("accounts:owner-sign-in"))
    browsing.open(reverse("accounts:ram-sign-in", args=[account.default_domain]))
    expect(page.get_by_role("heading", name="RAM user sign-in")).to_be_visible()
    browsing.snap("ram-sign-in")
    page.get_by_label("Logon name").fill("alice")
    page.get_by_label("Password").fill(generated_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(base_url + reverse("accounts:sign-in-change-password"))
    browsing.snap("change-password")
    page.get_by_label("Current password").fill(generated_password)
    page.get_by_label("New password*", exact=True).fill(ALICE_NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(ALICE_NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page).to_have_url(base_url + reverse("accounts:my-credentials"))
    expect(page.get_by_test_id("my-logon-name")).to_have_text(f"alice@{account.default_domain}")
    expect(page.get_by_test_id("signed-in-as")).to_be_visible()
    browsing.snap("my-credentials")

    alice.refresh_from_db()
    assert alice.is_console_logon_enabled
    assert not alice.must_reset_password
    assert alice.user.check_password(ALICE_NEW_PASSWORD)
    events = AuditEvent.objects.filter(account_id=account.account_id)
    assert events.filter(action="ram_user.create", target=alice.principal).exists()
    assert events.filter(action="password.change", actor=alice.principal).exists()
    assert events.filter(action="sign_in.success", actor=alice.principal).exists()
    assert events.filter(action="sign_in.success", actor=account.principal).exists()
    browsing.assert_no_console_errors()


def test_create_user_adds_rows_rejects_a_bad_name_beside_its_field_and_creates_both_users(browsing):
    owner = make_owner(OWNER_EMAIL, "Acme")
    page = browsing.page
    sign_in_owner(browsing, owner)
    browsing.open(reverse("accounts:create-users"))
    rows = page.locator("#user-rows [data-user-row]")
    expect(rows).to_have_count(1)

    page.get_by_role("button", name="Add another user").click()
    expect(rows).to_have_count(2)
    expect(page.locator("input[name=users-TOTAL_FORMS]")).to_have_value("2")
    # The cloned row is a working row of its own: its labels point at its own fields.
    expect(rows.nth(1).get_by_label("User name")).to_have_attribute("name", "users-1-name")
    expect(rows.nth(1).get_by_label("Require password reset at next logon")).to_be_checked()
    rows.nth(0).get_by_label("User name").fill("bob smith")
    rows.nth(0).get_by_label("Display name").fill("Bob Smith")
    rows.nth(1).get_by_label("User name").fill("carol")
    rows.nth(1).get_by_label("Display name").fill("Carol Jones")
    rows.nth(1).get_by_label("Console Password Logon").check()
    browsing.snap("two-rows")
    page.get_by_role("button", name="OK").click()

    # Nothing is created; the error stands beside the bad field and both rows keep what was typed.
    expect(rows).to_have_count(2)
    bad_name = rows.nth(0).get_by_label("User name")
    expect(bad_name).to_have_class(INVALID)
    expect(bad_name).to_have_value("bob smith")
    expect(rows.nth(0).locator(".invalid-feedback")).to_be_visible()
    expect(rows.nth(1).get_by_label("User name")).to_have_value("carol")
    expect(rows.nth(1).get_by_label("User name")).not_to_have_class(INVALID)
    browsing.snap("bad-name")
    assert not RamUser.objects.filter(account=owner.account).exists()
    assert not AuditEvent.objects.filter(action="ram_user.create").exists()

    bad_name.fill("bob")
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_role("heading", name="2 users created")).to_be_visible()
    expect(page.locator("[data-created-user]")).to_have_count(2)
    expect(page.locator("[data-delivery-sheet=carol] [data-secret=password]")).to_be_visible()
    expect(page.locator("[data-created-user=bob]")).to_contain_text("Disabled")
    browsing.snap("two-created")
    page.get_by_role("navigation").get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("row").filter(has_text="ram_user.create")).to_have_count(2)
    browsing.snap("audit-trail")

    bob = RamUser.objects.get(account=owner.account, name="bob")
    carol = RamUser.objects.get(account=owner.account, name="carol")
    assert not bob.is_console_logon_enabled
    assert carol.is_console_logon_enabled and carol.must_reset_password
    assert AuditEvent.objects.filter(action="ram_user.create").count() == 2
    browsing.assert_no_console_errors()
