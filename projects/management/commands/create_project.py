from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.actors import operator_actor
from accounts.models import PrimaryAccount
from projects.services import create_project


class Command(BaseCommand):
    help = "Creates a project owned by a primary account (the same rules and audit event as the console)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", required=True, help="the 16-digit account ID")
        parser.add_argument("--name", required=True)
        parser.add_argument("--description", default="")

    def handle(self, *args: Any, account: str, name: str, description: str, **options: Any) -> None:
        primary = PrimaryAccount.objects.filter(account_id=account).first()
        if primary is None:
            raise CommandError(f"There is no primary account {account}.")
        try:
            project = create_project(actor=operator_actor(primary), name=name, description=description)
        except (ValidationError, PermissionDenied) as error:
            raise CommandError(" ".join(getattr(error, "messages", [str(error)]))) from None
        self.stdout.write(f"Created project {project.name} for account {account}.")
