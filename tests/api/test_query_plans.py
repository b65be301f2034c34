"""The signed API's lookup of a user by name uses the (account, lower(name)) unique index after a bulk load, once the
planner's statistics are fresh (issue 15, item 4): proven with EXPLAIN on the database the suite runs on."""

from django.contrib.auth.hashers import make_password
from django.db import connection

from accounts.models import AccessKey, DeliveryPacket, PolicyAttachment, RamUser, User
from accounts.models.identities import _ram_user_by_name
from portal.planner import analyze_after_bulk_load

UNIQUE_NAME_INDEX = "unique_ram_user_name_per_account_ignoring_case"


def bulk_load(account, count: int) -> None:
    password = make_password(None)  # unusable: these users never sign in
    users = User.objects.bulk_create(User(password=password) for _ in range(count))
    RamUser.objects.bulk_create(
        RamUser(account=account, user=user, name=f"bulk{index:05d}", display_name=f"Bulk {index}")
        for index, user in enumerate(users)
    )


def plan_of(account, name: str) -> str:
    with connection.cursor() as cursor:
        explain = "EXPLAIN" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
        cursor.execute(f"{explain} {_ram_user_by_name().replace('?', '%s')}", [account.pk, name])
        return "\n".join(" ".join(str(cell) for cell in row) for row in cursor.fetchall())


def test_after_a_bulk_load_and_analyze_a_user_is_found_through_the_unique_name_index(owner):
    bulk_load(owner.account, 3000)
    analyze_after_bulk_load(RamUser, User, AccessKey, PolicyAttachment, DeliveryPacket)
    plan = plan_of(owner.account, "bulk01234")
    if connection.vendor == "postgresql":
        assert f"Index Scan using {UNIQUE_NAME_INDEX}" in plan, plan
        assert "Seq Scan" not in plan and "Filter" not in plan, plan  # no user is read to be thrown away
    else:
        # SQLite may take the name's prefix index instead: the same (account, lower(name)) key, searched for one.
        assert "SEARCH r USING INDEX" in plan and "(account_id=? AND <expr>=?)" in plan, plan
