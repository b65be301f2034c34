"""Taking access away in a project asks first (issue 13): "Revoke" a role, remove a member, "Revoke" cross-project
access. The members table links to a page that names the member, the role and the project, with Cancel; the server
refuses a POST without the confirmation and changes nothing; with it, the change is made and audited."""

import html
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import reverse

from accounts.actors import operator_actor
from accounts.services.access_keys import issue_access_key
from projects.matrix import Role
from projects.models import CrossProjectAccess, Project, ProjectMember, RoleGrant
from projects.services import add_member, authorize_cross_project, create_project
from tests.conftest import Person, signed_in
from tests.db_state import actions_since, database_state, last_event_id

NOT_CONFIRMED = "Nothing was changed: press the button on this page to confirm."


@dataclass
class Confirmation:
    url: str
    names: dict  # the fields that name the target: the link's query, the confirmation form's hidden fields
    confirm: str
    action: str
    is_done: Callable[[], bool]
    shows: list[str]
    cancel_url: str


@pytest.fixture
def project(owner) -> Project:
    issue_access_key(actor=operator_actor(owner.account), holder=owner.user, otp_code=None)  # as the matrix needs
    return create_project(actor=owner.actor, name="sales_dw")


def members_url(project: Project) -> str:
    return reverse("projects:project-detail", args=[project.pk]) + "#members"


def revoke_role(owner: Person, alice: Person, project: Project) -> Confirmation:
    add_member(actor=owner.actor, project=project, ram_user=alice.ram_user, roles=[Role.DEV, Role.PE])
    return Confirmation(
        url=reverse("projects:revoke-role", args=[project.pk]),
        names={"ram_user": alice.ram_user.pk, "role": Role.DEV},
        confirm=Role.DEV,
        action="project.role_revoke",
        is_done=lambda: list(RoleGrant.objects.values_list("role", flat=True)) == [Role.PE],
        shows=["Revoke role_project_dev from alice", alice.ram_user.principal, "Developer", "sales_dw"],
        cancel_url=members_url(project),
    )


def remove_member(owner: Person, alice: Person, project: Project) -> Confirmation:
    add_member(actor=owner.actor, project=project, ram_user=alice.ram_user, roles=[])
    return Confirmation(
        url=reverse("projects:remove-member", args=[project.pk]),
        names={"ram_user": alice.ram_user.pk},
        confirm="alice",
        action="project.member_remove",
        is_done=lambda: not ProjectMember.objects.exists(),
        shows=["Remove alice from sales_dw", alice.ram_user.principal],
        cancel_url=members_url(project),
    )


def revoke_cross_project(owner: Person, alice: Person, project: Project) -> Confirmation:
    source = create_project(actor=owner.actor, name="ops_dw")
    authorize_cross_project(actor=owner.actor, source=source, target=project)
    return Confirmation(
        url=reverse("projects:revoke-cross-project", args=[project.pk]),
        names={"source": source.pk},
        confirm="ops_dw",
        action="project.cross_access_revoke",
        is_done=lambda: not CrossProjectAccess.objects.exists(),
        shows=["Revoke access from ops_dw to sales_dw", "can no longer reach"],
        cancel_url=reverse("projects:project-detail", args=[project.pk]),
    )


@pytest.fixture(params=[revoke_role, remove_member, revoke_cross_project], ids=lambda make: make.__name__)
def confirmation(request, owner, ram_user, project) -> Confirmation:
    return request.param(owner, ram_user, project)


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def test_the_project_page_links_to_the_confirmation(owner, project, confirmation):
    page = text_of(signed_in(owner).get(reverse("projects:project-detail", args=[project.pk])))
    query = "&".join(f"{name}={value}" for name, value in confirmation.names.items())
    assert f'href="{confirmation.url}?{query}"' in page
    assert f'action="{confirmation.url}"' not in page


def test_the_confirmation_page_names_who_and_what_with_cancel_and_changes_nothing(owner, confirmation):
    client = signed_in(owner)
    before = database_state()
    response = client.get(confirmation.url, confirmation.names)
    assert response.status_code == 200
    page = text_of(response)
    for shown in confirmation.shows:
        assert shown in page
    assert f'href="{confirmation.cancel_url}">Cancel</a>' in page
    for name, value in {**confirmation.names, "confirm": confirmation.confirm}.items():
        assert f'name="{name}" value="{value}"' in page
    assert database_state() == before and not confirmation.is_done()


def test_a_post_without_the_confirmation_changes_nothing(owner, confirmation):
    client = signed_in(owner)
    before = database_state()
    response = client.post(confirmation.url, confirmation.names)  # the old row form, a script, a forged form
    assert response.status_code == 200
    assert NOT_CONFIRMED in text_of(response)
    response = client.post(confirmation.url, {**confirmation.names, "confirm": "yes"})
    assert response.status_code == 200
    assert database_state() == before and not confirmation.is_done()


def test_the_confirmed_post_makes_the_change_and_records_it(owner, confirmation):
    client = signed_in(owner)
    start = last_event_id()
    response = client.post(confirmation.url, {**confirmation.names, "confirm": confirmation.confirm})
    assert response.status_code == 302
    assert confirmation.is_done()
    assert actions_since(start) == [confirmation.action]


def test_a_confirmation_for_another_role_does_not_revoke_this_one(owner, ram_user, project):
    add_member(actor=owner.actor, project=project, ram_user=ram_user.ram_user, roles=[Role.DEV, Role.PE])
    client = signed_in(owner)
    before = database_state()
    data = {"ram_user": ram_user.ram_user.pk, "role": Role.DEV, "confirm": Role.PE}
    response = client.post(reverse("projects:revoke-role", args=[project.pk]), data)
    assert response.status_code == 200
    assert database_state() == before


def test_removing_a_member_that_still_holds_roles_says_so_first(owner, ram_user, project):
    add_member(actor=owner.actor, project=project, ram_user=ram_user.ram_user, roles=[Role.DEV])
    url = reverse("projects:remove-member", args=[project.pk])
    page = text_of(signed_in(owner).get(url, {"ram_user": ram_user.ram_user.pk}))
    assert "It still holds <code>role_project_dev</code>: revoke its roles first" in page
