"""SPEC §4.6 clicked through: "Create AccessKey" with the actor's code, the secret shown once (no-store), the CSV
built in the browser, the acknowledgement, and nothing shown again on reload or back; then a RAM user allowed to
"Manage AccessKey" creates, disables and deletes its own key."""

import re
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from playwright.sync_api import Request, expect

from accounts.models import AccessKey
from accounts.services.access_keys import open_secret
from accounts.services.otp import new_authenticator
from accounts.services.security import update_security_settings
from portal.models import AuditEvent
from tests.browser.conftest import sign_in_owner
from tests.conftest import RAM_PASSWORD, fresh_totp_code

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

SECRET = re.compile(r"[A-Za-z0-9]{30}")
ACCESS_KEY_ID = re.compile(r"LTAI[A-Za-z0-9]{20}")
CSV_HEADER = "AccessKey ID,AccessKey Secret"


def assert_secret_nowhere_stored(secret: str) -> None:
    """The secret is in no audit event and no session (rule 1): it left the portal in one response only."""
    assert not AuditEvent.objects.filter(details__icontains=secret).exists()
    assert not any(secret in str(session.get_decoded()) for session in Session.objects.all())


def test_owner_creates_an_access_key_for_alice_sees_the_secret_once_and_downloads_the_csv(browsing, owner, ram_user):
    page, base_url = browsing.page, browsing.base_url
    alice = ram_user.ram_user
    detail_url = base_url + reverse("accounts:user-detail", args=[alice.pk])
    sign_in_owner(browsing, owner)

    # 1. Users → alice → "Create AccessKey", with the owner's code in the same form.
    page.get_by_role("navigation").get_by_role("link", name="Users").click()
    page.get_by_role("link", name="alice", exact=True).click()
    expect(page).to_have_url(detail_url)
    keys_panel = page.get_by_test_id("access-keys")
    expect(keys_panel).to_contain_text("No AccessKeys.")
    browsing.snap("alice-detail")
    keys_panel.get_by_role("link", name="Create AccessKey").click()
    expect(page.get_by_role("heading", name="Create AccessKey")).to_be_visible()
    expect(page.get_by_text(alice.principal)).to_be_visible()
    browsing.snap("create-access-key")
    page.get_by_label("Verification code").fill(fresh_totp_code(owner.device))
    with page.expect_response(lambda response: "/issued/" in response.url) as response_info:
        page.get_by_role("button", name="OK").click()

    # 2. The form's answer is a redirect to its one-time page, which shows the secret once and no cache may keep.
    response = response_info.value
    assert response.status == 200 and response.request.redirected_from.method == "POST"
    assert "no-store" in response.headers["cache-control"]
    reveal_url = page.url
    expect(page.get_by_role("heading", name="AccessKey created")).to_be_visible()
    access_key_id = page.locator("#access-key-id").inner_text().strip()
    secret = page.locator("#access-key-secret").inner_text().strip()
    assert ACCESS_KEY_ID.fullmatch(access_key_id), access_key_id
    assert SECRET.fullmatch(secret), secret
    browsing.snap("access-key-created")
    key = AccessKey.objects.get(access_key_id=access_key_id)
    assert key.user_id == alice.user_id and key.is_active
    assert secret not in key.sealed_secret
    assert open_secret(key) == secret
    assert_secret_nowhere_stored(secret)

    # Copy puts the secret on the clipboard (portal.js under the strict CSP).
    page.locator("[data-copy-target='#access-key-secret']").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret

    # 3. "Download CSV File" builds the file from the page: no request leaves the browser.
    requests: list[Request] = []

    def record(request: Request) -> None:
        requests.append(request)

    page.on("request", record)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV File").click()
    download = download_info.value
    # A marker request sent after the click: whatever the click's handler had started leaves the page before it.
    with page.expect_request(lambda request: request.url.endswith("/healthz?after-download")):
        page.evaluate("fetch('/healthz?after-download')")
    page.remove_listener("request", record)
    sent = [request.url for request in requests if not request.url.startswith("blob:")]
    assert len(sent) == 1 and sent[0].endswith("/healthz?after-download"), sent
    assert download.suggested_filename == f"AccessKey_{access_key_id}.csv"
    content = Path(download.path()).read_text(encoding="utf-8")
    assert content.splitlines() == [CSV_HEADER, f"{access_key_id},{secret}"]
    assert content.strip("\r\n").count("\n") == 1

    # 4. "Done" stays disabled until "I have saved the AccessKey secret" is ticked.
    done = page.get_by_role("link", name="Done")
    expect(done).to_be_disabled()
    expect(done).to_have_attribute("aria-disabled", "true")
    expect(done).to_have_attribute("tabindex", "-1")  # not reachable with Tab either
    browsing.snap("done-disabled")
    page.get_by_label("I have saved the AccessKey secret").check()
    expect(done).to_be_enabled()
    expect(done).to_have_attribute("aria-disabled", "false")
    expect(done).not_to_have_attribute("tabindex", "-1")
    browsing.snap("done-enabled")

    # 5. Reloading the page shows nothing again, and issues nothing: it is a GET of the page, not the form.
    with page.expect_response(lambda response: response.url == reveal_url) as reload_info:
        page.reload()
    assert reload_info.value.request.method == "GET"
    assert "no-store" in reload_info.value.headers["cache-control"]
    expect(page.get_by_test_id("already-shown")).to_contain_text("Already shown.")
    expect(page.get_by_test_id("already-shown")).to_contain_text("create a new AccessKey")
    assert secret not in page.content()
    assert page.locator("#access-key-secret").count() == 0
    assert AccessKey.objects.filter(user=alice.user).count() == 1
    browsing.snap("after-reload")

    # Back to the form (kept by the browser, with its token) and OK again: the same form instance does no new work
    # and leads to the same page, which says the secret was shown.
    page.go_back()
    expect(page.get_by_role("heading", name="Create AccessKey")).to_be_visible()
    browsing.snap("back-to-the-form")
    page.get_by_label("Verification code").fill(fresh_totp_code(owner.device))
    page.get_by_role("button", name="OK").click()
    expect(page).to_have_url(reveal_url)
    expect(page.get_by_test_id("already-shown")).to_be_visible()
    assert secret not in page.content()
    assert AccessKey.objects.filter(user=alice.user).count() == 1
    browsing.snap("back-and-resubmitted")

    # The user's page lists the key, never its secret.
    browsing.open(reverse("accounts:user-detail", args=[alice.pk]))
    expect(keys_panel.locator(f"[data-access-key={access_key_id}]")).to_contain_text("Active")
    assert secret not in page.content()
    browsing.snap("alice-detail-with-key")

    # 6. One audit event, without the secret.
    [event] = AuditEvent.objects.filter(action="access_key.create")
    assert event.target == alice.principal
    assert event.details["access_key_id"] == access_key_id
    assert secret not in str(event.details)
    assert_secret_nowhere_stored(secret)
    browsing.assert_no_console_errors()


def test_done_leads_back_and_going_back_to_the_reveal_shows_nothing(browsing, owner, ram_user):
    page, base_url = browsing.page, browsing.base_url
    alice = ram_user.ram_user
    sign_in_owner(browsing, owner)
    browsing.open(reverse("accounts:create-access-key", args=[alice.pk]))
    page.get_by_label("Verification code").fill(fresh_totp_code(owner.device))
    page.get_by_role("button", name="OK").click()
    secret = page.locator("#access-key-secret").inner_text().strip()
    assert SECRET.fullmatch(secret)
    page.get_by_label("I have saved the AccessKey secret").check()
    page.get_by_role("link", name="Done").click()
    expect(page).to_have_url(base_url + reverse("accounts:user-detail", args=[alice.pk]))
    assert secret not in page.content()

    # Back to the one-time page: no-store kept it out of every cache, so the browser asks again and is told that
    # the secret was shown.
    page.go_back()
    expect(page.get_by_test_id("already-shown")).to_be_visible()
    assert secret not in page.content()
    browsing.snap("back-to-reveal")
    assert AccessKey.objects.filter(user=alice.user).count() == 1
    assert AuditEvent.objects.filter(action="access_key.create").count() == 1
    browsing.assert_no_console_errors()


def test_ram_user_allowed_to_manage_access_keys_creates_disables_and_deletes_its_own(browsing, owner, ram_user):
    page, base_url = browsing.page, browsing.base_url
    account, alice = owner.account, ram_user.ram_user
    update_security_settings(actor=owner.actor, otp_code=owner.code(), values={"allow_manage_access_keys": True})
    device = new_authenticator(user=alice.user, name="Authenticator", confirmed=True)

    # alice signs in at the logon link: user name, password, then her code.
    browsing.open(reverse("accounts:ram-sign-in", args=[account.default_domain]))
    page.get_by_label("Logon name").fill("alice")
    page.get_by_label("Password").fill(RAM_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(base_url + reverse("accounts:sign-in-verify"))
    page.get_by_label("Verification code").fill(fresh_totp_code(device))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(base_url + reverse("accounts:my-credentials"))
    expect(page.get_by_role("heading", name="My credentials")).to_be_visible()
    keys_panel = page.get_by_test_id("access-keys")
    expect(keys_panel).to_contain_text("No AccessKeys.")
    browsing.snap("my-credentials")

    # "Create AccessKey" with her own code.
    keys_panel.get_by_role("link", name="Create AccessKey").click()
    expect(page).to_have_url(base_url + reverse("accounts:create-my-access-key"))
    page.get_by_label("Verification code").fill(fresh_totp_code(device))
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_role("heading", name="AccessKey created")).to_be_visible()
    access_key_id = page.locator("#access-key-id").inner_text().strip()
    secret = page.locator("#access-key-secret").inner_text().strip()
    assert ACCESS_KEY_ID.fullmatch(access_key_id) and SECRET.fullmatch(secret)
    browsing.snap("my-access-key-created")
    key = AccessKey.objects.get(access_key_id=access_key_id, user=alice.user)
    assert open_secret(key) == secret
    page.get_by_label("I have saved the AccessKey secret").check()
    page.get_by_role("link", name="Done").click()
    expect(page).to_have_url(base_url + reverse("accounts:my-credentials"))
    row = keys_panel.locator(f"[data-access-key={access_key_id}]")
    expect(row).to_contain_text("Active")
    assert secret not in page.content()
    browsing.snap("my-key-active")

    # "Disable", then "Delete" (only an Inactive key can be deleted).
    expect(row.get_by_role("link", name="Delete")).to_have_count(0)
    row.get_by_role("button", name="Disable").click()
    expect(page.get_by_text(f"AccessKey {access_key_id} was disabled.")).to_be_visible()
    expect(row).to_contain_text("Inactive")
    key.refresh_from_db()
    assert not key.is_active
    browsing.snap("my-key-inactive")
    row.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name=f"Delete AccessKey {access_key_id}")).to_be_visible()
    page.get_by_label("Type the AccessKey ID to confirm").fill(access_key_id)
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text(f"AccessKey {access_key_id} was deleted.")).to_be_visible()
    expect(row).to_have_count(0)
    expect(keys_panel).to_contain_text("No AccessKeys.")
    browsing.snap("my-key-deleted")

    assert not AccessKey.objects.filter(user=alice.user).exists()
    events = AuditEvent.objects.filter(account_id=account.account_id, actor=alice.principal)
    for action in ("access_key.create", "access_key.disable", "access_key.delete"):
        [event] = events.filter(action=action)
        assert event.details["access_key_id"] == access_key_id
        assert secret not in str(event.details)
    assert_secret_nowhere_stored(secret)
    browsing.assert_no_console_errors()
