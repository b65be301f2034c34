"""The demo a newcomer meets (issue 13): `make run` says where it serves, the README's sign-in commands work when
pasted as written, and the demo shows the portal's own error pages (it runs with DEBUG off)."""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings

from accounts.management.commands.demo_setup import DEMO_EMAIL, DEMO_PASSWORD, TOTP_CODE_COMMAND
from tests.conftest import TEST_KEYRING

ROOT = Path(__file__).resolve().parents[2]
# What a fresh shell has not: the settings come from the command line as written, or from their defaults.
NOT_INHERITED = ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")


def fresh_shell_env(**env: str) -> dict[str, str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in NOT_INHERITED and not key.startswith(("PORTAL_", "DJANGO_"))
    }
    return {**clean, "PORTAL_KEYRING": TEST_KEYRING, **env}


def this_tests_database_url() -> str:
    """The database this test runs on, as DATABASE_URL names it, for a command run beside the test."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def readme_demo_section() -> str:
    return (ROOT / "README.md").read_text().split("## Running the demo")[1].split("\n## ")[0]


def test_make_run_prints_the_address_it_serves():
    result = subprocess.run(
        ["make", "--dry-run", "run", "DEMO_PORT=8123"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "Serving the demo portal on http://127.0.0.1:8123/ (sign in at http://127.0.0.1:8123/signin/)" in (
        result.stdout
    )
    assert "PORTAL_BASE_URL=http://127.0.0.1:8123 " in result.stdout  # logon links name the same address
    assert re.search(r"manage\.py runserver 127\.0\.0\.1:8123\s*$", result.stdout, flags=re.M)


@pytest.mark.usefixtures("transactional_db")  # the pasted command runs in another process, on this database
def test_the_readmes_sign_in_instructions_work_when_pasted_as_written():
    section = readme_demo_section()
    assert f"email `{DEMO_EMAIL}`, password `{DEMO_PASSWORD}`" in section
    [command] = [line.strip() for line in section.splitlines() if "totp_code" in line and "manage.py" in line]
    assert command == TOTP_CODE_COMMAND  # the README and `make run` give the same command

    out = StringIO()
    with override_settings(PORTAL_DEMO=True):
        call_command("demo_setup", stdout=out)
    printed = out.getvalue()
    assert "Demo portal: http://127.0.0.1:8000/\n" in printed
    assert "sign in:  http://127.0.0.1:8000/signin/\n" in printed
    assert f"code:     {command}" in printed

    # Pasted into a shell in the clone, where nothing of the demo's environment is set (the keyring and the
    # database are the demo's own files there; here, the test's).
    result = subprocess.run(
        command,
        shell=True,
        cwd=ROOT,
        env=fresh_shell_env(DATABASE_URL=this_tests_database_url()),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    code = result.stdout.strip()
    assert re.fullmatch(r"\d{6}", code)

    # The newcomer signs in with the README's email and password and that code.
    client = Client()
    client.post("/signin/", {"email": DEMO_EMAIL, "password": DEMO_PASSWORD})
    assert client.post("/signin/verify/", {"otp_code": code}).status_code == 302
    assert "_auth_user_id" in client.session


def demo_settings(**env: str) -> dict[str, object]:
    script = (
        "import json; from django.conf import settings as s; print(json.dumps({'DEBUG': s.DEBUG, "
        "'SESSION_COOKIE_SECURE': s.SESSION_COOKIE_SECURE, 'SECURE_SSL_REDIRECT': s.SECURE_SSL_REDIRECT, "
        "'ALLOWED_HOSTS': s.ALLOWED_HOSTS, 'static': s.STORAGES['staticfiles']['BACKEND'], "
        "'mail': s.MAILERS['default']['BACKEND']}))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=fresh_shell_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_demo_runs_with_debug_off_and_developments_conveniences():
    demo = demo_settings(PORTAL_DEMO="true")
    assert demo == {
        "DEBUG": False,  # so that errors show the portal's own pages
        "SESSION_COOKIE_SECURE": False,  # served over plain HTTP on 127.0.0.1
        "SECURE_SSL_REDIRECT": False,
        "ALLOWED_HOSTS": ["127.0.0.1", "localhost", "testserver"],
        "static": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "mail": "django.core.mail.backends.filebased.EmailBackend",
    }
    assert demo_settings(PORTAL_DEMO="true", DEBUG="true")["DEBUG"] is True  # `DEBUG=true make run`
    assert demo_settings()["DEBUG"] is True  # development without the demo is unchanged


def test_the_demo_refuses_to_serve_a_host_others_can_open():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=fresh_shell_env(PORTAL_DEMO="true", ALLOWED_HOSTS="portal.example.com"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "PORTAL_DEMO is for this machine only" in result.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # (a local http URL: the test's own server)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_demo_server_shows_the_portals_own_404_page_with_its_styles(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(  # the demo's server as `make run` starts it, on a database of its own
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=fresh_shell_env(PORTAL_DEMO="true", PORTAL_VAR_DIR=str(tmp_path), PORTAL_BASE_URL=base),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, page = get(f"{base}/no-such-page/")
                break
            except (ConnectionError, urllib.error.URLError):
                assert server.poll() is None, server.stderr.read() if server.stderr else "the server stopped"
                assert time.monotonic() < deadline, "the demo server did not answer within a minute"
                time.sleep(0.2)
        assert status == 404
        assert '<h1 class="h3">Not found</h1>' in page and 'data-status="404"' in page
        assert "Skip to main content" in page
        assert "Django" not in page and "URLconf" not in page  # not the debug page
        status, css = get(f"{base}/static/portal/portal.css")
        assert status == 200 and ".btn-outline-warning" in css
        assert get(f"{base}/static/bootstrap/css/bootstrap.min.css")[0] == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
