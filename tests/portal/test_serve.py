"""`make serve` (deploy/serve): refuses to start without its settings, and serves the portal with gunicorn and a
background worker: /healthz and /readyz answer, the access log redacts secrets in query strings, SIGTERM stops all."""

import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import TEST_KEYRING
from tests.portal.servers import SERVE, clean_environment, get, served

CANARY = "Canary-Login-Password-4471!"


def test_without_its_settings_it_names_what_is_missing_and_starts_nothing():
    env = clean_environment() | {"DATABASE_URL": "sqlite:///x"}
    result = subprocess.run([str(SERVE)], check=False, env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert "set SECRET_KEY ALLOWED_HOSTS PORTAL_KEYRING in the environment first" in result.stderr
    assert "nothing was started" in result.stderr


def test_the_demo_settings_are_refused(tmp_path):
    env = clean_environment() | {
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "PORTAL_KEYRING": TEST_KEYRING,
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3",
        "DEBUG": "true",
    }
    result = subprocess.run([str(SERVE)], check=False, env=env, capture_output=True, text=True)
    assert result.returncode == 2 and "DEBUG and PORTAL_DEMO are for this machine's demo" in result.stderr


@pytest.mark.usefixtures("transactional_db")
def test_it_serves_with_gunicorn_and_a_worker_and_stops_on_sigterm(tmp_path):
    with served(tmp_path) as server:
        base = server.url
        assert get(f"{base}/healthz") == (200, "ok")
        assert get(f"{base}/readyz") == (200, "ready: database ok, keyring ok")
        # The RAM SDKs' way of sending a password: in the query string. Without TLS in front the portal redirects
        # to https; either way the request line is logged, redacted.
        status, _ = get(f"{base}/?Action=CreateLoginProfile&UserName=alice&Password={CANARY}")
        assert status in (301, 302, 400, 403)
        children = server.children()
        commands = [Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode() for pid in children]
        assert any("manage.py run_worker" in command for command in commands), commands
        assert any("gunicorn" in command for command in commands), commands
    log_path = server.log
    output = log_path.read_text()
    assert "Action=CreateLoginProfile&UserName=alice&Password=********" in output
    assert CANARY not in output
    assert "gunicorn on 127.0.0.1" in output and "Booting worker" in output
    assert server.process.returncode is not None
    for pid in children:  # gunicorn and the worker went with it
        deadline = time.monotonic() + 30
        while Path(f"/proc/{pid}").exists() and b"zombie" not in Path(f"/proc/{pid}/status").read_bytes().lower():
            assert time.monotonic() < deadline, f"process {pid} is still running"
            time.sleep(0.2)
