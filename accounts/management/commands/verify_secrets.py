from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from accounts.checks import every_row, sealed_kinds
from portal.keyring import SecretUnreadable, keyring

SHOWN = 10  # failures named one by one; the rest are counted


class Command(BaseCommand):
    help = (
        "Opens every sealed secret in the database (AccessKey secrets, TOTP seeds, delivery packets, secrets waiting "
        "for their one-time page or in imports) with PORTAL_KEYRING: after a restore, before the portal serves it."
    )

    def handle(self, *args: object, **options: object) -> None:
        try:
            ring = keyring()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        opened, failures = 0, []
        for rows, open_one, name in sealed_kinds(ring, set(connection.introspection.table_names()), every_row):
            for row in rows:
                try:
                    open_one(row)
                    opened += 1
                except SecretUnreadable as error:
                    failures.append(f"The keyring cannot open {name(row)}: {error}")
        if failures:
            more = len(failures) - SHOWN
            listed = "\n".join(failures[:SHOWN]) + (f"\n… and {more} more." if more > 0 else "")
            raise CommandError(
                f"{len(failures)} of {opened + len(failures)} sealed secrets do not open with PORTAL_KEYRING:\n{listed}"
            )
        self.stdout.write(f"Every sealed secret opens with PORTAL_KEYRING ({opened:,} opened).")
