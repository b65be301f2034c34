"""Destructive actions clicked through in Chromium (issue 13): "Delete" an AccessKey asks for its ID, typed; a
project member's role is revoked and a member removed through their confirmation pages, and Cancel goes back with
nothing changed."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.actors import operator_actor
from accounts.models import AccessKey
from accounts.services.access_keys import issue_access_key, set_access_key_status
from portal.models import AuditEvent
from projects.matrix import Role
from projects.models import ProjectMember, RoleGrant
from projects.services import add_member, create_project
from tests.browser.conftest import sign_in_owner
from tests.db_state import database_state

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_delete_access_key_shows_the_key_id_and_needs_it_typed(browsing, owner, ram_user):
    page, base_url = browsing.page, browsing.base_url
    alice = ram_user.ram_user
    operator = operator_actor(owner.account)
    key = issue_access_key(actor=operator, holder=alice.user, otp_code=None).access_key
    set_access_key_status(actor=operator, access_key=key, is_active=False)
    key_id = key.access_key_id
    user_page = base_url + reverse("accounts:user-detail", args=[alice.pk])

    sign_in_owner(browsing, owner)
    page.goto(user_page)
    row = page.get_by_test_id("access-keys").locator(f"[data-access-key={key_id}]")
    expect(row).to_contain_text("Inactive")
    browsing.snap("user-page-inactive-key")

    # "Delete" leads to a page that names the key and its holder, and asks for the ID.
    row.get_by_role("link", name="Delete").click()
    expect(page).to_have_url(base_url + reverse("accounts:delete-access-key", args=[alice.pk, key_id]))
    expect(page.get_by_role("heading", name=f"Delete AccessKey {key_id}")).to_be_visible()
    expect(page.get_by_test_id("consequences")).to_contain_text(key_id)
    expect(page.get_by_test_id("consequences")).to_contain_text(alice.principal)
    expect(page.get_by_role("link", name="Cancel")).to_have_attribute(
        "href", reverse("accounts:user-detail", args=[alice.pk])
    )
    browsing.snap("delete-access-key-asks")

    # A slip (one character short) is refused beside the field, and nothing changes.
    before = database_state()
    page.get_by_label("Type the AccessKey ID to confirm").fill(key_id[:-1])
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text(f"Type {key_id} exactly to confirm.")).to_be_visible()
    assert database_state() == before
    browsing.snap("delete-access-key-wrong-id")

    # The ID typed as shown: the key is gone, and the audit trail says which.
    page.get_by_label("Type the AccessKey ID to confirm").fill(key_id)
    page.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(user_page)
    expect(page.get_by_text(f"AccessKey {key_id} was deleted.")).to_be_visible()
    expect(page.get_by_test_id("access-keys").locator(f"[data-access-key={key_id}]")).to_have_count(0)
    expect(page.get_by_test_id("access-keys")).to_contain_text("No AccessKeys.")
    browsing.snap("access-key-deleted")
    assert not AccessKey.objects.filter(access_key_id=key_id).exists()
    [event] = AuditEvent.objects.filter(action="access_key.delete")
    assert event.details["access_key_id"] == key_id and event.target == alice.principal


def test_revoking_a_role_and_removing_a_member_go_through_their_confirmations(browsing, owner, ram_user):
    page, base_url = browsing.page, browsing.base_url
    alice = ram_user.ram_user
    issue_access_key(actor=operator_actor(owner.account), holder=owner.user, otp_code=None)  # as the matrix needs
    project = create_project(actor=owner.actor, name="sales_dw")
    add_member(actor=owner.actor, project=project, ram_user=alice, roles=[Role.DEV])
    project_page = base_url + reverse("projects:project-detail", args=[project.pk])

    sign_in_owner(browsing, owner)
    page.goto(project_page)
    member = page.locator("[data-member=alice]")

    # "Remove", then Cancel: back on the members, nothing changed.
    before = database_state()
    member.get_by_role("link", name="Remove").click()
    expect(page.get_by_role("heading", name="Remove alice from sales_dw")).to_be_visible()
    expect(page.get_by_test_id("consequences")).to_contain_text("It still holds role_project_dev")
    browsing.snap("remove-member-asks")
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(project_page + "#members")
    expect(member.locator("[data-role=role_project_dev]")).to_be_visible()
    assert database_state() == before

    # "Revoke" the role: the page names it, its label, the member and the project.
    member.locator("[data-role=role_project_dev]").get_by_role("link", name="Revoke").click()
    expect(page.get_by_role("heading", name="Revoke role_project_dev from alice")).to_be_visible()
    consequences = page.get_by_test_id("consequences")
    expect(consequences).to_contain_text(alice.principal)
    expect(consequences).to_contain_text("Developer")
    expect(consequences).to_contain_text("sales_dw")
    browsing.snap("revoke-role-asks")
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text(f"role_project_dev was revoked from {alice.principal} in sales_dw.")).to_be_visible()
    expect(member).to_contain_text("No roles")
    browsing.snap("role-revoked")
    assert not RoleGrant.objects.exists()

    # Now "Remove" goes through.
    member.get_by_role("link", name="Remove").click()
    page.get_by_role("button", name="Remove").click()
    expect(page.get_by_text(f"{alice.principal} was removed from sales_dw.")).to_be_visible()
    expect(page.locator("[data-member=alice]")).to_have_count(0)
    browsing.snap("member-removed")
    assert not ProjectMember.objects.exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="project.").order_by("pk").values_list("action", flat=True)
    )
    assert actions[-2:] == ["project.role_revoke", "project.member_remove"]
