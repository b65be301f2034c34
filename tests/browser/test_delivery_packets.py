"""SPEC §4.8 clicked through: a delivery sheet shown on the issuing page and printed from there (print CSS), and
a sealed packet emailed through a real SMTP server, claimed once with "Reveal" and spent afterwards (rule 1)."""

import csv
import io
import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect
from pypdf import PdfReader

from accounts.models import AccessKey, DeliveryPacket, PrimaryAccount
from accounts.services.access_keys import open_secret
from accounts.services.packet_mail import deliver_due_emails
from accounts.services.packets import open_packet_secrets
from tests.browser.conftest import ARTIFACTS, Browsing, sign_in_owner
from tests.conftest import fresh_totp_code

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

ACCESS_KEY_ID = re.compile(r"LTAI[A-Za-z0-9]{20}")
SECRET = re.compile(r"[A-Za-z0-9]{30}")
BOB_EMAIL = "bob.obrien@people.example"
BOB_DISPLAY_NAME = "Bob O'Brien"  # an apostrophe and an ampersand, which plain text must not HTML-escape
ACCOUNT_NAME = "Acme & Söhne"


def open_create_user(browsing: Browsing) -> None:
    page = browsing.page
    page.get_by_role("navigation").get_by_role("link", name="Users").click()
    page.get_by_role("link", name="Create User").click()
    expect(page).to_have_url(browsing.base_url + reverse("accounts:create-users"))


def assert_sealed_columns_empty(packet: DeliveryPacket) -> None:
    assert packet.sealed_password == ""
    assert packet.sealed_access_key_secret == ""
    assert packet.claim_token_hash == ""
    assert not packet.has_secrets
    assert packet.wiped_at is not None


def test_owner_shows_alices_secrets_on_the_issuing_page_and_prints_the_sheet(browsing, owner):
    page = browsing.page
    sign_in_owner(browsing, owner)
    open_create_user(browsing)

    # 1. "Create User": alice, console logon with a generated password, and an AccessKey (which needs a code).
    row = page.locator("[data-user-row]").first
    row.get_by_label("User name").fill("alice")
    row.get_by_label("Display name").fill("Alice Liddell")
    row.get_by_label("Console Password Logon").check()
    expect(row.get_by_label("Automatically generate a password")).to_be_checked()
    row.get_by_label("Create AccessKey (programmatic access)").check()
    delivery = page.get_by_role("group", name="Delivery")
    expect(delivery.get_by_label("Show the secrets now")).to_be_checked()
    delivery.get_by_label("Verification code").fill(fresh_totp_code(owner.device))
    browsing.snap("create-alice")
    with page.expect_response(lambda response: response.request.method == "POST") as response_info:
        page.get_by_role("button", name="OK").click()
    assert "no-store" in response_info.value.headers["cache-control"]

    # 2. The delivery sheet: logon link with the user name, logon name, password, AccessKey, confirmations.
    expect(page.get_by_role("heading", name="1 user created")).to_be_visible()
    sheet = page.locator("[data-delivery-sheet=alice]")
    expect(sheet).to_be_visible()
    logon_link = sheet.locator("dt:has-text('Logon link') + dd").inner_text().strip()
    assert logon_link.endswith("?username=alice"), logon_link
    alice_key = AccessKey.objects.get(user__ram_user__name="alice")
    logon_name = alice_key.user.ram_user.logon_name
    expect(sheet.locator("dt:has-text('Logon name') + dd")).to_have_text(logon_name)
    password = sheet.locator("[data-secret=password]").inner_text().strip()
    assert len(password) >= 12
    expect(sheet.locator("dt:has-text('AccessKey ID') + dd")).to_have_text(alice_key.access_key_id)
    assert ACCESS_KEY_ID.fullmatch(alice_key.access_key_id)
    secret = sheet.locator("[data-secret=access-key-secret]").inner_text().strip()
    assert SECRET.fullmatch(secret), secret
    expect(sheet).to_contain_text("Console logon: enabled")
    expect(sheet).to_contain_text("Manage own AccessKeys: not allowed")
    expect(sheet).to_contain_text("Password reset at first sign-in: required")
    expect(sheet).to_contain_text("MFA at first sign-in: not required")
    expect(sheet).to_contain_text(f"Issued by {owner.account.principal}")
    expect(sheet.get_by_role("button", name="Copy")).to_have_count(2)  # the password and the AccessKey secret
    browsing.snap("alice-sheet")

    # "Download CSV File" builds the file in the browser from the page; "Done" waits for "I have saved …".
    done = page.get_by_role("link", name="Done")
    expect(done).to_have_attribute("aria-disabled", "true")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV File").click()
    rows = list(csv.reader(io.StringIO(Path(download_info.value.path()).read_text(encoding="utf-8"))))
    assert rows == [
        ["User name", "Logon name", "Logon link", "Initial password", "AccessKey ID", "AccessKey Secret"],
        ["alice", logon_name, logon_link, password, alice_key.access_key_id, secret],
    ]
    page.get_by_label("I have saved the new users' secrets").check()
    expect(done).to_have_attribute("aria-disabled", "false")

    # 3. "Print delivery sheets" calls the browser's print (stubbed: a real dialog would block the test).
    page.evaluate("() => { window.printCalls = 0; window.print = () => { window.printCalls += 1; }; }")
    page.get_by_role("button", name="Print delivery sheets").click()
    assert page.evaluate("window.printCalls") == 1

    # 4. Under print media only the sheet is left: no navigation, no heading, no table, no buttons.
    page.emulate_media(media="print")
    assert page.locator("nav").is_visible() is False
    assert page.get_by_role("button", name="Print delivery sheets").is_visible() is False
    assert page.get_by_role("link", name="Done").is_visible() is False
    assert page.locator("[data-created-user=alice]").is_visible() is False
    assert page.get_by_role("heading", name="1 user created").is_visible() is False
    expect(sheet).to_be_visible()
    expect(sheet.locator("[data-secret=password]")).to_be_visible()
    browsing.snap("alice-sheet-print-media")
    pdf_path = ARTIFACTS / browsing.test_name / "alice-sheet.pdf"
    page.pdf(path=str(pdf_path), format="A4")
    reader = PdfReader(io.BytesIO(pdf_path.read_bytes()))
    assert len(reader.pages) == 1, "one sheet, one page (no blank page after it)"
    printed = reader.pages[0].extract_text()
    for shown in (logon_name, password, alice_key.access_key_id, secret):
        assert shown in printed, shown
    for hidden in ("RAM Onboarding Portal", "Print delivery sheets", "user created"):
        assert hidden not in printed, hidden
    page.emulate_media(media="screen")
    expect(page.locator("nav")).to_be_visible()

    # 5. The packet left through the "shown" channel and is wiped; the key itself still works.
    [packet] = DeliveryPacket.objects.filter(ram_user__name="alice")
    assert packet.state == DeliveryPacket.State.WIPED
    assert packet.channel == DeliveryPacket.Channel.SHOWN
    assert packet.delivered_by == owner.account.principal
    assert_sealed_columns_empty(packet)
    assert packet.has_password and packet.access_key_id == alice_key.access_key_id
    assert open_secret(alice_key) == secret
    assert alice_key.user.check_password(password)

    # Reloading the page re-posts the form: the used code creates nothing and shows no secret again.
    page.reload()
    assert password not in page.content() and secret not in page.content()
    assert AccessKey.objects.count() == 1
    browsing.snap("after-reload")
    browsing.assert_no_console_errors()


def test_owner_emails_bobs_sealed_packet_and_bob_claims_it_once(browsing, owner, smtp_server):
    page, base_url = browsing.page, browsing.base_url
    PrimaryAccount.objects.filter(pk=owner.account.pk).update(name=ACCOUNT_NAME)
    sign_in_owner(browsing, owner)
    open_create_user(browsing)

    # 1. "Create User": bob, with an email address, console logon and an AccessKey, and carol without an
    #    address; their secrets are sealed in packets.
    page.get_by_role("button", name="Add another user").click()
    bob_row, carol_row = page.locator("[data-user-row]").nth(0), page.locator("[data-user-row]").nth(1)
    bob_row.get_by_label("User name").fill("bob")
    bob_row.get_by_label("Display name").fill(BOB_DISPLAY_NAME)
    bob_row.get_by_role("textbox", name="Email").fill(BOB_EMAIL)
    bob_row.get_by_label("Console Password Logon").check()
    bob_row.get_by_label("Create AccessKey (programmatic access)").check()
    carol_row.get_by_label("User name").fill("carol")
    carol_row.get_by_label("Display name").fill("Carol Jones")
    carol_row.get_by_label("Console Password Logon").check()
    delivery = page.get_by_role("group", name="Delivery")
    delivery.get_by_label("Seal them in a delivery packet").check()
    delivery.get_by_label("Verification code").fill(fresh_totp_code(owner.device))
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_role("heading", name="2 users created")).to_be_visible()
    expect(page.get_by_text("The new secrets are sealed in delivery packets")).to_be_visible()
    expect(page.locator("[data-delivery-sheet]")).to_have_count(0)
    expect(page.locator("[data-secret]")).to_have_count(0)
    browsing.snap("bob-and-carol-sealed")

    packet = DeliveryPacket.objects.select_related("ram_user").get(ram_user__name="bob")
    assert packet.state == DeliveryPacket.State.SEALED and packet.has_secrets
    sealed = open_packet_secrets(packet)  # what only the claim page may show
    assert sealed.password and sealed.access_key_secret
    assert sealed.password not in page.content() and sealed.access_key_secret not in page.content()
    bob = packet.ram_user
    bob_key = AccessKey.objects.get(user=bob.user)
    assert open_secret(bob_key) == sealed.access_key_secret

    # 2. Packets → "Email a packet": bob's packet, his address suggested, "Email with claim link".
    page.get_by_role("navigation").get_by_role("link", name="Packets").click()
    expect(page).to_have_url(base_url + reverse("accounts:packet-list"))
    packet_row = page.locator(f"[data-packet='{packet.pk}']")
    expect(packet_row).to_contain_text("Sealed")
    expect(packet_row).to_contain_text(f"Password + AccessKey {bob_key.access_key_id}")
    carol_packet = DeliveryPacket.objects.get(ram_user__name="carol")
    email_form = page.locator("#email-packet-form")
    choose_packet, send_to = email_form.get_by_label("Packet"), email_form.get_by_label("Send to")
    # The newest packet (carol's, who has no address) is chosen first; choosing bob's suggests his address,
    # and going back to carol's empties it again, so that her packet cannot go to bob by mistake.
    expect(choose_packet).to_have_value(str(carol_packet.pk))
    expect(send_to).to_have_value("")
    choose_packet.select_option(str(packet.pk))
    expect(send_to).to_have_value(BOB_EMAIL)
    choose_packet.select_option(str(carol_packet.pk))
    expect(send_to).to_have_value("")
    choose_packet.select_option(str(packet.pk))
    expect(send_to).to_have_value(BOB_EMAIL)
    browsing.snap("packet-list-sealed")
    email_form.get_by_role("button", name="Email with claim link").click()
    expect(page.get_by_text(f"The packet for bob is queued for {BOB_EMAIL}.")).to_be_visible()
    expect(packet_row).to_contain_text(f"Queued for {BOB_EMAIL}")
    expect(choose_packet.locator("option")).to_have_count(1)  # only carol's is left to email
    expect(send_to).to_have_value("")
    browsing.snap("packet-queued")
    assert smtp_server.messages == []  # nothing leaves before the worker runs

    # 3. The mail worker hands the message to the SMTP server.
    assert deliver_due_emails() == 1
    assert deliver_due_emails() == 0  # sent once
    [raw], [message] = smtp_server.raw, smtp_server.messages
    assert message["To"] == BOB_EMAIL
    # (whitespace normalised: CPython's folding of a long non-ASCII subject can leave a doubled space)
    assert " ".join(message["Subject"].split()) == f"Your RAM user account {bob.logon_name} at {ACCOUNT_NAME}"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    claim_link = re.escape(base_url) + r"/claim/#([A-Za-z0-9_-]{20,})"
    [token] = set(re.findall(claim_link, text))
    assert set(re.findall(claim_link, html)) == {token}
    for body in (text, html):
        assert bob.logon_name in body
        assert "?username=bob" in body
        assert bob_key.access_key_id in body
    assert f"Hello {BOB_DISPLAY_NAME}," in text  # plain text is not HTML-escaped
    assert f"An account has been set up for you as a RAM user of {ACCOUNT_NAME}." in text
    assert "&#x27;" not in text and "&amp;" not in text
    for secret in (sealed.password, sealed.access_key_secret):
        assert secret not in raw.decode("utf-8", "replace")
        assert secret not in text and secret not in html
    packet.refresh_from_db()
    assert packet.state == DeliveryPacket.State.SENT and packet.has_secrets
    page.goto("about:blank")  # outside the portal's CSP, as in a mail client
    page.set_content(html)
    expect(page.get_by_text(f"Hello {BOB_DISPLAY_NAME},")).to_be_visible()
    browsing.snap("email-html")
    browsing.open(reverse("accounts:packet-list"))
    expect(packet_row).to_contain_text("Sent")
    expect(packet_row).to_contain_text(f"Sent to {BOB_EMAIL}")
    browsing.snap("packet-sent")

    # carol's packet is revoked instead: its secrets are wiped and nothing is left to email.
    page.locator(f"[data-packet='{carol_packet.pk}']").get_by_role("link", name="Revoke").click()
    expect(page.get_by_role("heading", name=f"Revoke packet #{carol_packet.pk} for carol")).to_be_visible()
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("The packet for carol was revoked; its secrets are wiped.")).to_be_visible()
    expect(page.locator(f"[data-packet='{carol_packet.pk}']")).to_contain_text("Revoked")
    expect(page.locator("#email-packet-form")).to_have_count(0)
    expect(page.get_by_test_id("nothing-to-email")).to_have_text("No sealed packet is waiting to be emailed.")
    browsing.snap("carol-revoked")
    carol_packet.refresh_from_db()
    assert carol_packet.state == DeliveryPacket.State.REVOKED and carol_packet.revoked_at is not None
    expect(page.locator(f"[data-packet='{carol_packet.pk}']")).to_contain_text(
        f"Revoked {carol_packet.revoked_at:%Y-%m-%d %H:%M}"
    )
    assert_sealed_columns_empty(carol_packet)

    # 4. bob (signed out) opens the link: the code moves from the fragment into the form, out of the URL.
    page.get_by_role("button", name="Sign out").click()
    page.goto(base_url + f"/claim/#{token}")
    expect(page.get_by_role("heading", name="Your RAM user account")).to_be_visible()
    expect(page.get_by_label("Claim code")).to_have_value(token)
    assert page.url == base_url + reverse("accounts:claim")
    assert token not in page.url
    browsing.snap("claim-page")

    # 5. "Reveal" (a POST) leads to this browser's one-time page, which no cache keeps: the secrets, once.
    with page.expect_response(lambda response: "/claim/" in response.url and response.request.method == "GET") as shown:
        page.get_by_role("button", name="Reveal").click()
    response = shown.value
    assert response.status == 200 and response.request.redirected_from.method == "POST"
    assert "no-store" in response.headers["cache-control"]
    reveal_url = page.url
    claimed_sheet = page.locator("[data-delivery-sheet=bob]")
    expect(claimed_sheet.locator("[data-secret=password]")).to_have_text(sealed.password)
    expect(claimed_sheet.locator("[data-secret=access-key-secret]")).to_have_text(sealed.access_key_secret)
    expect(claimed_sheet).to_contain_text(bob.logon_name)
    expect(page.get_by_role("link", name="Sign in now")).to_have_attribute(
        "href", f"{bob.account.logon_link}?username=bob"
    )
    browsing.snap("claim-revealed")
    assert bob.user.check_password(sealed.password)
    packet.refresh_from_db()
    assert packet.state == DeliveryPacket.State.CLAIMED
    assert packet.channel == DeliveryPacket.Channel.EMAIL
    assert_sealed_columns_empty(packet)

    # 6. Reloading the page shows nothing again; the link itself is spent.
    page.reload()
    assert page.url == reveal_url
    expect(page.get_by_test_id("already-shown")).to_contain_text("ask your administrator")
    expect(page.locator("[data-secret]")).to_have_count(0)
    page.goto(base_url + f"/claim/#{token}")
    page.get_by_role("button", name="Reveal").click()
    # Chromium logs every 4xx document as a console error; this one is the expected answer, so take it out.
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    gone = [error for error in browsing.errors if "status of 410" in error]
    assert len(gone) == 1, browsing.errors
    browsing.errors.remove(gone[0])
    expect(page.locator("[data-secret]")).to_have_count(0)
    content = page.content()
    assert sealed.password not in content and sealed.access_key_secret not in content
    assert token not in content
    browsing.snap("claim-spent")
    packet.refresh_from_db()
    assert packet.state == DeliveryPacket.State.CLAIMED
    assert_sealed_columns_empty(packet)
    browsing.assert_no_console_errors()
