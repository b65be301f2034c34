"""SPEC §4.9 clicked through: the owner creates a project, adds alice as a developer; alice signs in and her
credential page says what the developer role lets her do. Then the no-orphan delete of a user with roles."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.actors import operator_actor
from accounts.models import RamUser
from accounts.services.access_keys import issue_access_key
from portal.models import AuditEvent
from projects.matrix import Role
from projects.models import Project, ProjectMember, RoleGrant
from projects.services import add_member, create_project
from tests.browser.conftest import sign_in_owner
from tests.conftest import RAM_PASSWORD, fresh_totp_code

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_owner_creates_a_project_adds_alice_as_developer_and_alice_sees_what_she_may_do(browsing, owner, ram_user):
    page, base_url = browsing.page, browsing.base_url
    account = owner.account
    issue_access_key(actor=operator_actor(account), holder=owner.user, otp_code=None)

    # 1. The owner creates a project from the project list.
    sign_in_owner(browsing, owner)
    page.get_by_role("navigation").get_by_role("link", name="Projects").click()
    expect(page).to_have_url(base_url + reverse("projects:project-list"))
    expect(page.get_by_text("No projects yet.")).to_be_visible()
    browsing.snap("project-list-empty")
    page.get_by_label("Project name").fill("sales_dw")
    page.get_by_label("Description").fill("Sales data warehouse")
    page.get_by_role("button", name="Create Project").click()
    project = Project.objects.get(name="sales_dw")
    expect(page).to_have_url(base_url + reverse("projects:project-detail", args=[project.pk]))
    expect(page.get_by_role("heading", name="sales_dw", exact=True)).to_be_visible()
    expect(page.get_by_text("The project sales_dw was created.")).to_be_visible()
    browsing.snap("project-created")

    # 2. "Add Member": alice, as developer.
    page.get_by_label("RAM user").fill("alice")
    page.get_by_label("role_project_dev (Developer)").check()
    page.get_by_role("button", name="Add Member").click()
    row = page.locator("[data-member=alice]")
    expect(row).to_contain_text(f"RAM${account.account_id}:alice")
    expect(row.locator("[data-role=role_project_dev]")).to_contain_text("Developer")
    browsing.snap("member-added")
    member = ProjectMember.objects.get(project=project, ram_user=ram_user.ram_user)
    assert list(member.roles.values_list("role", flat=True)) == [Role.DEV]

    # 3. The seed's table, and what it decides for alice in this project.
    page.get_by_role("navigation").get_by_role("link", name="Permissions").click()
    expect(page.get_by_role("heading", name="Permissions")).to_be_visible()
    expect(page.get_by_test_id("permission-matrix")).to_contain_text("Configuration of an IP address whitelist")
    browsing.snap("permissions")
    page.get_by_role("link", name="Check permissions").click()
    page.get_by_label("User").fill("alice")
    page.get_by_label("Project").select_option(label="sales_dw")
    page.get_by_role("button", name="Check").click()
    decisions = page.get_by_test_id("decisions")
    expect(decisions.locator("[data-operation=table_create][data-channel=console]")).to_contain_text("Allowed")
    expect(decisions.locator("[data-operation=quota_change]")).to_contain_text("Denied")
    browsing.snap("check-permissions")

    # 4. alice signs in at the logon link; her credential page lists the project and what she may do there.
    page.get_by_role("button", name="Sign out").click()
    browsing.open(reverse("accounts:ram-sign-in", args=[account.default_domain]))
    page.get_by_label("Logon name").fill("alice")
    page.get_by_label("Password").fill(RAM_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(base_url + reverse("accounts:my-credentials"))
    mine = page.get_by_test_id("my-projects").locator("[data-project=sales_dw]")
    expect(mine).to_contain_text("role_project_dev")
    console = mine.locator("[data-channel=console]")
    expect(console.get_by_text("Table creation", exact=True)).to_be_visible()
    expect(mine.locator("[data-channel=api]").get_by_text("Table creation", exact=True)).to_be_visible()
    expect(console).not_to_contain_text("Quota change")
    expect(console).not_to_contain_text("Addition and authorization of project members")
    browsing.snap("alice-my-credentials")

    # 5. She may open her project, but not manage its members.
    mine.get_by_role("link", name="sales_dw").click()
    expect(page.get_by_role("heading", name="sales_dw", exact=True)).to_be_visible()
    expect(page.get_by_test_id("member-refusal")).to_contain_text("Project administrator")
    expect(page.get_by_role("button", name="Add Member")).to_have_count(0)
    browsing.snap("alice-project")
    browsing.assert_no_console_errors()


def test_owner_deletes_a_user_with_roles_in_one_action(browsing, owner, ram_user):
    page, base_url = browsing.page, browsing.base_url
    issue_access_key(actor=operator_actor(owner.account), holder=owner.user, otp_code=None)
    alice = ram_user.ram_user
    for name, roles in (("sales_dw", [Role.DEV, Role.PE]), ("ops_dw", [Role.GUEST])):
        project = create_project(actor=owner.actor, name=name)
        add_member(actor=owner.actor, project=project, ram_user=alice, roles=roles)

    sign_in_owner(browsing, owner)
    browsing.open(reverse("accounts:delete-user", args=[alice.pk]))
    memberships = page.get_by_test_id("project-memberships")
    expect(memberships.locator("[data-project=sales_dw]")).to_contain_text("role_project_pe")
    expect(memberships.locator("[data-project=ops_dw]")).to_contain_text("role_project_guest")
    browsing.snap("delete-user-with-roles")
    page.get_by_label("Type the user name to confirm").fill("alice")
    page.get_by_label("Verification code").fill(fresh_totp_code(owner.device))
    page.get_by_role("button", name="Revoke all roles, leave every project and delete").click()
    expect(page).to_have_url(base_url + reverse("accounts:user-list"))
    expect(
        page.get_by_text("The RAM user alice left 2 project(s), losing every role, and was deleted.")
    ).to_be_visible()
    browsing.snap("user-deleted")
    assert not RamUser.objects.filter(pk=alice.pk).exists()
    assert not ProjectMember.objects.exists() and not RoleGrant.objects.exists()
    assert AuditEvent.objects.filter(action="project.member_remove_all", target=alice.principal).exists()
    browsing.assert_no_console_errors()
