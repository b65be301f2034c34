from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.actors import operator_actor
from accounts.models import AccessKey, PrimaryAccount
from portal.audit import record_event
from portal.keyring import SecretUnreadable, keyring

BATCH = 500


class Command(BaseCommand):
    help = (
        "Re-seals every stored secret with the newest key of PORTAL_KEYRING. Afterwards the older keys can be "
        "removed from the keyring."
    )

    def handle(self, *args, **options):
        ring = keyring()
        newest = ring.newest_version
        resealed_per_account: dict[int, int] = {}
        pending = AccessKey.objects.exclude(sealed_secret__startswith=f"v{newest}$").values_list("pk", flat=True)
        ids = list(pending)
        for start in range(0, len(ids), BATCH):
            with transaction.atomic():
                for access_key in (
                    AccessKey.objects.select_for_update()
                    .select_related("user__owned_account", "user__ram_user")
                    .filter(pk__in=ids[start : start + BATCH])
                ):
                    try:
                        secret = ring.open(access_key.sealed_secret, associated_data=access_key.access_key_id)
                    except SecretUnreadable as error:
                        raise CommandError(
                            f"{access_key}: {error} Its batch was left as it was; fix the keyring and run again."
                        ) from None
                    access_key.sealed_secret = ring.seal(secret, associated_data=access_key.access_key_id)
                    access_key.save(update_fields=["sealed_secret"])
                    account_pk = access_key.user.account.pk
                    resealed_per_account[account_pk] = resealed_per_account.get(account_pk, 0) + 1
        with transaction.atomic():
            for account in PrimaryAccount.objects.filter(pk__in=resealed_per_account):
                record_event(
                    actor=operator_actor(account),
                    action="keyring.rotate",
                    target=account.principal,
                    details={"resealed_access_keys": resealed_per_account[account.pk], "key_version": newest},
                )
        total = sum(resealed_per_account.values())
        left = AccessKey.objects.exclude(sealed_secret__startswith=f"v{newest}$").count()
        self.stdout.write(f"Re-sealed {total} secrets with key version {newest}; {left} sealed with older keys remain.")
        if left:
            raise CommandError("Some secrets are still sealed with older keys.")
