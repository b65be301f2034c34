from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, NamedTuple

from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection
from django.db.models import Model, Q, QuerySet

from accounts.models import AccessKey, Authenticator, DeliveryPacket, OneTimeReveal
from accounts.sealing import sealed_columns
from accounts.services.packets import open_packet_sample
from portal.keyring import Keyring, SecretUnreadable, keyring


def _samples[M: Model](rows: QuerySet[M], field: str, *, ring: Keyring) -> list[M]:
    """One row sealed with each key version of the keyring, and one sealed with a version it does not hold."""
    sealed_with = [Q(**{f"{field}__startswith": f"v{version}$"}) for version, _ in ring.keys]
    found = [rows.filter(lookup).first() for lookup in sealed_with]
    found.append(rows.exclude(Q(*sealed_with, _connector=Q.OR)).first())
    return [row for row in found if row is not None]


class _SealedKind(NamedTuple):
    """Rows of one model (see `_kind`), how to open one, and what an error calls it."""

    samples: Iterable[Any]
    open: Callable[[Any], object]
    name: Callable[[Any], str]


def _kind[M: Model](samples: Iterable[M], open_sample: Callable[[M], object], name: Callable[[M], str]) -> _SealedKind:
    # Each kind is checked against its own model here; only the list of kinds mixes them.
    return _SealedKind(samples, open_sample, name)


def _named(noun: str, row: object) -> str:
    return f"the {noun}: {row}"


def every_row[M: Model](rows: QuerySet[M], field: str) -> Iterable[M]:
    """All the rows (`verify_secrets`, after a restore), where the start-up check takes `_samples`."""
    return rows.order_by("pk").iterator(chunk_size=500)


def sealed_kinds(
    ring: Keyring, tables: set[str], pick: Callable[[QuerySet[Any], str], Iterable[Any]]
) -> list[_SealedKind]:
    """Each kind of sealed secret: the rows `pick` takes of it, how to open one, and what an error calls it."""
    return [
        _kind(
            pick(AccessKey.objects.all(), AccessKey.SEALED_FIELD),
            lambda key: ring.open(key.sealed_secret, associated_data=key.associated_data),
            lambda key: f"the AccessKey secrets sealed with key version {Keyring.version_of(key.sealed_secret)}",
        ),
        _kind(
            # Seeds still in clear (hex, never starting with "v") are the sealing migration's to convert: a
            # check that refused them would stop the very `migrate` that seals them.
            pick(Authenticator.objects.filter(key__startswith="v"), Authenticator.SEALED_FIELD),
            lambda device: ring.open_bytes(device.key, associated_data=device.associated_data),
            lambda device: f"the TOTP seed of {device}",
        ),
        _kind(
            pick(OneTimeReveal.objects.exclude(sealed_secrets=""), OneTimeReveal.SEALED_FIELD),
            lambda reveal: ring.open(reveal.sealed_secrets, associated_data=reveal.associated_data),
            lambda reveal: f"the secrets waiting for the one-time page {reveal.uid}",
        ),
        _kind(
            pick(DeliveryPacket.objects.exclude(sealed_password="", sealed_access_key_secret=""), "sealed_password"),
            lambda packet: open_packet_sample(packet, ring),
            lambda packet: f"the sealed delivery packet {packet.pk}",
        ),
        *(
            _kind(pick(column.waiting(), column.field), partial(column.open, ring=ring), partial(_named, column.noun))
            for column in sealed_columns()
            if column.model._meta.db_table in tables
        ),
    ]


@checks.register(checks.Tags.security)
def check_keyring_opens_stored_secrets(
    app_configs: Sequence[AppConfig] | None, **kwargs: object
) -> list[checks.CheckMessage]:
    """A wrong key, or a dropped one still in use, stops start-up: one sample per key version is opened."""
    try:
        ring = keyring()
    except ImproperlyConfigured:
        return []  # portal.E001 says what is wrong with the keyring itself
    try:
        tables = set(connection.introspection.table_names())
    except DatabaseError as error:
        # An outage is not "nothing to check": say that the check could not be made.
        return [
            checks.Warning(
                f"The keyring could not be checked against the stored secrets: the database did not answer ({error}).",
                id="accounts.W001",
            )
        ]
    if not {AccessKey._meta.db_table, DeliveryPacket._meta.db_table, OneTimeReveal._meta.db_table} <= tables:
        return []  # before migrate has made the tables: nothing is sealed yet
    try:
        kinds = sealed_kinds(ring, tables, partial(_samples, ring=ring))
    except DatabaseError as error:
        # The tables are there but do not answer as this code expects (a migration still to run, an outage).
        return [
            checks.Warning(
                f"The keyring could not be checked against the stored secrets ({error}). Run migrate, then again.",
                id="accounts.W001",
            )
        ]
    errors: list[checks.CheckMessage] = []
    for samples, open_sample, name in kinds:
        for sample in samples:
            try:
                open_sample(sample)
            except SecretUnreadable as error:
                errors.append(
                    checks.Error(
                        f"The keyring cannot open {name(sample)}: {error}",
                        hint="Put the key that sealed it back into PORTAL_KEYRING (newest first), then rotate.",
                        id="accounts.E001",
                    )
                )
    return errors
