"""The Users table: filters, sorting and search, each in a fixed number of queries, and bad input refused kindly."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.actors import operator_actor
from accounts.models import IdentityLock, PolicyAttachment, RamUser, User
from accounts.services.access_keys import issue_access_key
from accounts.services.groups import add_to_group, add_users_to_group, attach_group_policy, create_group
from accounts.services.guessing import ram_identity
from projects.services import add_member, create_project, grant_group_roles
from tests.accounts.test_user_list_queries import add_users, count_queries
from tests.conftest import signed_in

URL = "accounts:user-list"


def names(response) -> list[str]:
    return [ram_user.name for ram_user in response.context["page"]]


@pytest.fixture
def table(owner):
    """Eight users with known facts: every other one with console logon, every fourth with MFA, every third
    with a policy (add_users), user-00001 with two AccessKeys, user-00002 locked out, user-00003 in a project."""
    users = add_users(owner.account, 8)
    operator = operator_actor(owner.account)
    for _ in range(2):
        issue_access_key(actor=operator, holder=users[1].user, otp_code=None)
    IdentityLock.objects.create(
        identity=ram_identity(owner.account.account_id, users[2].name),
        failures=20,
        last_failure_at=timezone.now(),
        locked_until=timezone.now() + timedelta(hours=1),
    )
    issue_access_key(actor=operator, holder=owner.user, otp_code=None)  # a project needs an enabled key
    project = create_project(actor=operator, name="table_project")
    add_member(actor=operator, project=project, ram_user=users[3], roles=["role_project_dev"])
    User.objects.filter(pk=users[4].user_id).update(last_login=timezone.now())
    return users, project


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"console_logon": "yes"}, ["user-00000", "user-00002", "user-00004", "user-00006"]),
        ({"console_logon": "no"}, ["user-00001", "user-00003", "user-00005", "user-00007"]),
        ({"mfa": "yes"}, ["user-00000", "user-00004"]),
        ({"access_keys": "yes"}, ["user-00001"]),
        ({"locked": "yes"}, ["user-00002"]),
        ({"policy": "AdministratorAccess"}, ["user-00000"]),
        ({"console_logon": "yes", "mfa": "no", "q": "user-0000"}, ["user-00002", "user-00006"]),
    ],
)
def test_each_filter_lists_exactly_the_users_it_names(owner, table, query, expected):
    response = signed_in(owner).get(reverse(URL), query)
    assert names(response) == expected
    assert response.context["page"].paginator.count == len(expected)


def test_the_project_filter_lists_its_members(owner, table):
    _, project = table
    response = signed_in(owner).get(reverse(URL), {"project": project.pk})
    assert names(response) == ["user-00003"]
    assert f'<option value="{project.pk}" selected>table_project</option>' in response.content.decode()


def test_the_columns_show_keys_last_sign_in_and_lockout(owner, table):
    page = signed_in(owner).get(reverse(URL)).content.decode()
    row = {name: page[page.index(f'data-user="{name}"') :].split("</tr>")[0] for name in ("user-00001", "user-00002")}
    assert ">2 <span" in row["user-00001"] and "(0\xa0minutes)" in row["user-00001"]
    assert "Locked out" in row["user-00002"] and "Locked out" not in row["user-00001"]
    last = User.objects.get(ram_user__name="user-00004").last_login
    assert f"{last:%Y-%m-%d %H:%M}" in page[page.index('data-user="user-00004"') :].split("</tr>")[0]


@pytest.mark.parametrize(
    ("sort", "first"),
    [
        ("name", "user-00000"),
        ("-name", "user-00007"),
        ("-access_keys", "user-00001"),
        ("-last_sign_in", "user-00004"),
        ("-mfa", "user-00000"),
        ("console_logon", "user-00001"),
    ],
)
def test_every_column_sorts(owner, table, sort, first):
    response = signed_in(owner).get(reverse(URL), {"sort": sort})
    assert names(response)[0] == first
    assert sorted(names(response)) == [f"user-{index:05d}" for index in range(8)]


def test_a_sorted_header_links_to_the_reverse_order_and_keeps_the_filters(owner, table):
    page = signed_in(owner).get(reverse(URL), {"sort": "created", "mfa": "yes", "page": "1"}).content.decode()
    assert 'href="?sort=-created&amp;mfa=yes"' in page
    assert 'href="?sort=name&amp;mfa=yes"' in page


@pytest.mark.parametrize(
    "query",
    [
        {"mfa": "maybe"},
        {"policy": "NoSuchPolicy"},
        {"project": "not-a-number"},
        {"project": "999999"},
        {"sort": "password"},
        {"q": "x" * 500},
    ],
)
def test_a_bad_filter_is_named_and_the_table_still_shows(owner, table, query):
    response = signed_in(owner).get(reverse(URL), query)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert 'role="alert"' in response.content.decode()
    assert len(names(response)) == 8


def test_another_accounts_project_is_no_filter_here(owner, table, other_owner, other_ram_user):
    operator = operator_actor(other_owner.account)
    issue_access_key(actor=operator, holder=other_owner.user, otp_code=None)
    foreign = create_project(actor=operator, name="foreign_project")
    add_member(actor=operator, project=foreign, ram_user=other_ram_user.ram_user, roles=["role_project_dev"])
    response = signed_in(owner).get(reverse(URL), {"project": foreign.pk})
    assert response.context["form"].errors and "foreign_project" not in response.content.decode()
    assert other_ram_user.ram_user.name not in names(response)


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"console_logon": "yes"},
        {"mfa": "no"},
        {"access_keys": "yes"},
        {"policy": "AdministratorAccess"},
        {"locked": "yes"},
        {"q": "user-00", "sort": "-access_keys"},
        {"sort": "-last_sign_in"},
    ],
)
def test_each_filter_runs_the_same_queries_for_5_and_500_users(owner, query):
    client = signed_in(owner)
    client.get(reverse(URL), query)  # warm up what is cached per process
    add_users(owner.account, 5)
    few, _ = count_queries(client, reverse(URL), query)
    add_users(owner.account, 495, start=1000)
    PolicyAttachment.objects.filter(ram_user__account=owner.account).count()
    many, response = count_queries(client, reverse(URL), query)
    assert few == many, f"{query}: {few} queries for 5 users, {many} for 500"
    assert (
        response.context["page"].paginator.count
        == RamUser.objects.for_account(owner.account)
        .filter(pk__in=[user.pk for user in response.context["page"].paginator.object_list])
        .count()
    )


def test_the_search_finds_prefixes_in_any_case_and_nothing_in_another_account(owner, other_owner):
    add_users(owner.account, 3)
    RamUser.objects.filter(name="user-00001").update(display_name="Émile Zola", email="EZ@Example.com")
    client = signed_in(owner)
    for query in ("user-00001", "USER-0000", "Émile", "ez@example"):
        assert "user-00001" in names(client.get(reverse(URL), {"q": query})), query
    assert names(client.get(reverse(URL), {"q": "mile"})) == []  # the start of a field, not any part of it
    add_users(other_owner.account, 2, start=100)
    assert names(client.get(reverse(URL), {"q": "user-001"})) == []


def test_the_project_filter_runs_the_same_queries_for_5_and_500_users(owner):
    operator = operator_actor(owner.account)
    issue_access_key(actor=operator, holder=owner.user, otp_code=None)
    project = create_project(actor=operator, name="counted_project")
    client = signed_in(owner)
    query = {"project": project.pk}
    client.get(reverse(URL), query)
    for ram_user in add_users(owner.account, 5):
        add_member(actor=operator, project=project, ram_user=ram_user, roles=["role_project_dev"])
    few, _ = count_queries(client, reverse(URL), query)
    for ram_user in add_users(owner.account, 495, start=1000)[:60]:  # more members than a page holds
        add_member(actor=operator, project=project, ram_user=ram_user, roles=["role_project_dev"])
    many, response = count_queries(client, reverse(URL), query)
    assert response.context["page"].paginator.count == 65
    assert few == many, f"{few} queries for 5 members, {many} for 65 among 500 users"


def test_the_policy_and_project_filters_count_what_groups_give(owner, table):
    users, project = table
    readers = create_group(actor=owner.actor, name="readers")
    attach_group_policy(actor=owner.actor, group=readers, policy_name="AdministratorAccess")
    add_users_to_group(actor=owner.actor, group=readers, ram_users=[users[5], users[0]])  # user-00000 holds it too
    developers = create_group(actor=owner.actor, name="developers")
    grant_group_roles(actor=owner.actor, project=project, group=developers, roles=["role_project_dev"])
    add_to_group(actor=owner.actor, group=developers, ram_user=users[6])
    client = signed_in(owner)
    by_policy = client.get(reverse(URL), {"policy": "AdministratorAccess"})
    assert names(by_policy) == ["user-00000", "user-00005"]  # once each, whether by itself or through the group
    page = by_policy.content.decode()
    assert "AdministratorAccess <span" in page and "(via group readers)" in page
    assert "(directly and via group readers)" in page
    assert names(client.get(reverse(URL), {"project": project.pk})) == ["user-00003", "user-00006"]
