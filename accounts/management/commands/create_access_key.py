from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.actors import operator_actor
from accounts.models import PrimaryAccount, RamUser
from accounts.services.access_keys import issue_access_key
from accounts.services.packets import release_shown_secrets


class Command(BaseCommand):
    help = (
        "Issues an AccessKey for the primary account or one of its RAM users; prints the ID and the secret "
        "once, on standard output, and nothing else."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", required=True, help="the 16-digit account ID")
        parser.add_argument("--user", help="a RAM user's name; without it, the primary account's own key")

    def handle(self, *args: object, account: str, user: str | None, **options: object) -> None:
        primary = PrimaryAccount.objects.filter(account_id=account).select_related("owner").first()
        if primary is None:
            raise CommandError(f"There is no primary account {account}.")
        holder = primary.owner
        if user:
            ram_user = RamUser.objects.named(account=primary, name=user)
            if ram_user is None:
                raise CommandError(f"The account {account} has no RAM user named {user}.")
            holder = ram_user.user
        try:
            issued = issue_access_key(actor=operator_actor(primary), holder=holder, otp_code=None)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        if issued.packet is not None:
            # The secret leaves here, on standard output: the sealed copy must not leave again.
            release_shown_secrets(actor=operator_actor(primary), packet=issued.packet)
        self.stdout.write(f"{issued.access_key.access_key_id}\n{issued.secret}")
