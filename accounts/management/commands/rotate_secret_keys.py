from collections.abc import Iterator

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F, Model, Q, QuerySet

from accounts.actors import operator_actor
from accounts.models import AccessKey, Authenticator, DeliveryPacket, OneTimeReveal, PrimaryAccount
from accounts.sealing import sealed_columns
from accounts.services.packets import reseal_packet
from portal.audit import record_event
from portal.keyring import SecretUnreadable, keyring

BATCH = 500


class Command(BaseCommand):
    help = (
        "Re-seals every stored secret (AccessKey secrets, authenticators' TOTP seeds, sealed delivery packets, "
        "secrets waiting for their one-time page, typed passwords waiting in imports) "
        "with the newest key of "
        "PORTAL_KEYRING. Afterwards the older keys can be removed from the keyring."
    )

    def handle(self, *args: object, **options: object) -> None:
        ring = keyring()
        newest = f"v{ring.newest_version}$"
        resealed: dict[int, dict[str, int]] = {}

        def count(account_pk: int, what: str) -> None:
            counts = resealed.setdefault(
                account_pk, {"access_keys": 0, "authenticators": 0, "packets": 0, "reveals": 0}
            )
            counts[what] = counts.get(what, 0) + 1

        stale = []
        for model, what in ((AccessKey, "access_keys"), (Authenticator, "authenticators"), (OneTimeReveal, "reveals")):
            field = model.SEALED_FIELD
            # (A one-time page's secrets are wiped once shown: an empty column holds nothing to re-seal.)
            stale.append(model.objects.exclude(**{f"{field}__startswith": newest}).exclude(**{field: ""}))
            for batch in _batches(stale[-1]):
                for row in (
                    model.objects.select_for_update(of=("self",))
                    .select_related("user__owned_account", "user__ram_user__account")
                    .filter(pk__in=batch)
                    .exclude(**{field: ""})  # (a one-time page shown or expired since the batch was listed)
                ):
                    try:
                        opened = ring.open_bytes(getattr(row, field), associated_data=row.associated_data)
                    except SecretUnreadable as error:
                        raise CommandError(
                            f"{row}: {error} Its batch was left as it was; fix the keyring and run again."
                        ) from None
                    setattr(row, field, ring.seal_bytes(opened, associated_data=row.associated_data))
                    row.save(update_fields=[field])
                    if isinstance(row, OneTimeReveal):
                        # A claim's one-time page has no user: its account is its own, known before any secret is
                        # sealed in it (a user's page has it from the start, a claim's gets it with its secrets).
                        assert row.account_id is not None
                        count(row.account_id, what)
                    else:
                        count(row.user.account.pk, what)
        for column in sealed_columns():
            stale.append(column.waiting().exclude(**{f"{column.field}__startswith": newest}))
            for batch in _batches(stale[-1]):
                rows = column.waiting().select_for_update(of=("self",)).filter(pk__in=batch)  # (still waiting)
                for row in rows.annotate(sealed_for=F(column.account)):
                    try:
                        column.reseal(row, ring)
                    except SecretUnreadable as error:
                        raise CommandError(f"{row}: {error} Its batch was left as it was.") from None
                    row.save(update_fields=[column.field])
                    count(row.sealed_for, column.key)
        stale_packets = DeliveryPacket.objects.filter(
            (~Q(sealed_password="") & ~Q(sealed_password__startswith=newest))
            | (~Q(sealed_access_key_secret="") & ~Q(sealed_access_key_secret__startswith=newest))
        )
        for batch in _batches(stale_packets):
            for packet in DeliveryPacket.objects.select_for_update().filter(pk__in=batch):
                try:
                    reseal_packet(packet, ring)
                except SecretUnreadable as error:
                    raise CommandError(f"{packet}: {error} Its batch was left as it was.") from None
                packet.save(update_fields=["sealed_password", "sealed_access_key_secret"])
                count(packet.account_id, "packets")
        with transaction.atomic():
            for account in PrimaryAccount.objects.filter(pk__in=resealed):
                record_event(
                    actor=operator_actor(account),
                    action="keyring.rotate",
                    target=account.principal,
                    details={
                        "resealed_access_keys": resealed[account.pk]["access_keys"],
                        "resealed_authenticators": resealed[account.pk]["authenticators"],
                        "resealed_packets": resealed[account.pk]["packets"],
                        "resealed_one_time_pages": resealed[account.pk]["reveals"],
                        **{
                            f"resealed_{column.key}": resealed[account.pk].get(column.key, 0)
                            for column in sealed_columns()
                        },
                        "key_version": ring.newest_version,
                    },
                )
        total = sum(sum(counts.values()) for counts in resealed.values())
        left = sum(rows.count() for rows in (*stale, stale_packets))
        self.stdout.write(
            f"Re-sealed {total} secrets with key version {ring.newest_version}; {left} sealed with older keys remain."
        )
        if left:
            raise CommandError("Some secrets are still sealed with older keys.")


def _batches(queryset: QuerySet[Model]) -> Iterator[list[int]]:
    """Primary keys in batches, each processed in its own transaction (yielded inside it)."""
    ids: list[int] = list(queryset.values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            yield ids[start : start + BATCH]
