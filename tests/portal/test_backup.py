"""The backup and restore drill (issue 15, item 6): back up (`backup_database`), change things, restore
(`restore_database`): every AccessKey still signs, every sealed packet still opens, and nothing else differs from the
moment of the backup. The keyring is the other half: without it nothing sealed opens."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import AccessKey, DeliveryPacket, RamUser
from accounts.services.access_keys import set_access_key_status
from accounts.services.packets import open_packet_secrets
from accounts.services.ram_users import NewRamUser, create_ram_users
from portal.keyring import new_key_entry
from tests.api.conftest import issue_key, signed_query
from tests.conftest import make_ram_user

pytestmark = pytest.mark.usefixtures("transactional_db")


def everything() -> str:
    """Every row of every table, as dumpdata writes them."""
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue()


def get_user(client, key_id: str, secret: str, name: str) -> tuple[int, str]:
    response = client.post(f"/?{signed_query(key_id, secret, {'Action': 'GetUser', 'UserName': name})}")
    return response.status_code, response.json().get("Code", "")


def test_back_up_change_restore_every_key_signs_every_packet_opens_nothing_else_differs(owner, client, tmp_path):
    alice = make_ram_user(owner, "alice", policies=("AliyunRAMReadOnlyAccess",))
    owner_key, alice_key = issue_key(owner), issue_key(alice)
    [dora] = create_ram_users(
        actor=owner.actor, new_users=[NewRamUser(name="dora", display_name="Dora", console_logon=True)]
    )
    packet = DeliveryPacket.objects.get(ram_user=dora.ram_user)
    dora_password = open_packet_secrets(packet).password
    assert dora_password
    before = everything()
    dump = tmp_path / "portal.dump"

    out = io.StringIO()
    call_command("backup_database", str(dump), stdout=out)
    assert dump.stat().st_size > 0 and "The database is in" in out.getvalue()
    assert oct(dump.stat().st_mode)[-3:] == "600"
    assert owner_key[1].encode() not in dump.read_bytes() and dora_password.encode() not in dump.read_bytes()

    # Changes after the backup: a user, a key, a disabled key, a packet revealed and wiped.
    make_ram_user(owner, "eve")
    later_key = issue_key(owner)
    set_access_key_status(
        actor=owner.actor,
        access_key=AccessKey.objects.get(access_key_id=alice_key[0]),
        is_active=False,
        otp_code=owner.code(),
    )
    DeliveryPacket.objects.filter(pk=packet.pk).update(sealed_password="")
    assert everything() != before

    out = io.StringIO()
    call_command("restore_database", str(dump), "--yes", stdout=out)
    assert "Every sealed secret opens with PORTAL_KEYRING" in out.getvalue()
    assert everything() == before
    assert open_packet_secrets(DeliveryPacket.objects.get(pk=packet.pk)).password == dora_password
    assert not RamUser.objects.filter(name="eve").exists()
    assert get_user(client, *owner_key, "alice") == (200, "")
    assert get_user(client, *alice_key, "alice") == (200, "")  # enabled again, as at the backup
    assert get_user(client, *later_key, "alice") == (404, "InvalidAccessKeyId.NotFound")


def test_without_the_keyring_that_sealed_them_the_restored_secrets_do_not_open(owner, settings, tmp_path):
    issue_key(owner)
    make_ram_user(owner, "alice")
    dump = tmp_path / "portal.dump"
    call_command("backup_database", str(dump), stdout=io.StringIO())
    settings.PORTAL_KEYRING = new_key_entry(7)  # a new keyring: the dump's secrets were sealed with another
    with pytest.raises(CommandError) as refused:
        call_command("restore_database", str(dump), "--yes", stdout=io.StringIO())
    assert "sealed secrets do not open with PORTAL_KEYRING" in str(refused.value)
    assert "AccessKey secrets sealed with key version 1" in str(refused.value)


def test_a_file_that_is_no_dump_is_refused_and_changes_nothing(owner, tmp_path):
    make_ram_user(owner, "alice")
    before = everything()
    junk = tmp_path / "junk.dump"
    junk.write_bytes(b"this is not a database dump\n" * 100)
    with pytest.raises(CommandError):
        call_command("restore_database", str(junk), "--yes", stdout=io.StringIO())
    with pytest.raises(CommandError) as missing:
        call_command("restore_database", str(tmp_path / "missing.dump"), "--yes", stdout=io.StringIO())
    assert "is not a file" in str(missing.value)
    assert everything() == before


def test_a_backup_never_overwrites_a_file(owner, tmp_path):
    existing = tmp_path / "portal.dump"
    existing.write_text("keep me")
    with pytest.raises(CommandError) as refused:
        call_command("backup_database", str(existing), stdout=io.StringIO())
    assert "exists already" in str(refused.value)
    assert existing.read_text() == "keep me"
