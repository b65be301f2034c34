"""An invitation clicked through (issue 14): the owner invites dana by email on Create User; dana opens the link
from the real SMTP server on a 390-pixel phone, sees whose account it is, is refused a weak password, chooses her
own, binds MFA and lands on My credentials; the link is spent afterwards."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import DeliveryPacket, RamUser
from accounts.services.packet_mail import deliver_due_emails
from tests.browser.conftest import ARTIFACTS, sign_in_owner
from tests.browser.test_onboarding_flow import code_for_key
from tests.mail import link_token

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

DANA_EMAIL = "dana.zhang@people.example"
DANA_DISPLAY_NAME = "张丹 Dana"
CHOSEN = "Juniper-Harbour-Compass-6620"


def test_owner_invites_dana_who_chooses_her_password_on_her_phone(browsing, browser, owner, smtp_server):
    page, base_url = browsing.page, browsing.base_url
    sign_in_owner(browsing, owner)
    browsing.open(reverse("accounts:create-users"))
    row = page.locator("[data-user-row]").first
    row.get_by_label("User name").fill("dana")
    row.get_by_label("Display name").fill(DANA_DISPLAY_NAME)
    row.get_by_role("textbox", name="Email").fill(DANA_EMAIL)
    row.get_by_label("Console Password Logon").check()
    row.get_by_label("Invite by email: the person chooses a password").check()
    row.get_by_label("Require MFA at next logon").check()
    page.get_by_role("button", name="OK").click()
    expect(page.locator('[data-created-user="dana"]')).to_contain_text(f"Invited by email ({DANA_EMAIL}) · Queued")
    browsing.snap("users-created")

    assert deliver_due_emails() == 1
    [message] = smtp_server.messages
    assert message["To"] == DANA_EMAIL
    link = f"{base_url}{reverse('accounts:invitation')}#{link_token(message, 'invitation')}"
    assert link in message.get_body(preferencelist=("plain",)).get_content()

    # Dana, on her phone: the link's page, whose script moves the code from the address into the form.
    # (Her phone asks for English, the language the owner gave her; tests/accounts/test_packet_language.py has
    # the invitation pages in Chinese.)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US", is_mobile=True)
    dana_page = phone.new_page()
    dana_page.set_default_timeout(10_000)
    dana_page.goto(link)
    expect(dana_page.get_by_label("Invitation code")).not_to_have_value("")
    assert "#" not in dana_page.url  # out of the address bar and the history
    dana_page.get_by_role("button", name="Continue").click()
    expect(dana_page.get_by_test_id("invited-account")).to_contain_text(DANA_DISPLAY_NAME)
    expect(dana_page.get_by_test_id("invited-account")).to_contain_text("dana@")
    assert dana_page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    shots = ARTIFACTS / browsing.test_name  # (made by the owner's first screenshot)
    dana_page.screenshot(path=str(shots / "dana-1-choose-password-390.png"), full_page=True)

    dana_page.locator("#id_new_password").fill("dana12345")
    dana_page.get_by_label("Confirm new password").fill("dana12345")
    dana_page.get_by_role("button", name="Accept and sign in").click()
    expect(dana_page.locator(".invalid-feedback, .alert-danger").first).to_be_visible()
    assert DeliveryPacket.objects.get(ram_user__name="dana", is_invitation=True).state == "sent"  # nothing spent

    dana_page.locator("#id_new_password").fill(CHOSEN)
    dana_page.get_by_label("Confirm new password").fill(CHOSEN)
    dana_page.get_by_role("button", name="Accept and sign in").click()
    expect(dana_page).to_have_url(base_url + reverse("accounts:sign-in-enrol"))
    shown_key = dana_page.get_by_test_id("totp-key").inner_text().strip()
    dana_page.get_by_label("Verification code").fill(code_for_key(shown_key))
    dana_page.get_by_role("button", name="Confirm").click()
    # Her first MFA device brings backup codes, shown once; then on to her credentials.
    expect(dana_page.get_by_test_id("backup-codes").locator("li")).to_have_count(10)
    dana_page.get_by_role("link", name="I have saved the backup codes · Continue").click()
    expect(dana_page).to_have_url(base_url + reverse("accounts:my-credentials"))
    dana_page.screenshot(path=str(shots / "dana-2-my-credentials-390.png"), full_page=True)
    dana = RamUser.objects.get(name="dana")
    assert dana.is_console_logon_enabled and dana.user.check_password(CHOSEN)

    # The link is spent. Opened again on her phone it carries on where she is; in another browser it says so.
    again = phone.new_page()
    again.goto(link)
    again.get_by_role("button", name="Continue").click()
    expect(again).to_have_url(base_url + reverse("accounts:my-credentials"))
    phone.close()
    elsewhere = browser.new_context()
    other = elsewhere.new_page()
    other.goto(link)
    other.get_by_role("button", name="Continue").click()
    expect(other.get_by_role("alert")).to_contain_text("not valid")
    elsewhere.close()

    # The owner's packet list says it was accepted.
    browsing.open(reverse("accounts:packet-list"))
    expect(page.get_by_role("row").filter(has_text="Invitation to choose a password")).to_contain_text("Accepted")
    browsing.snap("packets-accepted")
