"""The shared cast: an owner with TOTP, a RAM administrator, a plain RAM user, and another account."""

import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from django.test import Client
from django_otp.oath import TOTP

from accounts.actors import Actor
from accounts.models import Authenticator, PrimaryAccount, RamUser, User
from accounts.services.otp import new_authenticator
from accounts.services.policies import attach_policy
from accounts.services.primary_accounts import create_primary_account
from accounts.services.ram_users import NewRamUser, create_ram_users
from portal.audit import Origin
from portal.keyring import new_key_entry
from tests.mail import Inbox, free_port

# A keyring made for this test run; the secrets it seals exist only in the test database.
TEST_KEYRING = new_key_entry(1)
OWNER_PASSWORD = "Granite-Meadow-Orbit-8841"
RAM_PASSWORD = "Violet-Canyon-Ledger-5307"
CONSOLE = Origin(channel="console", source_ip="127.0.0.1", request_id="TEST")


def totp_code(device: Authenticator, *, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def fresh_totp_code(device: Authenticator) -> str:
    """A code the device has not accepted yet: this step's, or the next (within the device's tolerance)."""
    device.refresh_from_db()
    for ahead in range(device.tolerance + 1):
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time() + ahead * device.step
        if totp.t() > device.last_t:
            return f"{totp.token():06d}"
    raise AssertionError("Every code within the tolerance was used; travel in time first.")


@dataclass
class Person:
    user: User
    account: PrimaryAccount
    password: str
    device: Authenticator | None = None
    ram_user: RamUser | None = None

    @property
    def actor(self) -> Actor:
        return Actor(account=self.account, origin=CONSOLE, user=self.user)

    def code(self) -> str:
        return fresh_totp_code(self.device)


def make_owner(email: str, name: str) -> Person:
    account = create_primary_account(email=email, password=OWNER_PASSWORD, name=name, origin=CONSOLE)
    device = new_authenticator(user=account.owner, name="Test", confirmed=True)
    return Person(user=account.owner, account=account, password=OWNER_PASSWORD, device=device)


def make_ram_user(owner: Person, name: str, *, policies: tuple[str, ...] = (), console_logon: bool = True) -> Person:
    [created] = create_ram_users(
        actor=owner.actor,
        new_users=[
            NewRamUser(
                name=name,
                display_name=name.title(),
                console_logon=console_logon,
                password=RAM_PASSWORD if console_logon else None,
                must_reset_password=False,
            )
        ],
    )
    ram_user = created.ram_user
    for policy in policies:
        attach_policy(actor=owner.actor, ram_user=ram_user, policy_name=policy)
    return Person(user=ram_user.user, account=owner.account, password=RAM_PASSWORD, ram_user=ram_user)


@pytest.fixture(autouse=True)
def test_keyring(settings):
    settings.PORTAL_KEYRING = TEST_KEYRING


@pytest.fixture
def owner(db) -> Person:
    return make_owner("owner@acme.example", "Acme")


@pytest.fixture
def ram_admin(owner) -> Person:
    return make_ram_user(owner, "admin", policies=("AliyunRAMFullAccess",))


@pytest.fixture
def ram_reader(owner) -> Person:
    return make_ram_user(owner, "auditor", policies=("AliyunRAMReadOnlyAccess",))


@pytest.fixture
def ram_user(owner) -> Person:
    return make_ram_user(owner, "alice")


@pytest.fixture
def other_owner(db) -> Person:
    return make_owner("owner@other.example", "Other")


@pytest.fixture
def other_ram_user(other_owner) -> Person:
    return make_ram_user(other_owner, "mallory")


def form_token_of(page) -> str:
    """The one-time token of the secret-issuing form on a page (a response or its HTML)."""
    html = page if isinstance(page, str) else page.content.decode()
    match = re.search(r'name="form_token" value="([A-Za-z0-9_-]+)"', html)
    assert match, "The page has no form token."
    return match.group(1)


def signed_in(person: Person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


@pytest.fixture
def owner_client(owner) -> Client:
    return signed_in(owner)


def pytest_sessionfinish(session, exitstatus):
    """The test database file goes with the run; its WAL sidecar files would otherwise stay in var/."""
    name = str(django_settings.DATABASES["default"].get("TEST", {}).get("NAME") or "")
    if name.endswith(".sqlite3"):
        for suffix in ("-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)


@pytest.fixture
def smtp(settings):
    """A real SMTP server in this process, which the portal's mail goes to; its `messages` are what it received."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    controller.start()
    inbox.controller = controller
    yield inbox
    if controller._thread is not None:  # still running
        controller.stop()
