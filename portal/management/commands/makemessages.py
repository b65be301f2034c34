"""Django's makemessages, knowing which of the tree's files are the portal's (not the venv, the tests, the benchmarks
or what `make` installs), and able to look at some files only (`--only`) and to write elsewhere (`--into`): a
catalogue of those files' strings, which tests/portal/test_translations.py compares with the committed one."""

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.core.management.commands import makemessages

NOT_THE_PORTAL_S = [
    ".venv",
    "var",
    "tests",
    "benchmarks",
    "staticfiles",
    "test-artifacts",
    "deploy",
    "static",
    "locale",
]


class Command(makemessages.Command):
    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--only", nargs="+", default=None, help="Only these files (paths from the project).")
        parser.add_argument("--into", default=None, help="The locale directory to write, instead of locale/.")

    def handle(self, *args: Any, **options: Any) -> None:
        self.only = {str(Path(path)) for path in options["only"]} if options["only"] else None
        self.into = str(Path(options["into"]).resolve()) if options["into"] else None
        options["ignore_patterns"] = [*options["ignore_patterns"], *NOT_THE_PORTAL_S]
        options["add_location"] = options.get("add_location") or "file"  # (line numbers would change at every edit)
        super().handle(*args, **options)

    def find_files(self, root: str) -> list[Any]:
        files: list[Any] = super().find_files(root)
        if self.only is not None:
            files = [found for found in files if str(Path(found.path)) in self.only]
        if self.into is not None:
            Path(self.into).mkdir(parents=True, exist_ok=True)
            for found in files:
                found.locale_dir = self.into
            self.locale_paths = [self.into]
            self.default_locale_path = self.into
        return files
