"""The user list (plain, searched and filtered), a user's detail page and a project's member page at 100 and at
100,000 RAM users (SPEC §7: the same number of SQL queries, and at most 1.5 times the latency).

Two primary accounts share one database: one with 100 RAM users, one with 100,000, each with a project of 30
members. The pages are requested in this process (Django's test client, production settings, each owner
signed in). The machine is shared and its speed drifts, so the two accounts' pages are requested in
alternating rounds and each latency is the median over all rounds. Each account's first 100 users are made
by the services, as an administrator would make them; the other 99,900 are inserted in bulk (the benchmark
is about reading them).

    .venv/bin/python benchmarks/user_pages.py [--users 100000] [--rounds 7] [--requests 8]
"""

import argparse
import statistics
import time

from served import bulk_ram_users, setup

setup()

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.actors import operator_actor
from accounts.models import RamUser
from accounts.services.access_keys import issue_access_key
from accounts.services.policies import attach_policy
from accounts.services.primary_accounts import create_primary_account
from accounts.services.ram_users import NewRamUser, create_ram_users
from portal.audit import Origin
from projects.services import add_member, create_project

FEW = 100
MEMBERS = 30  # members of the project whose page is measured (paged by the page, whatever the account's size)
BATCH = 5000


def query_count(client: Client, url: str) -> int:
    for _ in range(3):  # warm-up: templates compile, caches fill
        client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    return len(queries.captured_queries)  # read now: the next request clears the log it reads


def timings(client: Client, url: str, requests: int) -> list[float]:
    measured = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(url)
        measured.append((time.perf_counter() - started) * 1000)
    return measured


def add_users_in_bulk(account, start: int, stop: int) -> None:
    for first in range(start, stop, BATCH):
        bulk_ram_users(account, first, min(first + BATCH, stop))


def account_with_pages(email: str, users: int) -> tuple[Client, dict[str, str]]:
    """An account with `users` RAM users and a project of MEMBERS; its owner's client and the pages to time."""
    origin = Origin(channel="command")
    account = create_primary_account(email=email, password="Quiet-Lantern-Harbor-5521", name="Bench", origin=origin)
    actor = operator_actor(account)
    for first in range(0, FEW, 50):
        create_ram_users(
            actor=actor,
            new_users=[NewRamUser(name=f"user{i:05d}", display_name=f"User {i}") for i in range(first, first + 50)],
        )
    issue_access_key(actor=actor, holder=account.owner, otp_code=None)  # a project needs an enabled key
    project = create_project(actor=actor, name=f"bench_{email.partition('@')[0]}")  # project names are global
    ram_users = list(RamUser.objects.filter(account=account).order_by("name")[:MEMBERS])
    for ram_user in ram_users:
        add_member(actor=actor, project=project, ram_user=ram_user, roles=["role_project_dev"])
    for ram_user in ram_users[:5]:  # what the policy filter finds
        attach_policy(actor=actor, ram_user=ram_user, policy_name="AliyunRAMReadOnlyAccess")
    add_users_in_bulk(account, FEW, users)
    # As after a bulk load in production: PostgreSQL's autovacuum analyzes the tables, the worker does on SQLite.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    client = Client(HTTP_HOST="127.0.0.1", secure=True)
    client.force_login(account.owner)
    return client, {
        "user list": reverse("accounts:user-list"),
        "user list, page 2": reverse("accounts:user-list") + "?page=2",
        "user detail": reverse("accounts:user-detail", args=[ram_users[MEMBERS // 2].pk]),
        "project members": reverse("projects:project-detail", args=[project.pk]),
        "search": reverse("accounts:user-list") + "?q=user0004",
        "search, display name": reverse("accounts:user-list") + "?q=User+4",
        "filter, policy": reverse("accounts:user-list") + "?policy=AliyunRAMReadOnlyAccess",
        "filter, in project": reverse("accounts:user-list") + f"?project={project.pk}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=8, help="requests of each page per round")
    args = parser.parse_args()
    few_client, few_pages = account_with_pages("few@example.com", FEW)
    many_client, many_pages = account_with_pages("many@example.com", args.users)
    queries = {
        name: (query_count(few_client, few_pages[name]), query_count(many_client, many_pages[name]))
        for name in few_pages
    }
    latencies = {name: ([], []) for name in few_pages}
    for _ in range(args.rounds):
        for name in few_pages:
            latencies[name][0].extend(timings(few_client, few_pages[name], args.requests))
            latencies[name][1].extend(timings(many_client, many_pages[name], args.requests))

    print(f"{'page':22s} {'queries':>14s} {'median latency ms':>22s} {'ratio':>6s}")
    worst, same_queries = 0.0, True
    for name, (queries_few, queries_many) in queries.items():
        ms_few, ms_many = (statistics.median(values) for values in latencies[name])
        worst = max(worst, ms_many / ms_few)
        same_queries &= queries_few == queries_many
        print(
            f"{name:22s} {queries_few:6d} → {queries_many:<6d} {ms_few:9.2f} → {ms_many:<9.2f} {ms_many / ms_few:6.2f}"
        )
    verdict = "OK" if same_queries and worst <= 1.5 else "BELOW TARGET"
    print(
        f"{FEW} and {args.users} users: queries {'the same' if same_queries else 'DIFFER'}; "
        f"worst latency ratio {worst:.2f} (target ≤ 1.50) {verdict}"
    )


if __name__ == "__main__":
    main()
