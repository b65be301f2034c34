"""The Users table clicked through: filter, sort, select every user that matches across pages, a bulk action
confirmed with its count and names, and the per-user report; long names never widen the page."""

import pytest
from django.contrib.auth.hashers import make_password
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import RamUser, User
from tests.accounts.test_user_list_queries import add_users
from tests.browser.conftest import Browsing, sign_in_owner
from tests.conftest import RAM_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

LONG_NAME = "a" * 64  # the longest valid user name
LONG_DISPLAY_NAME = "Dr. " + "Wolfeschlegelsteinhausenbergerdorff " * 3 + "x" * 16  # 128 characters


def test_filter_sort_select_all_matching_and_a_confirmed_bulk_action(browsing: Browsing, owner, settings):
    settings.PORTAL_PAGE_SIZES = {**settings.PORTAL_PAGE_SIZES, "users": 5}
    add_users(owner.account, 12)  # user-00000 … user-00011; the even ones have console logon
    User.objects.filter(ram_user__is_console_logon_enabled=True).update(password=make_password(RAM_PASSWORD))
    page = browsing.page
    sign_in_owner(browsing, owner)
    browsing.open(reverse("accounts:user-list"))

    page.get_by_label("Console logon").select_option("yes")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("Page 1 of 2 · 6 in all")).to_be_visible()
    page.get_by_role("link", name="User name").click()  # sorted by name already: the link reverses it
    expect(page.locator("tbody tr").first).to_have_attribute("data-user", "user-00010")
    browsing.snap("filtered-and-sorted")

    page.get_by_label("Select all 6 users that match the filter, on every page").check()
    page.get_by_label("Action on the selection").select_option(label="Require MFA at next logon")
    page.get_by_role("button", name="Continue…").click()
    expect(page.get_by_role("heading", name="Require MFA at next logon — 6 users")).to_be_visible()
    names = page.get_by_test_id("bulk-names")
    for index in range(0, 12, 2):
        expect(names).to_contain_text(f"user-{index:05d}")
    expect(names).not_to_contain_text("user-00001")
    assert not RamUser.objects.filter(must_bind_mfa=True).exists()  # nothing before the confirmation
    browsing.snap("confirmation")

    page.get_by_role("button", name="Confirm: Require MFA at next logon for 6 users").click()
    expect(page.get_by_role("heading", name="Require MFA at next logon: 6 done, 0 refused")).to_be_visible()
    expect(page.get_by_test_id("bulk-report").locator("tbody tr")).to_have_count(6)
    browsing.snap("report")
    required = RamUser.objects.filter(account=owner.account, must_bind_mfa=True).values_list("name", flat=True)
    assert sorted(required) == [f"user-{index:05d}" for index in range(0, 12, 2)]

    page.go_back()  # the confirmation again, sent again: the same report, nothing done twice
    page.get_by_role("button", name="Confirm: Require MFA at next logon for 6 users").click()
    expect(page.get_by_role("heading", name="Require MFA at next logon: 6 done, 0 refused")).to_be_visible()


def test_ticking_every_user_on_the_page_and_long_names_that_never_widen_it(browsing: Browsing, owner):
    add_users(owner.account, 3)
    RamUser.objects.filter(name="user-00001").update(name=LONG_NAME, display_name=LONG_DISPLAY_NAME)
    page = browsing.page
    sign_in_owner(browsing, owner)
    browsing.open(reverse("accounts:user-list"))
    cell = page.locator(f'a[title="{LONG_NAME}"]')
    expect(cell).to_be_visible()
    assert cell.evaluate("element => element.scrollWidth > element.clientWidth")  # shortened, in full on hover
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_label("Select every user on this page").check()
    expect(page.locator("tbody input[name=user]:checked")).to_have_count(3)
    browsing.snap("long-names")
    page.get_by_label("Action on the selection").select_option(label="Add Permissions")
    page.get_by_label("Policy (for permissions)").select_option("AliyunRAMReadOnlyAccess")
    page.get_by_role("button", name="Continue…").click()
    expect(page.get_by_role("heading", name="Add Permissions: AliyunRAMReadOnlyAccess — 3 users")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(browsing.base_url + reverse("accounts:user-list"))
