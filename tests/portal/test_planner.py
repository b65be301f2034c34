"""SQLite's planner gets statistics from the worker; PostgreSQL's autovacuum keeps its own."""

from django.core.management import call_command
from django.db import connection

from portal import planner


def statistics_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone()[0] == 0:
            return 0
        cursor.execute("SELECT count(*) FROM sqlite_stat1")
        return cursor.fetchone()[0]


def test_the_worker_refreshes_sqlites_statistics_once_an_hour(db, ram_user, monkeypatch):
    monkeypatch.setattr(planner, "_last_refresh", None)
    if connection.vendor != "sqlite":
        assert planner.refresh_planner_statistics(force=True) is False
        return
    call_command("run_worker", "--once")
    assert statistics_rows() > 0  # the search's prefix indexes among them
    assert planner.refresh_planner_statistics() is False  # within the hour: not again
    assert planner.refresh_planner_statistics(force=True) is True
