"""TOTP seeds are secrets (SPEC §3 rule 1): the database holds them only sealed with the keyring."""

import importlib
import re
from base64 import b32encode
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Authenticator
from accounts.services.otp import new_authenticator
from portal.keyring import Keyring, SecretUnreadable
from tests.conftest import totp_code

seed_migration = importlib.import_module("accounts.migrations.0004_authenticator_sealed_seed")


def stored_key(device) -> str:
    return TOTPDevice.objects.get(pk=device.pk).key


def test_an_enrolled_seed_is_stored_sealed_and_still_checks_codes(owner):
    Authenticator.objects.filter(user=owner.user).delete()
    client = Client()
    client.post(reverse("accounts:owner-sign-in"), {"email": owner.user.email, "password": owner.password})
    page = client.get(reverse("accounts:sign-in-enrol")).content.decode()
    device = Authenticator.objects.get(user=owner.user, confirmed=False)
    seed = device.bin_key
    shown = b32encode(seed).decode().rstrip("=")
    assert " ".join(shown[i : i + 4] for i in range(0, len(shown), 4)) in page  # the one showing
    key = stored_key(device)
    assert Keyring.version_of(key) == 1
    assert seed.hex() not in key.lower() and shown not in key
    response = client.post(reverse("accounts:sign-in-enrol"), {"device_id": device.pk, "otp_code": totp_code(device)})
    assert response.status_code == 302 and Authenticator.objects.get(pk=device.pk).confirmed


def test_a_sealed_seed_copied_onto_another_user_s_device_does_not_open(owner, ram_user):
    theirs = new_authenticator(user=ram_user.user, name="Phone", confirmed=True)
    Authenticator.objects.filter(pk=theirs.pk).update(key=stored_key(owner.device))
    with pytest.raises(SecretUnreadable):
        Authenticator.objects.get(pk=theirs.pk).bin_key  # noqa: B018 - opening is the test


def test_handing_a_device_to_another_user_reseals_its_seed_for_them(owner, ram_user):
    device = new_authenticator(user=owner.user, name="spare")
    seed = device.bin_key
    device.hand_to(ram_user.user)
    device.save(update_fields=["user", "key"])
    moved = Authenticator.objects.get(pk=device.pk)
    assert moved.user_id == ram_user.user.pk and moved.bin_key == seed


def test_the_migration_seals_seeds_stored_in_clear_and_its_reverse_opens_them(owner):
    clear = TOTPDevice.objects.create(user=owner.user, name="Older", confirmed=True)  # django-otp's own: hex
    seed = bytes.fromhex(clear.key)
    already_sealed = stored_key(owner.device)
    seed_migration.seal_seeds(apps, None)
    assert Keyring.version_of(stored_key(clear)) == 1 and clear.key not in stored_key(clear)
    assert Authenticator.objects.get(pk=clear.pk).bin_key == seed
    assert stored_key(owner.device) == already_sealed  # sealed ones are left alone
    seed_migration.open_seeds(apps, None)
    assert stored_key(clear) == seed.hex()


@pytest.mark.django_db(transaction=True)
def test_migrate_from_the_earlier_schema_seals_the_seeds_it_finds():
    # `migrate` runs the start-up checks first: a seed still in clear must not stop the migration that seals it.
    call_command("migrate", "accounts", "0003", verbosity=0)
    # (The user as that schema had it: today's model has columns it lacked.)
    older_user = (
        MigrationLoader(connection)
        .project_state(("accounts", "0003_alias_hold_and_delivery_packets"))
        .apps.get_model("accounts", "User")
    )
    user = older_user.objects.create(email="older@example.com")
    clear = TOTPDevice.objects.create(user_id=user.pk, name="Older", confirmed=True)
    call_command("migrate", verbosity=0, skip_checks=False)
    assert Keyring.version_of(stored_key(clear)) == 1
    assert Authenticator.objects.get(pk=clear.pk).bin_key == bytes.fromhex(clear.key)


def test_nothing_but_the_model_and_its_migration_touches_django_otp_s_clear_seed_model():
    # django-otp's generic helpers (devices_for_user, match_token, its forms and admin) skip proxy models, so
    # they would read the sealed column as hex: the portal finds and checks devices only through Authenticator.
    root = Path(__file__).resolve().parents[2]
    allowed = {
        root / "accounts" / "models" / "mfa.py",
        root / "accounts" / "migrations" / "0004_authenticator_sealed_seed.py",
    }
    offenders = [
        str(path.relative_to(root))
        for folder in ("accounts", "projects", "portal")
        for path in (root / folder).rglob("*.py")
        if path not in allowed
        and re.search(r"\bTOTPDevice\b|devices_for_user|match_token|user_has_device", path.read_text())
    ]
    assert offenders == []


def test_an_authenticator_cannot_be_created_with_a_seed_in_clear(owner):
    with pytest.raises(ValueError, match="must be sealed"):
        Authenticator.objects.create(user=owner.user, name="Plain", confirmed=True)
    assert not Authenticator.objects.filter(name="Plain").exists()
