"""The production server started as an operator starts it (deploy/serve), for the tests that need a real one."""

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.api.test_no_secret_in_logs import _database_url, _free_port
from tests.conftest import TEST_KEYRING

ROOT = Path(__file__).resolve().parents[2]
SERVE = ROOT / "deploy" / "serve"
# Settings the tests give explicitly: the developer's own environment must not leak into the served portal.
# DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' (`make test` sets it): `check --deploy` rightly refuses it.
SETTINGS = (
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "PORTAL_KEYRING",
    "DATABASE_URL",
    "DEBUG",
    "PORTAL_DEMO",
    "BEHIND_TLS_PROXY",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


SERVERS_SECRET_KEY = "serve-test-" + "k" * 50


def clean_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name not in SETTINGS}


@dataclass
class Served:
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def children(self) -> list[int]:
        found = subprocess.run(["pgrep", "-P", str(self.process.pid)], check=False, capture_output=True, text=True)
        return [int(pid) for pid in found.stdout.split()]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are answers to look at, not to follow."""

    def redirect_request(self, *args, **kwargs):
        return None


def get(url: str, **kwargs: object) -> tuple[int, str]:
    """GET without following redirects: (status, body)."""
    opener = urllib.request.build_opener(NoRedirect, *kwargs.get("handlers", ()))
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@contextlib.contextmanager
def served(tmp_path: Path, **settings: str) -> Iterator[Served]:
    """`deploy/serve` on the test database until the block ends, then SIGTERM; its output in tmp_path/serve.log."""
    port = _free_port()
    env = clean_environment() | {
        "SECRET_KEY": SERVERS_SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "PORTAL_KEYRING": TEST_KEYRING,
        "DATABASE_URL": _database_url(),
        "PORT": str(port),
        "WEB_WORKERS": "2",
        "STATIC_ROOT": str(tmp_path / "static"),
        "PORTAL_VAR_DIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
        **settings,
    }
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([str(SERVE)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Served(process=process, port=port, log=log_path)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                get(f"{server.url}/healthz")
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not answer within 90 s:\n" + log_path.read_text()
                time.sleep(0.3)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
