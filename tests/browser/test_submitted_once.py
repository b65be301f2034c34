"""In Chromium: a secret-issuing form sent twice at once still shows each secret exactly once, to the browser that
sent it; the page's script sends it only once anyway; and a password with spaces at its ends is copied and
downloaded exactly as typed."""

import csv
import io
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Request, expect

from accounts.models import DeliveryPacket, OneTimeReveal, PasswordPolicy, RamUser
from portal.models import AuditEvent
from tests.browser.conftest import sign_in_owner

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

SPACED = " pass word "


def fill_one_user(page, name: str) -> None:
    row = page.locator("[data-user-row]").first
    row.get_by_label("User name").fill(name)
    row.get_by_label("Display name").fill(name.title())
    row.get_by_label("Console Password Logon").check()


def posts_to(page, path: str) -> list[Request]:
    posts: list[Request] = []
    page.on(
        "request", lambda request: posts.append(request) if request.method == "POST" and path in request.url else None
    )
    return posts


def signs_in(owner, name: str, password: str) -> bool:
    url = reverse("accounts:ram-sign-in", args=[owner.account.default_domain])
    return Client().post(url, {"login": name, "password": password}).status_code == 302


def test_create_user_sent_twice_30_ms_apart_shows_the_password_once_to_the_browser(browsing, owner):
    page = browsing.page
    sign_in_owner(browsing, owner)
    browsing.open(reverse("accounts:create-users"))
    fill_one_user(page, "alice")
    posts = posts_to(page, reverse("accounts:create-users"))
    # form.submit() passes by the page's own guard (it fires no submit event): two real submissions, the second
    # replacing the first in the tab, as a second click on a slow server does.
    page.evaluate(
        """() => {
            const form = document.getElementById("create-users-form");
            form.submit();
            setTimeout(() => form.submit(), 30);
        }"""
    )
    expect(page.get_by_role("heading", name="1 user created")).to_be_visible()
    assert "/issued/" in page.url
    assert len(posts) == 2
    password = page.locator("[data-delivery-sheet=alice] [data-secret=password]").text_content()
    assert len(password) >= 16
    browsing.snap("shown-once-after-two-submissions")

    assert RamUser.objects.filter(name="alice").count() == 1
    assert AuditEvent.objects.filter(action="ram_user.create").count() == 1
    packet = DeliveryPacket.objects.get(ram_user__name="alice")
    assert packet.state == DeliveryPacket.State.WIPED and packet.channel == "shown"
    assert AuditEvent.objects.filter(action="packet.shown").count() == 1
    assert OneTimeReveal.objects.get().state == OneTimeReveal.State.SHOWN
    assert signs_in(owner, "alice", password)

    page.reload()
    expect(page.get_by_test_id("already-shown")).to_be_visible()
    assert password not in page.content()
    browsing.snap("reloaded")
    browsing.assert_no_console_errors()


def test_the_page_sends_a_secret_issuing_form_once_however_often_it_is_submitted(browsing, owner):
    page = browsing.page
    sign_in_owner(browsing, owner)
    browsing.open(reverse("accounts:create-users"))
    fill_one_user(page, "bob")
    posts = posts_to(page, reverse("accounts:create-users"))
    page.evaluate(
        """() => {
            const form = document.getElementById("create-users-form");
            form.requestSubmit();
            form.requestSubmit();
            setTimeout(() => form.requestSubmit(), 30);
        }"""
    )
    expect(page.get_by_role("heading", name="1 user created")).to_be_visible()
    assert len(posts) == 1
    assert RamUser.objects.filter(name="bob").count() == 1
    browsing.assert_no_console_errors()


def test_the_submit_button_is_disabled_while_the_form_is_on_its_way(browsing, owner):
    page = browsing.page
    sign_in_owner(browsing, owner)
    browsing.open(reverse("accounts:create-users"))
    fill_one_user(page, "carol")
    # The submission is held in the page (a listener after portal.js's cancels the navigation), as a slow server
    # would hold it: the button is disabled and marked busy meanwhile.
    page.evaluate("document.addEventListener('submit', (event) => event.preventDefault())")
    ok = page.get_by_role("button", name="OK")
    ok.click()
    expect(ok).to_be_disabled()
    expect(ok).to_have_attribute("aria-busy", "true")
    browsing.snap("in-flight")
    ok.click(force=True)  # a second click does nothing either
    assert not RamUser.objects.filter(name="carol").exists()


def test_a_password_with_spaces_at_its_ends_is_copied_and_downloaded_exactly(browsing, owner):
    PasswordPolicy.objects.filter(account=owner.account).update(minimum_length=8)
    page = browsing.page
    sign_in_owner(browsing, owner)
    browsing.open(reverse("accounts:create-users"))
    row = page.locator("[data-user-row]").first
    fill_one_user(page, "spacey")
    row.get_by_role("radio", name="Custom password").check()
    row.locator("input[name$='-password']").fill(SPACED)
    row.get_by_label("Require password reset at next logon").uncheck()
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_role("heading", name="1 user created")).to_be_visible()
    expect(page.get_by_test_id("password-spaces")).to_have_text("Note: the password begins and ends with a space.")
    browsing.snap("spaced-password-shown")

    page.locator("[data-copy-target^='#password-of-']").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == SPACED

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV File").click()
    content = Path(download_info.value.path()).read_text(encoding="utf-8")
    [header, row_values] = list(csv.reader(io.StringIO(content)))
    assert row_values[header.index("Initial password")] == SPACED
    assert f'"{SPACED}"' in content  # quoted, so that a spreadsheet keeps the spaces too

    assert signs_in(owner, "spacey", SPACED) and not signs_in(owner, "spacey", SPACED.strip())
    browsing.assert_no_console_errors()


def test_the_one_time_page_and_the_user_page_fit_a_390_pixel_screen(browsing, owner):
    page = browsing.page
    sign_in_owner(browsing, owner)
    page.set_viewport_size({"width": 390, "height": 844})
    browsing.open(reverse("accounts:create-users"))
    fill_one_user(page, "zhangwei")
    page.locator("[data-user-row]").first.get_by_label("Display name").fill("张伟（数据平台）")
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_role("heading", name="1 user created")).to_be_visible()
    expect(page.locator("[data-delivery-sheet=zhangwei]")).to_contain_text("张伟（数据平台）")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    browsing.snap("one-time-page-390")
    page.get_by_role("link", name="zhangwei", exact=True).click()
    expect(page.get_by_role("heading", name="张伟（数据平台）")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    browsing.snap("user-page-390")
