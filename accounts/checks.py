from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.db.models import Q

from accounts.models import AccessKey, Authenticator, DeliveryPacket
from accounts.services.packets import open_packet_sample
from portal.keyring import Keyring, SecretUnreadable, keyring


@checks.register(checks.Tags.security)
def check_keyring_opens_stored_secrets(app_configs, **kwargs):
    """A wrong key, or a dropped one still in use, stops start-up: one sample per key version is opened."""
    try:
        ring = keyring()
    except ImproperlyConfigured:
        return []  # portal.E001 says what is wrong with the keyring itself
    sealed_with = {version: Q(sealed_secret__startswith=f"v{version}$") for version, _ in ring.keys}
    try:
        samples = [AccessKey.objects.filter(lookup).first() for lookup in sealed_with.values()]
        orphan = AccessKey.objects.exclude(Q(*sealed_with.values(), _connector=Q.OR)).first()
        packets = [
            DeliveryPacket.objects.filter(sealed_password__startswith=f"v{version}$").first()
            for version, _ in ring.keys
        ]
        authenticators = [
            Authenticator.objects.filter(key__startswith=f"v{version}$").first() for version, _ in ring.keys
        ]
        # Seeds still in clear (hex, never starting with "v") are the sealing migration's to convert; a check
        # that refused them would stop the very `migrate` that seals them.
        unknown_authenticator = (
            Authenticator.objects.filter(key__startswith="v")
            .exclude(Q(*[Q(key__startswith=f"v{v}$") for v, _ in ring.keys], _connector=Q.OR))
            .first()
        )
        unknown_packet = DeliveryPacket.objects.exclude(
            Q(sealed_password="") | Q(*[Q(sealed_password__startswith=f"v{v}$") for v, _ in ring.keys], _connector=Q.OR)
        ).first()
    except DatabaseError:
        return []  # no tables yet (before migrate): nothing sealed to check
    errors = []
    for packet in [*filter(None, packets), *filter(None, [unknown_packet])]:
        try:
            open_packet_sample(packet, ring)
        except SecretUnreadable as error:
            errors.append(
                checks.Error(
                    f"The keyring cannot open the sealed delivery packet {packet.pk}: {error}",
                    hint="Put the key that sealed it back into PORTAL_KEYRING (newest first), then rotate.",
                    id="accounts.E001",
                )
            )
    for device in [*filter(None, authenticators), *filter(None, [unknown_authenticator])]:
        try:
            device.bin_key  # noqa: B018 - opening the seed is the check
        except SecretUnreadable as error:
            errors.append(
                checks.Error(
                    f"The keyring cannot open the TOTP seed of authenticator {device.pk}: {error}",
                    hint="Put the key that sealed it back into PORTAL_KEYRING (newest first), then rotate.",
                    id="accounts.E001",
                )
            )
    for sample in [*filter(None, samples), *filter(None, [orphan])]:
        try:
            ring.open(sample.sealed_secret, associated_data=sample.access_key_id)
        except SecretUnreadable as error:
            errors.append(
                checks.Error(
                    f"The keyring cannot open the AccessKey secrets sealed with key version "
                    f"{Keyring.version_of(sample.sealed_secret)}: {error}",
                    hint="Put the key that sealed them back into PORTAL_KEYRING (newest first), then rotate.",
                    id="accounts.E001",
                )
            )
    return errors
