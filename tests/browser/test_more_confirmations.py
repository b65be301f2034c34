"""The other destructive actions clicked through in Chromium (issue 13), each from the page where its button is:
"Reset MFA" and "Revoke" a policy on the user page, "Revoke" a delivery packet on the packet list, "Sign out
everywhere" on the owner's My account. Each asks on a page naming what and whom; Cancel goes back with nothing
changed; confirming makes the change, says so and records it. (A bulk action's confirmation is clicked through in
test_users_table.py; deleting an AccessKey, revoking a project role and removing a member in
test_confirmations.py.)"""

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import Authenticator, DeliveryPacket, PolicyAttachment, User
from accounts.services.otp import new_authenticator
from accounts.services.policies import attach_policy
from tests.browser.conftest import Browsing, sign_in_owner
from tests.db_state import actions_since, database_state, last_event_id

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def cancel_changes_nothing(browsing: Browsing, back_to: str) -> None:
    """Cancel on a confirmation page: back where the person came from, and not a row of the database changed."""
    before = database_state()
    browsing.page.get_by_role("link", name="Cancel").click()
    expect(browsing.page).to_have_url(browsing.base_url + back_to)
    assert database_state() == before


def test_resetting_mfa_from_the_user_page_asks_first_with_the_administrator_s_code(browsing: Browsing, owner, ram_user):
    page, base_url = browsing.page, browsing.base_url
    alice = ram_user.ram_user
    new_authenticator(user=alice.user, name="Phone", confirmed=True)
    user_page = reverse("accounts:user-detail", args=[alice.pk])

    sign_in_owner(browsing, owner)
    browsing.open(user_page)
    mfa = page.get_by_test_id("mfa-devices").first
    expect(mfa).to_contain_text("Phone")
    mfa.get_by_role("link", name="Reset MFA").click()

    expect(page).to_have_url(base_url + reverse("accounts:reset-mfa", args=[alice.pk]))
    expect(page.get_by_role("heading", name="Reset MFA of alice")).to_be_visible()
    consequences = page.get_by_test_id("consequences")
    expect(consequences).to_contain_text(f"The 1 MFA device and the backup codes of {alice.logon_name} are removed")
    expect(consequences).to_contain_text("It must bind a new device at its next sign-in")
    browsing.snap("reset-mfa-asks")

    cancel_changes_nothing(browsing, user_page)
    expect(mfa).to_contain_text("Phone")
    assert Authenticator.objects.filter(user=alice.user).exists()

    start = last_event_id()
    mfa.get_by_role("link", name="Reset MFA").click()
    page.get_by_label("Verification code").fill(owner.code())
    page.get_by_role("button", name="Reset MFA").click()
    expect(page).to_have_url(base_url + user_page)
    expect(page.get_by_role("alert")).to_contain_text("The MFA of alice was reset")
    expect(mfa).to_contain_text("None")
    expect(mfa.get_by_role("link", name="Reset MFA")).to_have_count(0)
    browsing.snap("mfa-reset")
    assert not Authenticator.objects.filter(user=alice.user).exists()
    assert actions_since(start) == ["mfa.reset"]


def test_revoking_a_policy_beside_it_on_the_user_page_asks_first(browsing: Browsing, owner, ram_user):
    page, base_url = browsing.page, browsing.base_url
    alice = ram_user.ram_user
    attach_policy(actor=owner.actor, ram_user=alice, policy_name="AliyunRAMFullAccess")
    user_page = reverse("accounts:user-detail", args=[alice.pk])
    revoke = page.get_by_role("link", name="Revoke AliyunRAMFullAccess")

    sign_in_owner(browsing, owner)
    browsing.open(user_page)
    revoke.click()

    expect(page).to_have_url(base_url + reverse("accounts:detach-policy", args=[alice.pk, "AliyunRAMFullAccess"]))
    expect(page.get_by_role("heading", name="Revoke AliyunRAMFullAccess from alice")).to_be_visible()
    consequences = page.get_by_test_id("consequences")
    expect(consequences).to_contain_text(f"{alice.principal} loses what AliyunRAMFullAccess allows, at once")
    expect(consequences).to_contain_text("Administer RAM users")
    browsing.snap("revoke-policy-asks")

    cancel_changes_nothing(browsing, user_page)
    expect(revoke).to_be_visible()
    assert PolicyAttachment.objects.filter(ram_user=alice, policy_name="AliyunRAMFullAccess").exists()

    start = last_event_id()
    revoke.click()
    page.get_by_role("button", name="Revoke").click()
    expect(page).to_have_url(base_url + user_page)
    expect(page.get_by_role("alert")).to_have_text("AliyunRAMFullAccess was detached.")
    expect(page.get_by_text("No policies attached.")).to_be_visible()
    expect(revoke).to_have_count(0)
    browsing.snap("policy-revoked")
    assert not PolicyAttachment.objects.filter(ram_user=alice).exists()
    assert actions_since(start) == ["policy.detach"]


def test_revoking_a_packet_from_the_packet_list_asks_first(browsing: Browsing, owner, ram_user):
    page, base_url = browsing.page, browsing.base_url
    alice = ram_user.ram_user
    packet = DeliveryPacket.objects.get(ram_user=alice)  # her initial password, sealed
    assert packet.state == DeliveryPacket.State.SEALED and packet.has_secrets
    packet_list = reverse("accounts:packet-list")
    row = page.locator(f"#packet-{packet.pk}")

    sign_in_owner(browsing, owner)
    browsing.open(packet_list)
    expect(row).to_contain_text("Sealed")
    row.get_by_role("link", name=f"Revoke packet {packet.pk}").click()

    expect(page).to_have_url(base_url + reverse("accounts:revoke-packet", args=[packet.pk]))
    expect(page.get_by_role("heading", name=f"Revoke packet #{packet.pk} for alice")).to_be_visible()
    consequences = page.get_by_test_id("consequences")
    expect(consequences).to_contain_text(f"The delivery packet #{packet.pk} for {alice.logon_name}")
    expect(consequences).to_contain_text("Its sealed secrets are wiped and can never be shown again")
    browsing.snap("revoke-packet-asks")

    cancel_changes_nothing(browsing, f"{packet_list}#packet-{packet.pk}")
    expect(row).to_contain_text("Sealed")
    packet.refresh_from_db()
    assert packet.state == DeliveryPacket.State.SEALED and packet.has_secrets

    start = last_event_id()
    row.get_by_role("link", name=f"Revoke packet {packet.pk}").click()
    page.get_by_role("button", name="Revoke").click()
    expect(page).to_have_url(base_url + packet_list)
    expect(page.get_by_role("alert")).to_have_text("The packet for alice was revoked; its secrets are wiped.")
    expect(row).to_have_attribute("data-state", "revoked")
    expect(row.get_by_role("link", name=f"Revoke packet {packet.pk}")).to_have_count(0)
    browsing.snap("packet-revoked")
    packet.refresh_from_db()
    assert packet.state == DeliveryPacket.State.REVOKED and not packet.has_secrets
    assert actions_since(start) == ["packet.revoked"]


def test_signing_out_everywhere_from_my_account_asks_first_and_ends_every_session(browsing: Browsing, browser, owner):
    page, base_url = browsing.page, browsing.base_url
    my_account = reverse("accounts:my-account")
    # The owner is signed in in another browser too: "everywhere" must end that session as well.
    elsewhere_client = Client()
    elsewhere_client.force_login(owner.user)
    elsewhere = browser.new_context()
    elsewhere.add_cookies(
        [{"name": "sessionid", "value": elsewhere_client.cookies["sessionid"].value, "url": base_url}]
    )
    other_page = elsewhere.new_page()
    other_page.goto(base_url + my_account)
    expect(other_page).to_have_url(base_url + my_account)
    generation = User.objects.get(pk=owner.user.pk).session_generation

    sign_in_owner(browsing, owner)
    browsing.open(my_account)
    page.get_by_role("link", name="Sign out everywhere").click()

    expect(page).to_have_url(base_url + reverse("accounts:sign-out-everywhere"))
    expect(page.get_by_role("heading", name="Sign out everywhere")).to_be_visible()
    consequences = page.get_by_test_id("consequences")
    expect(consequences).to_contain_text(f"Every session of {owner.user.email} ends now")
    expect(consequences).to_contain_text("this one included")
    browsing.snap("sign-out-everywhere-asks")

    cancel_changes_nothing(browsing, my_account)
    assert User.objects.get(pk=owner.user.pk).session_generation == generation
    other_page.reload()
    expect(other_page).to_have_url(base_url + my_account)  # still signed in there

    start = last_event_id()
    page.get_by_role("link", name="Sign out everywhere").click()
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page).to_have_url(base_url + reverse("accounts:owner-sign-in"))
    expect(page.get_by_role("alert")).to_have_text("Every session, this one included, was signed out.")
    browsing.snap("signed-out-everywhere")
    assert User.objects.get(pk=owner.user.pk).session_generation > generation
    assert actions_since(start) == ["sign_out.everywhere"]

    # Neither this browser nor the other one is signed in any more: My account sends both to the sign-in page.
    signed_out = base_url + reverse("accounts:owner-sign-in") + f"?next={my_account}"
    browsing.open(my_account)
    expect(page).to_have_url(signed_out)
    other_page.reload()
    expect(other_page).to_have_url(signed_out)
    elsewhere.close()
