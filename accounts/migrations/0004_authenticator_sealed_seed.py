"""Authenticators' TOTP seeds sealed with the keyring (AES-256-GCM, the user's ID as associated data).

Seeds stored in clear by django-otp (hex) are sealed here; the reverse opens them again. The keyring comes
from PORTAL_KEYRING, as everywhere: with devices to convert and no keyring, the migration stops and says so.
Run it with the keyring the portal runs with (a seed sealed under another key cannot be opened), and with the
portal stopped: a server still running the earlier code would read the sealed seeds as hex.
"""

from binascii import unhexlify

from django.db import migrations

from portal.keyring import SEALED_RE, keyring


KEY_COLUMN_LENGTH = 80  # django-otp's TOTPDevice.key


def associated_data(user_id: int) -> str:
    return f"totp:{user_id}"  # as accounts.models.authenticator_associated_data (frozen here, as migrations are)


def seal_seeds(apps, schema_editor):
    devices = apps.get_model("otp_totp", "TOTPDevice").objects.all()
    for device in devices.iterator():
        if SEALED_RE.match(device.key):
            continue
        sealed = keyring().seal_bytes(unhexlify(device.key), associated_data=associated_data(device.user_id))
        if len(sealed) > KEY_COLUMN_LENGTH:
            raise RuntimeError(
                f"The seed of TOTP device {device.pk} is {len(device.key) // 2} bytes: sealed, it would not fit "
                f"the {KEY_COLUMN_LENGTH}-character column (the portal's seeds are 20 bytes). Re-enrol that "
                "device (delete it) and migrate again."
            )
        device.key = sealed
        device.save(update_fields=["key"])


def open_seeds(apps, schema_editor):
    devices = apps.get_model("otp_totp", "TOTPDevice").objects.all()
    for device in devices.iterator():
        if not SEALED_RE.match(device.key):
            continue
        seed = keyring().open_bytes(device.key, associated_data=associated_data(device.user_id))
        device.key = seed.hex()
        device.save(update_fields=["key"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_alias_hold_and_delivery_packets"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [
        migrations.CreateModel(
            name="Authenticator",
            fields=[],
            options={
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("otp_totp.totpdevice",),
        ),
        migrations.RunPython(seal_seeds, open_seeds),
    ]
