from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import PrimaryAccount
from projects.user_import import read_import


class Command(BaseCommand):
    help = (
        "Checks a CSV file of people to import into a primary account with the console's rules (Import Users): "
        "every error by line and column, and what would be created. Nothing is written (--dry-run)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", required=True, help="the 16-digit account ID")
        parser.add_argument("file", type=Path, help="the CSV file (UTF-8, comma- or semicolon-separated)")
        parser.add_argument("--dry-run", action="store_true", help="check the file and write nothing")

    def handle(self, *args: Any, account: str, file: Path, dry_run: bool, **options: Any) -> None:
        if not dry_run:
            raise CommandError("Creating users from a file is not available yet: run with --dry-run to check it.")
        primary = PrimaryAccount.objects.filter(account_id=account).first()
        if primary is None:
            raise CommandError(f"There is no primary account {account}.")
        try:
            content = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        preview = read_import(content, primary)
        for problem in preview.errors:
            where = f"line {problem.line}" + (f", {problem.column}" if problem.column else "")
            self.stderr.write(f"{file}: {where}: {problem.message}")
        for label, count in preview.counts().items():
            self.stdout.write(f"{label}: {count}")
        if preview.errors:
            raise CommandError(f"{len(preview.errors)} errors on {preview.lines_with_errors} lines: nothing written.")
        self.stdout.write("The file is valid; nothing was written (--dry-run).")
