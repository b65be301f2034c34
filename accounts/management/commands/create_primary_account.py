from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services.primary_accounts import create_primary_account
from portal.audit import Origin


class Command(BaseCommand):
    help = "Creates a primary account and its owner; prints the new account ID."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--name", default="")

    def handle(self, *args: object, email: str, password: str, name: str, **options: object) -> None:
        try:
            account = create_primary_account(
                email=email,
                password=password,
                name=name or email.split("@", maxsplit=1)[0],
                origin=Origin(channel="command"),
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(account.account_id)
