from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.actors import operator_actor
from accounts.models import PrimaryAccount
from projects.imports import report_csv, run_import, start_user_import
from projects.models import UserImport
from projects.user_import import read_import


class Command(BaseCommand):
    help = (
        "Imports a CSV file of people into a primary account with the console's rules (Import Users): every error by "
        "line and column first; then, unless --dry-run, the valid rows are created here with progress, and the "
        "report (no secrets) is written. Exit status 1 when any row has an error or fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", required=True, help="the 16-digit account ID")
        parser.add_argument("file", type=Path, help="the CSV file (UTF-8, comma- or semicolon-separated)")
        parser.add_argument("--dry-run", action="store_true", help="check the file and write nothing")
        parser.add_argument("--report", type=Path, help="where to write the result report (default: beside the file)")

    def handle(self, *args: Any, account: str, file: Path, dry_run: bool, report: Path | None, **options: Any) -> None:
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
        if dry_run:
            if preview.errors:
                raise CommandError(
                    f"{len(preview.errors)} errors on {preview.lines_with_errors} lines: nothing written."
                )
            self.stdout.write("The file is valid; nothing was written (--dry-run).")
            return
        try:
            job = start_user_import(actor=operator_actor(primary), preview=preview, file_name=file.name, enqueue=False)
        except (ValidationError, PermissionDenied) as error:
            raise CommandError(" ".join(getattr(error, "messages", [str(error)]))) from None
        job = run_import(str(job.uid), progress=self._progress)
        path = report or file.with_name(f"{file.stem}-report-{job.uid}.csv")
        path.write_text(report_csv(job), encoding="utf-8")
        self.stdout.write(f"Created {job.created} users; {job.failed} rows failed. Report: {path}")
        if job.failed or preview.errors:
            raise CommandError(f"{job.failed + preview.lines_with_errors} rows were not imported: see {path}.")

    def _progress(self, job: UserImport) -> None:
        self.stdout.write(f"{job.done}/{job.total} rows done")
