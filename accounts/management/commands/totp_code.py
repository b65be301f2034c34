import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import TOTP

from accounts.models import Authenticator, User


class Command(BaseCommand):
    help = "Demo only: prints the current code of an owner's authenticator, for a newcomer without one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    def handle(self, *args: object, email: str, **options: object) -> None:
        if not settings.PORTAL_DEMO:
            raise CommandError("totp_code works only in the demo (PORTAL_DEMO=true).")
        user = User.objects.filter(email__iexact=email).first()
        device = Authenticator.objects.filter(user=user, confirmed=True).first() if user else None
        if device is None:
            raise CommandError(f"{email} has no confirmed authenticator.")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time()
        self.stdout.write(f"{totp.token():06d}")
