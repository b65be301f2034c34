from io import StringIO

from django.core.management import call_command
from django.db import OperationalError, connection

from accounts.actors import operator_actor
from accounts.checks import check_keyring_opens_stored_secrets
from accounts.models import AccessKey, Authenticator, DeliveryPacket, OneTimeReveal, RamUser
from accounts.services import packets as packet_services
from accounts.services.access_keys import issue_access_key, open_secret
from accounts.services.one_time_page import show_reveal
from accounts.services.ram_users import NewRamUser, create_ram_users
from accounts.services.reveals import issue_once, new_form_token
from portal.checks import check_keyring
from portal.keyring import Keyring, new_key_entry
from portal.models import AuditEvent
from projects.imports import commit_user_import, keep_checked_rows, run_import
from projects.models import UserImportRow
from projects.user_import import read_import
from tests.conftest import TEST_KEYRING, fresh_totp_code

KEY_1 = TEST_KEYRING  # the fixtures' secrets (the owner's authenticator) are sealed with it
KEY_2 = new_key_entry(2)


def error_ids(errors) -> list[str]:
    return [error.id for error in errors]


def test_secrets_sealed_under_key_1_verify_after_rotation_to_key_2_and_removal_of_key_1(settings, owner):
    settings.PORTAL_KEYRING = KEY_1
    [created] = create_ram_users(
        actor=owner.actor, new_users=[NewRamUser(name="carol", display_name="Carol", console_logon=True)]
    )
    issued = [
        issue_access_key(actor=operator_actor(owner.account), holder=holder, otp_code=None)
        for holder in (created.ram_user.user, owner.user)
    ]
    # The owner issues another key in the console: its secret waits, sealed, for the form's one-time page.
    issued_once = []
    page = issue_once(
        user=owner.user,
        form_token=new_form_token(),
        kind="access_key_created",
        work=lambda reveal: issued_once.append(
            issue_access_key(actor=owner.actor, holder=owner.user, otp_code=owner.code(), reveal=reveal)
        ),
    )
    [waiting] = issued_once
    assert {Keyring.version_of(key.sealed_secret) for key in AccessKey.objects.all()} == {1}

    # Key 2 arrives first in the keyring; until rotation, dropping key 1 would strand the secrets.
    settings.PORTAL_KEYRING = f"{KEY_2},{KEY_1}"
    assert check_keyring_opens_stored_secrets(None) == []
    out = StringIO()
    call_command("rotate_secret_keys", stdout=out)
    # Three keys, the owner's authenticator, two packets (carol's password and the key issued for her), and the
    # secret waiting for its one-time page.
    assert "Re-sealed 7 secrets with key version 2; 0 sealed with older keys remain." in out.getvalue()
    assert {Keyring.version_of(key.sealed_secret) for key in AccessKey.objects.all()} == {2}
    assert {Keyring.version_of(device.key) for device in Authenticator.objects.all()} == {2}
    event = AuditEvent.objects.get(action="keyring.rotate")
    assert event.details == {
        "resealed_access_keys": 3,
        "resealed_authenticators": 1,
        "resealed_packets": 2,
        "resealed_one_time_pages": 1,
        "resealed_import_rows": 0,
        "key_version": 2,
    }
    assert event.channel == "command"

    settings.PORTAL_KEYRING = KEY_2
    assert check_keyring(None) == [] and check_keyring_opens_stored_secrets(None) == []
    for item in [*issued, waiting]:  # carol's key, the owner's, and the one that waited for its page
        assert open_secret(AccessKey.objects.get(pk=item.access_key.pk)) == item.secret
    assert (
        packet_services.open_packet_secrets(DeliveryPacket.objects.get(pk=created.packet.pk)).password
        == created.initial_password
    )
    device = Authenticator.objects.get(pk=owner.device.pk)
    assert device.verify_token(fresh_totp_code(device))  # the same seed, now under key 2
    shown = show_reveal(actor=owner.actor, reveal=OneTimeReveal.objects.get(pk=page.pk))
    assert shown.secrets == {"access_key_secret": waiting.secret}


def test_a_packet_sealed_with_a_dropped_key_is_a_start_up_error(settings, owner):
    settings.PORTAL_KEYRING = KEY_1
    create_ram_users(actor=owner.actor, new_users=[NewRamUser(name="carol", display_name="Carol", console_logon=True)])
    settings.PORTAL_KEYRING = KEY_2
    errors = check_keyring_opens_stored_secrets(None)
    assert set(error_ids(errors)) == {"accounts.E001"}
    assert any("delivery packet" in error.msg for error in errors)
    assert any("TOTP seed of authenticator" in error.msg for error in errors)


def test_typed_passwords_waiting_in_an_import_are_resealed_and_checked_at_start_up(settings, owner):
    settings.PORTAL_KEYRING = KEY_1
    typed = "Harvest-Quartz-Beacon-3318"
    preview = read_import(
        f"user_name,display_name,console_logon,password\ncarol,Carol,yes,{typed}\n".encode(), owner.account
    )
    job = keep_checked_rows(actor=owner.actor, preview=preview, file_name="people.csv")
    row = UserImportRow.objects.get(job=job)
    assert Keyring.version_of(row.sealed_password) == 1
    settings.PORTAL_KEYRING = KEY_2  # key 1 dropped before rotating: start-up names what it strands
    errors = check_keyring_opens_stored_secrets(None)
    assert any("import rows waiting with a typed password" in error.msg for error in errors)

    settings.PORTAL_KEYRING = f"{KEY_2},{KEY_1}"
    call_command("rotate_secret_keys", stdout=StringIO())
    assert AuditEvent.objects.get(action="keyring.rotate").details["resealed_import_rows"] == 1
    settings.PORTAL_KEYRING = KEY_2
    assert check_keyring_opens_stored_secrets(None) == []
    row.refresh_from_db()
    assert Keyring.version_of(row.sealed_password) == 2 and typed not in row.sealed_password
    # The job still creates carol with her typed password, under key 2 alone.
    commit_user_import(actor=owner.actor, job=job, enqueue=False)
    run_import(str(job.uid))
    assert RamUser.objects.get(name="carol").user.check_password(typed)


def test_dropping_a_key_still_in_use_is_a_start_up_error(settings, owner):
    settings.PORTAL_KEYRING = KEY_1
    issue_access_key(actor=operator_actor(owner.account), holder=owner.user, otp_code=None)
    settings.PORTAL_KEYRING = KEY_2
    errors = check_keyring_opens_stored_secrets(None)
    assert set(error_ids(errors)) == {"accounts.E001"}
    assert any("AccessKey secrets sealed with key version 1" in error.msg for error in errors)


def test_a_wrong_key_under_the_right_version_is_a_start_up_error(settings, owner):
    settings.PORTAL_KEYRING = KEY_1
    issue_access_key(actor=operator_actor(owner.account), holder=owner.user, otp_code=None)
    settings.PORTAL_KEYRING = new_key_entry(1)
    errors = check_keyring_opens_stored_secrets(None)
    assert set(error_ids(errors)) == {"accounts.E001"} and len(errors) == 2  # the key and the authenticator
    assert all("does not open" in error.msg for error in errors)


def test_a_missing_or_malformed_keyring_is_a_start_up_error(settings):
    settings.PORTAL_KEYRING = ""
    assert error_ids(check_keyring(None)) == ["portal.E001"]
    settings.PORTAL_KEYRING = "1:tooshort"
    assert error_ids(check_keyring(None)) == ["portal.E001"]


def test_rotation_with_nothing_to_do_says_so(settings, db):
    settings.PORTAL_KEYRING = KEY_1
    out = StringIO()
    call_command("rotate_secret_keys", stdout=out)
    assert "Re-sealed 0 secrets" in out.getvalue()
    assert not AuditEvent.objects.exists()


def test_in_development_a_keyring_not_set_yet_only_warns_and_a_malformed_one_still_stops(settings):
    settings.DEBUG = True
    settings.PORTAL_KEYRING = ""
    assert error_ids(check_keyring(None)) == ["portal.W001"]
    settings.PORTAL_KEYRING = "1:tooshort"
    assert error_ids(check_keyring(None)) == ["portal.E001"]


def test_a_database_that_does_not_answer_is_no_reason_to_skip_the_check_in_silence(owner, monkeypatch):
    def unreachable():
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection.introspection, "table_names", unreachable)
    [warning] = check_keyring_opens_stored_secrets(None)
    assert warning.id == "accounts.W001" and "did not answer" in warning.msg
