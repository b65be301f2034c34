"""Passwords sent through the RAM API (in the query string, as the SDKs send them) reach no log and no error
report: not the development server's request log, not a record any of Django's loggers make, not the debug
page or the administrators' email about a failed request."""

import logging
import os
import secrets
import socket
import subprocess
import sys
import time
from html import escape
from pathlib import Path
from urllib.parse import quote, quote_plus, urlencode

import pytest
from alibabacloud_ram20150501 import models as ram
from aliyunsdkcore.client import AcsClient
from aliyunsdkram.request.v20150501.UpdateLoginProfileRequest import UpdateLoginProfileRequest
from django.db import connection
from django.test import Client
from django.views.debug import get_exception_reporter_class

from accounts.api import endpoint
from portal.redaction import REDACTED, RedactSecretsFilter, redact_query, redact_text
from tests.api.conftest import issue_key, ram_client
from tests.conftest import TEST_KEYRING, make_ram_user

ROOT = Path(__file__).resolve().parents[2]


def canary(label: str) -> str:
    # Meets the default password policy; unique per test and per parameter, so a leak names its source.
    return f"Canary-{label}-{secrets.token_hex(6)}-Zq9!"


def test_redact_query_hides_only_secret_parameters_and_keeps_the_rest_exactly():
    query = "Action=CreateLoginProfile&UserName=alice&Password=Secret%21%20x&Pass%77ord=b&oldpassword=c&Empty"
    assert redact_query(query) == (
        f"Action=CreateLoginProfile&UserName=alice&Password={REDACTED}&Pass%77ord={REDACTED}"
        f"&oldpassword={REDACTED}&Empty"
    )
    line = '"POST /?Action=ChangePassword&OldPassword=a&NewPassword=b&Signature=s HTTP/1.1" 200 52'
    assert redact_text(line) == (
        f'"POST /?Action=ChangePassword&OldPassword={REDACTED}&NewPassword={REDACTED}&Signature={REDACTED}'
        ' HTTP/1.1" 200 52'
    )
    assert redact_text("Continue? Yes") == "Continue? Yes"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    user = database.get("USER") or "postgres"
    return f"postgres://{user}@{database.get('HOST') or '127.0.0.1'}:{database.get('PORT') or 5432}/{database['NAME']}"


@pytest.fixture
def development_server(tmp_path):
    """`manage.py runserver` on the test database, its whole output written to a log file."""
    port = _free_port()
    log_file = tmp_path / "runserver.log"
    env = os.environ | {
        "DATABASE_URL": _database_url(),
        "PORTAL_KEYRING": TEST_KEYRING,
        "DEBUG": "true",
        "PYTHONUNBUFFERED": "1",
    }
    with log_file.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("The development server did not start:\n" + log_file.read_text())
                time.sleep(0.2)

        class Served:
            url = f"http://127.0.0.1:{port}"

            @staticmethod
            def log() -> str:
                return log_file.read_text()

        yield Served
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def production_server(tmp_path, transactional_db):
    """`make serve` (gunicorn and a background worker) on the test database, logging everything (LOG_LEVEL=DEBUG)."""
    from tests.portal.servers import served

    with served(tmp_path, SECURE_SSL_REDIRECT="false", LOG_LEVEL="DEBUG") as server:

        class Served:
            url = server.url

            @staticmethod
            def log() -> str:
                return server.log.read_text()

        yield Served


def test_passwords_sent_through_the_sdks_are_not_in_the_development_servers_log(owner, development_server):
    send_passwords_through_the_sdks(owner, development_server)


def test_passwords_sent_through_the_sdks_are_not_in_the_production_servers_logs(owner, production_server):
    send_passwords_through_the_sdks(owner, production_server)


def send_passwords_through_the_sdks(owner, server) -> None:
    """Every way the SDKs send a password (ACS3, v2 and the legacy SDK; create, update, change), then the server's
    whole output: each request line is logged, and no password is in it."""
    alice = make_ram_user(owner, "alice")
    planted = {name: canary(name) for name in ("create", "update-acs3", "update-v2", "update-legacy", "new")}
    owner_id, owner_secret = issue_key(owner)
    acs3 = ram_client(server, owner_id, owner_secret)
    v2 = ram_client(server, owner_id, owner_secret, signature_algorithm="v2")

    acs3.create_user(ram.CreateUserRequest(user_name="bob", display_name="Bob"))
    acs3.create_login_profile(ram.CreateLoginProfileRequest(user_name="bob", password=planted["create"]))
    acs3.update_login_profile(ram.UpdateLoginProfileRequest(user_name="bob", password=planted["update-acs3"]))
    v2.update_login_profile(ram.UpdateLoginProfileRequest(user_name="bob", password=planted["update-v2"]))

    legacy = AcsClient(owner_id, owner_secret, "cn-hangzhou")
    legacy.add_endpoint("cn-hangzhou", "Ram", server.url.removeprefix("http://"))
    request = UpdateLoginProfileRequest()
    request.set_protocol_type("http")
    request.set_UserName("bob")
    request.set_Password(planted["update-legacy"])
    legacy.do_action_with_exception(request)

    alice_client = ram_client(server, *issue_key(alice))
    alice_client.change_password(ram.ChangePasswordRequest(old_password=alice.password, new_password=planted["new"]))
    alice.user.refresh_from_db()
    assert alice.user.check_password(planted["new"])  # the calls really happened

    log = server.log()
    assert log.count('"POST /?') == 6, log  # every call's request line is in the log, its secrets redacted
    assert log.count(f"&Password={REDACTED}") + log.count(f"?Password={REDACTED}") == 4, log
    assert f"NewPassword={REDACTED}" in log and f"OldPassword={REDACTED}" in log, log
    for name, value in [*planted.items(), ("old", alice.password)]:
        assert value not in log, f"the {name} password is in the server's log"


@pytest.fixture
def records():
    """Every record that reaches the root logger or Django's loggers, as their configured handlers saw it."""
    captured: list[logging.LogRecord] = []

    class Capture(logging.Handler):
        def emit(self, record):
            captured.append(record)

    capture = Capture(level=logging.DEBUG)
    loggers = [logging.getLogger(name) for name in ("", "django", "django.request", "django.server")]
    for logger in loggers:
        logger.addHandler(capture)
    yield captured
    for logger in loggers:
        logger.removeHandler(capture)


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("kind", ["plain", "awkward"])
def test_a_failing_api_request_reports_no_password_in_any_record_page_or_report(
    owner, records, monkeypatch, settings, debug, kind
):
    settings.DEBUG = debug
    # Made here, not written in this file: the debug page shows the source lines around each frame, this test's too.
    password = canary("crash") + ("" if kind == "plain" else " %9\\x'\"<>&é")

    def crash(request, params):
        raise RuntimeError("the signature check failed unexpectedly")

    monkeypatch.setattr(endpoint, "authenticate", crash)
    client = Client(raise_request_exception=False)
    query = urlencode({"Action": "CreateLoginProfile", "Version": "2015-05-01", "UserName": "alice"})
    response = client.post(f"/?{query}&{urlencode({'Password': password})}&Signature=abc")
    assert response.status_code == 500
    forms = {password, quote(password, safe=""), quote_plus(password), escape(password), repr(password)[1:-1]}
    page = response.content.decode()
    assert not any(form in page for form in forms)
    failures = [record for record in records if record.exc_info and getattr(record, "request", None) is not None]
    assert failures, "Django logged no failure with its request"
    for record in records:
        assert password not in record.getMessage()
    for record in failures:
        # What the administrators' email (AdminEmailHandler) and the debug page render from the record.
        reporter = get_exception_reporter_class(record.request)(record.request, *record.exc_info, is_email=True)
        text, html = reporter.get_traceback_text(), reporter.get_traceback_html()
        assert "CreateLoginProfile" in text  # the report does show the request
        assert not any(form in text or form in html for form in forms), [f for f in forms if f in text + html]


def test_every_configured_handler_redacts():
    handlers = {
        handler
        for name in ("", "django", "django.request", "django.server")
        for logger in [logging.getLogger(name)]
        for handler in logger.handlers
        if not type(handler).__module__.startswith("_pytest")  # pytest's own capture, not the portal's
    }
    assert handlers
    for handler in handlers:
        assert any(isinstance(f, RedactSecretsFilter) for f in handler.filters), handler
