"""The audit trail read in a browser (issue 13): a policy attachment with the policy's name, a settings change with
its before and after, an anonymous failed sign-in; the filters; the user page's card fitting its column."""

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from accounts.services.policies import attach_policy
from accounts.services.security import update_security_settings
from tests.browser.conftest import sign_in_owner

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_the_trail_says_what_each_event_concerns(browsing, owner, ram_user):
    page, account_id = browsing.page, owner.account.account_id
    Client().post(
        reverse("accounts:ram-sign-in", args=[owner.account.default_domain]), {"login": "alice", "password": "nope"}
    )
    attach_policy(actor=owner.actor, ram_user=ram_user.ram_user, policy_name="AliyunRAMReadOnlyAccess")
    update_security_settings(
        actor=owner.actor, otp_code=owner.code(), values={"session_hours": 2, "logon_ip_masks": ["10.0.0.0/8"]}
    )

    sign_in_owner(browsing, owner)
    page.get_by_role("navigation").get_by_role("link", name="Audit trail").click()
    attached = page.locator('tr[data-action="policy.attach"]')
    expect(attached).to_contain_text("Attached the policy AliyunRAMReadOnlyAccess")
    expect(attached.get_by_role("link", name="Owner")).to_be_visible()
    expect(attached.get_by_role("link", name="alice")).to_have_attribute(
        "href", reverse("accounts:user-detail", args=[ram_user.ram_user.pk])
    )
    settings_row = page.locator('tr[data-action="security_settings.update"]')
    expect(settings_row).to_contain_text(
        "Changed the security settings: logon session duration (hours) 6 → 2; logon IP masks none → 10.0.0.0/8"
    )
    failed = page.locator('tr[data-action="sign_in.failed"]')
    expect(failed).to_contain_text("Anonymous")
    expect(failed).to_contain_text(f"tried RAM${account_id}:alice")
    expect(failed).to_contain_text("refused: wrong password")
    browsing.snap("audit-trail")

    # Filtered by an action from the list: only that action's rows remain.
    page.get_by_label("Action").select_option(label="Policy attached")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("AliyunRAMReadOnlyAccess")
    browsing.snap("filtered-by-action")

    # A range that ends before it starts is an error beside the field, not an empty table.
    page.get_by_label("Action").select_option(value="")
    page.get_by_label("From (UTC)").fill("2026-03-02")
    page.get_by_label("To (UTC)").fill("2026-03-01")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("The end of the range is before its start.")).to_be_visible()
    expect(page.get_by_test_id("audit-filter-error")).to_have_text("Correct the filter to see the events.")
    expect(page.get_by_test_id("audit-events")).to_have_count(0)
    browsing.snap("range-error")

    # The user page's card tells the same, within its half of the page.
    browsing.open(reverse("accounts:user-detail", args=[ram_user.ram_user.pk]))
    card = page.get_by_test_id("audit-events")
    expect(card).to_contain_text("Attached the policy AliyunRAMReadOnlyAccess")
    expect(card).to_contain_text("Anonymous")
    box = card.locator("xpath=..")  # the scrolling box around the table
    assert box.evaluate("element => element.scrollWidth <= element.clientWidth"), "the card's table overflows"
    browsing.snap("user-page-audit-card")
