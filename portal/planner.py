"""Fresh statistics for the database's query planner.

PostgreSQL's autovacuum keeps its statistics itself. SQLite has none until ANALYZE runs: without them its planner
takes an account's every user as few, and walks them all in name order for a search that three prefix indexes
would answer (the Users table at 100,000 users). The worker refreshes them now and then.
"""

import time

from django.db import connection
from django.db.models import Model

EVERY_SECONDS = 3600.0
_last_refresh: float | None = None


def refresh_planner_statistics(*, force: bool = False) -> bool:
    """ANALYZE on SQLite, at most once an hour unless forced; whether it ran."""
    global _last_refresh  # noqa: PLW0603 - one worker process, one clock
    now = time.monotonic()
    if connection.vendor != "sqlite" or (
        not force and _last_refresh is not None and now - _last_refresh < EVERY_SECONDS
    ):
        return False
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    _last_refresh = now
    return True


def analyze_after_bulk_load(*models: type[Model]) -> None:
    """Fresh statistics for the tables a bulk load (an import) has just filled, on either database: PostgreSQL's
    autovacuum would come to them later, and until then its planner, taking an account's users as few, can filter
    all of them where the (account, lower(name)) unique index would find one (issue 15)."""
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}" if connection.vendor == "postgresql" else "ANALYZE")
