from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from accounts.models import User
from accounts.services.otp import new_authenticator
from accounts.services.primary_accounts import create_primary_account
from portal.audit import Origin

DEMO_EMAIL = "owner@demo.example"
DEMO_PASSWORD = "Blue-Harbour-Lantern-2026"
# As the README gives it too: pasted into a second terminal of a fresh clone, it prints the demo owner's current code.
TOTP_CODE_COMMAND = f"PORTAL_DEMO=true .venv/bin/python manage.py totp_code {DEMO_EMAIL}"


class Command(BaseCommand):
    help = "Demo only: creates the demo primary account (once) with an authenticator, and says how to sign in."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.PORTAL_DEMO:
            raise CommandError("demo_setup works only in the demo (PORTAL_DEMO=true).")
        owner = User.objects.filter(email=DEMO_EMAIL).first()
        if owner is None:
            account = create_primary_account(
                email=DEMO_EMAIL, password=DEMO_PASSWORD, name="Demo", origin=Origin(channel="command")
            )
            owner = account.owner
            # The demo owner's authenticator exists from the start so that `totp_code` can print its codes.
            new_authenticator(user=owner, name="Demo authenticator", confirmed=True)
        self.stdout.write(
            f"\nDemo portal: {settings.PORTAL_BASE_URL}/\n"
            f"  sign in:  {settings.PORTAL_BASE_URL}{reverse('accounts:owner-sign-in')}\n"
            f"  email:    {DEMO_EMAIL}\n"
            f"  password: {DEMO_PASSWORD}\n"
            f"  code:     {TOTP_CODE_COMMAND}   (in another terminal)\n"
            f"  RAM users sign in at {owner.owned_account.logon_link}\n"
        )
