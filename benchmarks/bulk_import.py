"""Import Users at scale (SPEC §7): 10,000 people with generated passwords, committed by the import job, against
the time that hashing their passwords alone takes on this machine's cores (target: at most 1.2 times), and users
per second against Keycloak's REST API (about 2.8 per second).

    .venv/bin/python benchmarks/bulk_import.py [--users 10000] [--database sqlite|postgres]

Both are measured in this run, on this machine: first the baseline (Argon2id hashes of the same number of
passwords on a thread pool as wide as the machine: Argon2 releases the GIL), then the import job on a fresh
account (`--database postgres` for PostgreSQL).
"""

import argparse
import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

from served import setup

setup()

from django.contrib.auth.hashers import make_password

from accounts.actors import operator_actor
from accounts.services.primary_accounts import create_primary_account
from portal.audit import Origin
from projects.imports import run_import, start_user_import
from projects.user_import import read_import

KEYCLOAK_USERS_PER_SECOND = 2.8


def hash_baseline(count: int) -> float:
    passwords = [secrets.token_urlsafe(12) for _ in range(count)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        list(pool.map(make_password, passwords))
    return time.perf_counter() - started


def import_seconds(count: int) -> float:
    account = create_primary_account(
        email=f"bulk-{secrets.token_hex(4)}@example.com",
        password="Quiet-Lantern-Harbor-5521",
        name="Bulk",
        origin=Origin(channel="command"),
    )
    lines = ["user_name,display_name,console_logon"] + [
        f"person{index:05d},Person {index},yes" for index in range(count)
    ]
    preview = read_import("\n".join(lines).encode(), account)
    assert not preview.errors, preview.errors[:3]
    job = start_user_import(actor=operator_actor(account), preview=preview, file_name="bulk.csv", enqueue=False)
    started = time.perf_counter()
    done = run_import(str(job.uid))
    seconds = time.perf_counter() - started
    assert done.created == count, (done.created, done.failed)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    args = parser.parse_args()
    baseline = hash_baseline(args.users)
    seconds = import_seconds(args.users)
    print(f"{args.users} password hashes on {os.cpu_count()} threads: {baseline:.1f} s")
    print(f"{args.users} users imported with generated passwords: {seconds:.1f} s ({args.users / seconds:.1f} users/s)")
    ratio = seconds / baseline
    print(f"ratio to the hashes alone: {ratio:.2f} (target ≤ 1.20) {'OK' if ratio <= 1.2 else 'BELOW TARGET'}")
    per_second = args.users / seconds
    print(f"against Keycloak's {KEYCLOAK_USERS_PER_SECOND} users/s: {per_second / KEYCLOAK_USERS_PER_SECOND:.1f} ×")


if __name__ == "__main__":
    main()
