import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from accounts.models import PrimaryAccount, User
from portal.models import AuditEvent
from tests.conftest import TEST_KEYRING, signed_in

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env = {"PORTAL_KEYRING": TEST_KEYRING, "PORTAL_KEYRING_FILE": "/nonexistent/keyring", **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        check=False,
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = run_manage(
        "check",
        "--deploy",
        DEBUG="false",
        SECRET_KEY="x" * 20 + "-Production-Key-9f8e7d6c5b4a3210zyx",
        ALLOWED_HOSTS="portal.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_without_a_secret_key_refuses_to_start():
    result = run_manage("check", DEBUG="false", ALLOWED_HOSTS="portal.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_passwords_are_hashed_with_argon2id_at_owasp_parameters(owner):
    encoded = owner.user.password
    assert identify_hasher(encoded).algorithm == "argon2"
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_pages_carry_a_content_security_policy(db):
    response = Client().get("/signin/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "cdn" not in response.content.decode().lower()
    assert "/static/bootstrap/css/bootstrap.min.css" in response.content.decode()


def test_create_primary_account_prints_the_new_account_id(db):
    out = StringIO()
    call_command(
        "create_primary_account", email="Ops@Example.com", password="Timber-Falcon-Rivet-4471", name="Ops", stdout=out
    )
    account_id = out.getvalue().strip()
    account = PrimaryAccount.objects.get(account_id=account_id)
    assert len(account_id) == 16 and account_id.isdigit()
    assert account.owner.email == "ops@example.com"
    assert account.default_domain.startswith(account_id + ".")
    event = AuditEvent.objects.get(action="account.create")
    assert event.channel == "command" and event.account_id == account_id


def test_create_primary_account_rejects_bad_input_and_creates_nothing(db):
    with pytest.raises(CommandError, match="valid email"):
        call_command("create_primary_account", email="not-an-email", password="Timber-Falcon-Rivet-4471")
    with pytest.raises(CommandError, match="too common"):
        call_command("create_primary_account", email="a@example.com", password="password1234")
    assert not User.objects.exists() and not AuditEvent.objects.exists()


def test_duplicate_owner_email_is_refused_ignoring_case(owner):
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_primary_account", email="OWNER@acme.example", password="Timber-Falcon-Rivet-4471")
    assert PrimaryAccount.objects.count() == 1


def test_totp_code_works_only_in_the_demo(owner):
    with override_settings(PORTAL_DEMO=False), pytest.raises(CommandError, match="only in the demo"):
        call_command("totp_code", owner.user.email)
    out = StringIO()
    with override_settings(PORTAL_DEMO=True):
        call_command("totp_code", owner.user.email, stdout=out)
    code = out.getvalue().strip()
    assert len(code) == 6 and code.isdigit()
    # The printed code is a real one: the owner can sign in with it.
    client = Client()
    client.post("/signin/", {"email": owner.user.email, "password": owner.password})
    assert client.post("/signin/verify/", {"otp_code": code}).status_code == 302
    assert "_auth_user_id" in client.session


@override_settings(PORTAL_DEMO=True)
def test_demo_setup_is_idempotent(db):
    call_command("demo_setup", stdout=StringIO())
    call_command("demo_setup", stdout=StringIO())
    assert PrimaryAccount.objects.count() == 1


def test_a_missing_keyring_stops_start_up_with_a_clear_error():
    result = run_manage(
        "check", DEBUG="false", SECRET_KEY="y" * 50, ALLOWED_HOSTS="portal.example.com", PORTAL_KEYRING=""
    )
    assert result.returncode != 0
    assert "portal.E001" in result.stderr and "PORTAL_KEYRING is empty" in result.stderr


def test_a_nul_character_anywhere_in_the_input_is_a_clear_400(owner):
    client = signed_in(owner)
    for response in (
        Client().get("/signin/a%00b.onaliyun.com/"),
        client.get("/users/?q=%00"),
        client.post("/users/create/", {"users-0-name": "a\x00b"}),
        Client().post("/?Action=GetUser&Version=2015-05-01&UserName=a%00b"),
    ):
        assert response.status_code == 400


def test_the_readme_lists_every_environment_variable_the_settings_read():
    settings_source = (ROOT / "portal" / "settings.py").read_text()
    read = set(re.findall(r'(?:env_\w+|os\.environ\.get)\("([A-Z_]+)"', settings_source))
    read |= {"DATABASE_URL"}  # (read by dj_database_url.config)
    table = (ROOT / "README.md").read_text().split("## Configuration (environment)")[1].split("\n\n")[1]
    listed = set(re.findall(r"`([A-Z_]+)`", table))
    assert read - listed == set(), "not in the README's configuration table"
    assert len(read) > 20  # the pattern really finds the settings' variables
