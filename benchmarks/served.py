"""What the benchmarks share: a throwaway, production-like portal (DEBUG off, its own SQLite database and
keyring) set up in this process and served over loopback by one single-threaded process (one core)."""

import base64
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
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
}


def setup() -> None:
    """Django configured with ENVIRONMENT, the database migrated and the static files collected."""
    os.environ.update(ENVIRONMENT)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served():
    """The portal's base URL while a single-threaded server (one core) serves it."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", "--nothreading", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env={**os.environ, **ENVIRONMENT},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1).read()
                break
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
