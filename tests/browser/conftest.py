"""Chromium through Playwright against pytest-django's live server.

The browser is Debian's Chromium (Playwright cannot download its own here). One browser per session, a fresh
context (cookies, storage) per test. Every console error, CSP violations included, fails the test.
"""

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import ConsoleMessage, Error, Page, expect, sync_playwright

from tests.conftest import fresh_totp_code

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items):
    """Browser tests run last, so that no other test runs beside Playwright's event loop (see below)."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed: the browser tests need Debian's chromium on PATH (make browser).")
    # Playwright's sync API keeps an event loop running in the main thread, where the tests also use the ORM;
    # Django refuses that unless told it is safe (the Makefile says so too). Only while the browser lives.
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            del os.environ[ASYNC_UNSAFE]
        else:
            os.environ[ASYNC_UNSAFE] = previous


@dataclass
class Browsing:
    """A page of one test, the errors its console reported, and screenshots named after the test."""

    page: Page
    base_url: str
    test_name: str
    errors: list[str] = field(default_factory=list)
    shots: int = 0

    def open(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def snap(self, step: str) -> Path:
        """Saves a full-page screenshot of this step and fails on any console error so far."""
        self.shots += 1
        folder = ARTIFACTS / self.test_name
        if self.shots == 1:
            shutil.rmtree(folder, ignore_errors=True)  # no stale screenshots from an earlier run
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.shots:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.assert_no_console_errors()
        return path

    def assert_no_console_errors(self) -> None:
        assert not self.errors, "The browser reported errors:\n" + "\n".join(self.errors)


@pytest.fixture
def browsing(browser, live_server, request) -> Browsing:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        locale="en-US",
        permissions=["clipboard-read", "clipboard-write"],  # the pages' Copy buttons
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).removeprefix("test_")
    browsing = Browsing(page=page, base_url=live_server.url, test_name=test_name)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            source = message.location.get("url") or page.url
            browsing.errors.append(f"console: {message.text} ({source}, on {page.url})")

    def on_page_error(error: Error) -> None:
        browsing.errors.append(f"uncaught: {error.message} ({page.url})")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    yield browsing
    context.close()


def sign_in_owner(browsing: Browsing, owner) -> None:
    """The owner signs in as a person does: email, password, then a fresh code from the authenticator."""
    page = browsing.page
    browsing.open(reverse("accounts:owner-sign-in"))
    page.get_by_role("textbox", name="Email").fill(owner.user.email)
    page.get_by_label("Password").fill(owner.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(browsing.base_url + reverse("accounts:sign-in-verify"))
    page.get_by_label("Verification code").fill(fresh_totp_code(owner.device))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(browsing.base_url + reverse("accounts:overview"))


@pytest.fixture
def smtp_server(smtp, settings, live_server):
    """The real SMTP server (tests.conftest.smtp), with the portal's links pointing at the live server."""
    settings.PORTAL_BASE_URL = live_server.url
    return smtp
