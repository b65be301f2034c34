from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.backup import BackupFailed, dump_database


class Command(BaseCommand):
    help = (
        "Writes the whole database to one file (pg_dump's custom format on PostgreSQL, an SQLite copy on SQLite). "
        "Its secrets stay sealed: keep PORTAL_KEYRING apart from it, and both to restore."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="where the dump goes (an existing file is refused)")

    def handle(self, *args: object, **options: object) -> None:
        path = options["file"]
        assert isinstance(path, Path)
        if path.exists():
            raise CommandError(f"{path} exists already: name a new file.")
        try:
            dump_database(path)
        except BackupFailed as error:
            path.unlink(missing_ok=True)
            raise CommandError(str(error)) from None
        path.chmod(0o600)
        self.stdout.write(f"The database is in {path} ({path.stat().st_size:,} bytes).")
