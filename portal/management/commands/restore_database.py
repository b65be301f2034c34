from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.backup import BackupFailed, restore_database


class Command(BaseCommand):
    help = (
        "Replaces the database with a dump that backup_database wrote, then opens every sealed secret in it with "
        "PORTAL_KEYRING (verify_secrets). Stop the portal's servers and workers first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="a dump written by backup_database")
        parser.add_argument("--yes", action="store_true", help="do not ask before replacing the database")

    def handle(self, *args: object, **options: object) -> None:
        path = options["file"]
        assert isinstance(path, Path)
        if not options["yes"]:
            answer = input(f"Replace every row of the database with {path}? Type yes: ")
            if answer.strip() != "yes":
                raise CommandError("Nothing was changed.")
        try:
            restore_database(path)
        except BackupFailed as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"The database is as {path} holds it.")
        call_command("verify_secrets", stdout=self.stdout, stderr=self.stderr)
