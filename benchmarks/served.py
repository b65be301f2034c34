"""What the benchmarks share: a throwaway, production-like portal (DEBUG off, its own keyring) set up in this process
and served over loopback by the production server, gunicorn, with one sync worker (one core).

Every benchmark takes `--database sqlite` (the default: a fresh SQLite file) or `--database postgres` (the database
named by BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/bench, created if missing, migrated and
flushed each run)."""

import base64
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _database_option() -> str:
    """`--database sqlite|postgres`, taken out of sys.argv before the benchmark's own arguments are parsed."""
    if "--database" not in sys.argv:
        return "sqlite"
    at = sys.argv.index("--database")
    choice = sys.argv[at + 1] if at + 1 < len(sys.argv) else ""
    if choice not in ("sqlite", "postgres"):
        raise SystemExit("--database takes sqlite or postgres")
    del sys.argv[at : at + 2]
    return choice


DATABASE = _database_option()
_scratch = Path(tempfile.mkdtemp(prefix="portal-bench-"))
ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "portal.settings",
    "PORTAL_VAR_DIR": str(_scratch),
    "STATIC_ROOT": str(_scratch / "static"),
    "PORTAL_KEYRING": "1:" + base64.b64encode(os.urandom(32)).decode(),
    "DEBUG": "false",
    "SECRET_KEY": "benchmark-only-" + "k" * 40,
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "SECURE_HSTS_SECONDS": "0",
    "WEB_WORKERS": "1",
    "WEB_MAX_REQUESTS": "0",  # no worker replaced in the middle of a round (make serve replaces one every ~2,000)
    "CONTROL_SOCKET": "off",
    # One AccessKey carries a benchmark's whole load, so its rate limit is set above it (BENCH_API_CALLS_PER_SECOND=0:
    # none): each call still counts the key's calls of the last second, every one of them.
    "PORTAL_API_CALLS_PER_SECOND": os.environ.get("BENCH_API_CALLS_PER_SECOND", "1000000"),
}
if DATABASE == "postgres":
    ENVIRONMENT["DATABASE_URL"] = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/bench")
elif "DATABASE_URL" in os.environ:
    ENVIRONMENT["DATABASE_URL"] = os.environ["DATABASE_URL"]  # (as before --database: an explicit URL is kept)


def _create_postgres_database() -> None:
    """The bench database created on a server that does not have it yet (through its `postgres` database)."""
    import psycopg
    from psycopg import sql

    url = ENVIRONMENT["DATABASE_URL"]
    name = url.rpartition("/")[2].split("?")[0]
    try:
        psycopg.connect(url).close()
    except psycopg.OperationalError:
        with psycopg.connect(url.rpartition("/")[0] + "/postgres", autocommit=True) as server:
            server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup() -> None:
    """Django configured with ENVIRONMENT, the database created (PostgreSQL) and migrated, the static files
    collected."""
    os.environ.update(ENVIRONMENT)
    import django
    from django.core.management import call_command

    if DATABASE == "postgres":
        _create_postgres_database()
    django.setup()
    call_command("migrate", verbosity=0)
    if DATABASE == "postgres":
        call_command("flush", interactive=False, verbosity=0)  # the bench database: a fresh start each run
    call_command("collectstatic", interactive=False, verbosity=0)


def bulk_ram_users(account, first: int, stop: int) -> list:
    """RAM users bulk{first:06d}…bulk{stop-1:06d} of `account`, inserted in bulk (the benchmarks read them, nobody signs
    in with them); their identities, in order."""
    from accounts.models import RamUser, User

    names = [f"bulk{i:06d}" for i in range(first, stop)]
    users = User.objects.bulk_create([User(password="!") for _ in names])
    RamUser.objects.bulk_create(
        RamUser(account=account, user=user, name=name, display_name=name.title())
        for user, name in zip(users, names, strict=True)
    )
    return users


def fresh_statistics() -> None:
    """ANALYZE after the setup's inserts, as a running deployment has it (PostgreSQL's autovacuum, the worker on
    SQLite): the measured calls meet the planner in its steady state, not one that takes every table as empty."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served(application: str = "portal.wsgi:application", *, ready: str = "/healthz"):
    """The base URL of `application` (the portal, unless another is named) while gunicorn serves it with one sync
    worker (one core) and the settings of `make serve` (deploy/gunicorn.conf.py)."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", application],
        cwd=ROOT,
        env={**os.environ, **ENVIRONMENT, "PORT": str(port), "PYTHONPATH": str(ROOT / "benchmarks")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}{ready}", timeout=1).read()
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def report_rounds(*, baseline: str, baselines: list[float], measured: str, rates: list[float], target: float = 0.8):
    """Prints both rates' medians, each round's ratio, and the median round's ratio against the target: the
    machine's speed drifts, so each round compares two rates measured side by side."""
    ratios = sorted(rate / base for rate, base in zip(rates, baselines, strict=True))
    ratio = statistics.median(ratios)
    width = max(len(baseline), len(measured)) + 1
    print(f"{baseline + ':':{width}s} {statistics.median(baselines):8.1f}")
    print(f"{measured + ':':{width}s} {statistics.median(rates):8.1f}")
    print(f"ratio by round: {', '.join(f'{value:.2f}' for value in ratios)}")
    print(f"ratio: {ratio:.2f} (target ≥ {target:.2f}) {'OK' if ratio >= target else 'BELOW TARGET'}")
