"""The user list and detail pages run a fixed number of SQL queries, whatever the number of users."""

import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.actors import Actor, operator_actor
from accounts.models import PolicyAttachment, PrimaryAccount, RamUser, User
from accounts.policies import SYSTEM_POLICIES
from accounts.services.access_keys import issue_access_key
from accounts.services.otp import new_authenticator
from portal.audit import record_event
from projects.services import add_member, create_project
from tests.conftest import CONSOLE, RAM_PASSWORD, make_ram_user, signed_in

POLICY_NAMES = [policy.name for policy in SYSTEM_POLICIES]


def add_users(account: PrimaryAccount, count: int, *, start: int = 0) -> list[RamUser]:
    """`count` RAM users named user-00000…, fast: no password hashing, one insert per table."""
    unusable = make_password(None)
    users = User.objects.bulk_create([User(password=unusable) for _ in range(count)])
    ram_users = RamUser.objects.bulk_create(
        [
            RamUser(
                account=account,
                user=user,
                name=f"user-{start + index:05d}",
                display_name=f"Person {start + index}",
                email=f"user{start + index}@example.com",
                is_console_logon_enabled=index % 2 == 0,
            )
            for index, user in enumerate(users)
        ]
    )
    # Some users hold policies and some have MFA, so that the per-row columns have something to show.
    PolicyAttachment.objects.bulk_create(
        PolicyAttachment(ram_user=ram_user, policy_name=POLICY_NAMES[index % len(POLICY_NAMES)], attached_by="test")
        for index, ram_user in enumerate(ram_users)
        if index % 3 == 0
    )
    for index, ram_user in enumerate(ram_users):
        if index % 4 == 0:
            new_authenticator(user=ram_user.user, name="Test", confirmed=True)
    return ram_users


def count_queries(client, url, data=None) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, data or {})
    assert response.status_code == 200
    return len(queries), response


@pytest.fixture(params=["owner", "ram_admin"])
def admin(request, owner):
    return request.getfixturevalue(request.param)


def test_user_list_runs_the_same_queries_for_5_and_500_users(owner, admin):
    client = signed_in(admin)
    url = reverse("accounts:user-list")
    client.get(url)  # warm up what is cached per process
    existing = RamUser.objects.for_account(owner.account).count()
    add_users(owner.account, 5 - existing)
    few, response = count_queries(client, url)
    assert response.context["page"].paginator.count == 5
    add_users(owner.account, 495, start=1000)
    many, response = count_queries(client, url)
    assert response.context["page"].paginator.count == 500
    assert len(response.context["page"].object_list) == settings.PORTAL_PAGE_SIZES["users"]
    assert few == many, f"{few} queries for 5 users, {many} for 500"
    html = response.content.decode()
    # The rows really show the per-user facts the queries fetched.
    assert "AdministratorAccess" in html and "Bound" in html


def test_user_list_query_count_does_not_depend_on_the_page(owner):
    add_users(owner.account, 120)
    client = signed_in(owner)
    url = reverse("accounts:user-list")
    client.get(url)
    first, _ = count_queries(client, url)
    second, response = count_queries(client, url, {"page": 2})
    assert response.context["page"].number == 2
    assert first == second


def test_user_detail_queries_do_not_grow_with_policies_or_events(owner):
    [plain, busy] = add_users(owner.account, 2, start=1)
    PolicyAttachment.objects.filter(ram_user__in=[plain, busy]).delete()
    PolicyAttachment.objects.bulk_create(
        PolicyAttachment(ram_user=busy, policy_name=name, attached_by="test") for name in POLICY_NAMES
    )
    actor = Actor(account=owner.account, origin=CONSOLE, user=owner.user)
    for index in range(60):
        record_event(actor=actor, action="test.event", target=busy.principal, details={"index": index})
    # One event about the plain user: a page with events looks up the people they name, once however many.
    record_event(actor=actor, action="test.event", target=plain.principal, details={"index": 0})
    client = signed_in(owner)
    client.get(reverse("accounts:user-detail", args=[plain.pk]))
    few, response = count_queries(client, reverse("accounts:user-detail", args=[plain.pk]))
    assert len(response.context["events"]) == 1
    many, response = count_queries(client, reverse("accounts:user-detail", args=[busy.pk]))
    assert len(response.context["events"]) == 20
    assert len(response.context["ram_user"].policy_attachments.all()) == len(POLICY_NAMES)
    assert few == many, f"{few} queries for a user without policies and with one event, {many} with 60"


def test_search_matches_name_display_name_and_email(owner):
    add_users(owner.account, 300)
    client = signed_in(owner)
    url = reverse("accounts:user-list")
    for query in ("user-00042", "Person 42", "user42@example.com", "USER-00042"):
        response = client.get(url, {"q": query})
        names = [ram_user.name for ram_user in response.context["page"]]
        assert "user-00042" in names, query
        assert all("42" in name for name in names), query
    response = client.get(url, {"q": "user-0004"})
    assert [u.name for u in response.context["page"]] == [f"user-{n:05d}" for n in range(40, 50)]
    response = client.get(url, {"q": "nobody-like-this"})
    assert list(response.context["page"]) == []
    assert "No user matches" in response.content.decode()


def test_search_never_shows_another_accounts_users(owner, other_owner, other_ram_user):
    add_users(owner.account, 3)
    response = signed_in(owner).get(reverse("accounts:user-list"), {"q": "mallory"})
    assert list(response.context["page"]) == []
    html = response.content.decode()
    assert other_ram_user.ram_user.logon_name not in html
    assert reverse("accounts:user-detail", args=[other_ram_user.ram_user.pk]) not in html


def test_paging(owner):
    add_users(owner.account, 120)
    client = signed_in(owner)
    url = reverse("accounts:user-list")
    per_page = settings.PORTAL_PAGE_SIZES["users"]
    names = sorted(RamUser.objects.for_account(owner.account).values_list("name", flat=True))
    page_two = client.get(url, {"page": 2}).context["page"]
    assert page_two.number == 2
    assert [u.name for u in page_two] == names[per_page : 2 * per_page]
    assert page_two.paginator.num_pages == 3
    last = client.get(url, {"page": 999}).context["page"]
    assert last.number == 3 and [u.name for u in last] == names[2 * per_page :]
    assert client.get(url, {"page": "abc"}).context["page"].number == 1
    # Search and paging together.
    searched = client.get(url, {"q": "user-000", "page": 2}).context["page"]
    assert searched.paginator.count == 100
    assert [u.name for u in searched] == [f"user-{n:05d}" for n in range(per_page, 100)]


def test_a_user_s_page_shows_its_projects_and_every_event_about_it_or_by_it(owner, ram_user):
    operator = operator_actor(owner.account)
    issue_access_key(actor=operator, holder=owner.user, otp_code=None)  # a project needs an enabled key
    project = create_project(actor=operator, name="alice_project")
    add_member(actor=operator, project=project, ram_user=ram_user.ram_user, roles=["role_project_dev"])
    client = Client()  # alice signs in once with a wrong password, then rightly
    sign_in_url = reverse("accounts:ram-sign-in", args=[owner.account.default_domain])
    client.post(sign_in_url, {"login": "alice", "password": "not-her-password-1"})
    client.post(sign_in_url, {"login": "alice", "password": RAM_PASSWORD})
    other = make_ram_user(owner, "bob")
    Client().post(sign_in_url, {"login": "bob", "password": "not-his-password-1"})

    response = signed_in(owner).get(reverse("accounts:user-detail", args=[ram_user.ram_user.pk]))
    actions = [row.event.action for row in response.context["events"]]
    assert {"sign_in.failed", "sign_in.success", "project.member_add"} <= set(actions), actions
    assert all(other.ram_user.name not in row.event.target for row in response.context["events"])
    page = response.content.decode()
    assert "Projects and roles" in page and "alice_project" in page and "role_project_dev" in page
