"""Passkeys in Chromium with its virtual authenticator (DevTools' WebAuthn domain through Playwright's CDP session):
the owner adds one after a code, and signs in with it instead of a code (issue 17, item 3)."""

import pytest
from django.urls import reverse
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from accounts.models import AccessKey, Authenticator, PasskeyProof, PrimaryAccount, SecuritySettings
from accounts.services.otp import new_authenticator
from accounts.services.security import update_security_settings
from portal.models import AuditEvent
from tests.browser.conftest import Browsing, sign_in_owner
from tests.conftest import fresh_totp_code, make_ram_user

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def add_virtual_authenticator(browsing: Browsing) -> str:
    """A platform authenticator that holds passkeys and verifies its user without asking (as a fingerprint would)."""
    session = browsing.page.context.new_cdp_session(browsing.page)
    session.send("WebAuthn.enable")
    added = session.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return added["authenticatorId"]


def test_the_owner_adds_a_passkey_after_a_code_and_signs_in_with_it(browsing: Browsing, owner):
    page, base_url = browsing.page, browsing.base_url
    add_virtual_authenticator(browsing)
    sign_in_owner(browsing, owner)

    browsing.open(reverse("accounts:my-account"))
    page.get_by_role("link", name="Add a passkey").click()
    expect(page).to_have_url(base_url + reverse("accounts:add-passkey"))
    page.get_by_label("Verification code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()  # a wrong code: no passkey yet
    assert not WebAuthnCredential.objects.exists()
    browsing.snap("add-passkey-asks-for-a-code")

    page.wait_for_timeout(1100)  # the wrong code throttles the authenticator for a second (django-otp)
    page.get_by_label("Verification code").fill(fresh_totp_code(owner.device))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Add a passkey").click()
    expect(page).to_have_url(base_url + reverse("accounts:my-account"))
    passkey = WebAuthnCredential.objects.get(user=owner.user)
    assert passkey.name == "passkey"  # the name offered with the code
    expect(page.get_by_test_id("mfa-devices").locator("[data-passkey=passkey]")).to_contain_text("Passkey")
    browsing.snap("passkey-listed")
    assert AuditEvent.objects.filter(action="mfa.passkey_add", details__device=passkey.name).count() == 1

    # Signed out, the owner signs in with the password and then the passkey instead of a code.
    page.context.clear_cookies()
    browsing.open(reverse("accounts:owner-sign-in"))
    page.get_by_role("textbox", name="Email").fill(owner.user.email)
    page.get_by_label("Password").fill(owner.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(base_url + reverse("accounts:sign-in-verify"))
    browsing.snap("verify-offers-the-passkey")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(base_url + reverse("accounts:overview"))
    assert WebAuthnCredential.objects.get(pk=passkey.pk).last_used_at is not None
    assert AuditEvent.objects.filter(action="sign_in.success", actor=owner.account.principal).count() == 2
    browsing.snap("signed-in-with-the-passkey")

    # The passkey confirms a sensitive action too: an AccessKey of the primary account, with no code typed.
    browsing.open(reverse("accounts:create-account-access-key"))
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.locator("#access-key-secret")).to_be_visible()
    secret = page.locator("#access-key-secret").inner_text().strip()
    key = AccessKey.objects.get(user=owner.user)
    assert len(secret) == 30 and secret not in key.sealed_secret
    assert AuditEvent.objects.filter(action="access_key.create", actor=owner.account.principal).count() == 1
    assert not PasskeyProof.objects.exists()  # its one-time code was spent
    browsing.snap("access-key-issued-with-the-passkey")

    # Every code field that confirms the person offers it: the security settings' form ...
    browsing.open(reverse("accounts:security-settings"))
    page.get_by_label("Remember MFA for 7 days").check()
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.get_by_role("alert")).to_contain_text("The RAM user security settings were updated.")
    assert SecuritySettings.objects.get(account=owner.account).remember_mfa_for_7_days

    # ... and each of two forms on one page, the passkey answering for the form it sits in.
    browsing.open(reverse("accounts:update-default-domain"))
    page.get_by_label("Enterprise alias").fill("acme-data")
    offers = page.get_by_role("button", name="Use a passkey")
    expect(offers).to_have_count(1)  # no alias yet: nothing to clear
    offers.click()
    expect(page.get_by_role("alert")).to_contain_text("RAM users now sign in at")
    assert PrimaryAccount.objects.get(pk=owner.account.pk).alias == "acme-data"
    expect(page.get_by_role("button", name="Use a passkey")).to_have_count(2)
    browsing.snap("alias-page-offers-the-passkey-twice")
    page.get_by_role("button", name="Use a passkey").nth(1).click()
    expect(page.get_by_role("button", name="Use a passkey")).to_have_count(1)
    assert PrimaryAccount.objects.get(pk=owner.account.pk).alias is None
    assert AuditEvent.objects.filter(action__startswith="alias.").count() == 2
    browsing.assert_no_console_errors()


def test_a_ram_user_adds_a_passkey_signs_in_with_it_and_lets_the_phone_go(browsing: Browsing, owner):
    page, base_url = browsing.page, browsing.base_url
    update_security_settings(actor=owner.actor, otp_code=owner.code(), values={"allow_manage_mfa": True})
    alice = make_ram_user(owner, "alice")
    phone = new_authenticator(user=alice.user, name="phone", confirmed=True)
    add_virtual_authenticator(browsing)

    def sign_in() -> None:
        page.context.clear_cookies()
        browsing.open(reverse("accounts:ram-sign-in", args=[owner.account.default_domain]))
        page.get_by_label("Logon name").fill("alice")
        page.get_by_label("Password").fill(alice.password)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(base_url + reverse("accounts:sign-in-verify"))

    sign_in()
    page.get_by_label("Verification code").fill(fresh_totp_code(phone))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(base_url + reverse("accounts:my-credentials"))
    page.get_by_role("link", name="Add a passkey").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("button", name="Use a passkey")).to_have_count(0)  # alice has no passkey yet
    page.wait_for_timeout(1100)  # (a second past her sign-in's code: the next one is fresh)
    page.get_by_label("Passkey name").fill("work-laptop")
    page.get_by_label("Verification code").fill(fresh_totp_code(phone))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Add a passkey").click()
    expect(page).to_have_url(base_url + reverse("accounts:my-credentials"))
    expect(page.get_by_test_id("mfa-devices").locator("[data-passkey=work-laptop]")).to_contain_text("work-laptop")
    assert AuditEvent.objects.filter(action="mfa.passkey_add", details__device="work-laptop").exists()

    sign_in()
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(base_url + reverse("accounts:my-credentials"))

    # Her phone may go now that the passkey answers every code field; the backup codes stay with the passkey.
    page.get_by_test_id("mfa-devices").locator("[data-device=phone]").get_by_role("link", name="Remove").click()
    expect(page.get_by_test_id("consequences")).to_contain_text("You keep 1 other MFA device.")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(base_url + reverse("accounts:my-credentials"))
    expect(page.get_by_role("alert")).to_contain_text("The MFA device phone was removed.")
    assert not Authenticator.objects.filter(user=alice.user).exists()
    assert WebAuthnCredential.objects.filter(user=alice.user).count() == 1
    expect(page.get_by_test_id("mfa-devices")).to_contain_text("Backup codes left")
    browsing.snap("ram-user-keeps-the-passkey")
    browsing.assert_no_console_errors()
