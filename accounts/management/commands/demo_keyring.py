from django.conf import settings
from django.core.management.base import BaseCommand

from portal.keyring import new_key_entry


class Command(BaseCommand):
    help = "Demo only: writes a keyring for secrets at rest into an ignored file, unless one is configured."
    requires_system_checks = []  # it creates what the checks look for

    def handle(self, *args: object, **options: object) -> None:
        if settings.PORTAL_KEYRING:
            return
        path = settings.PORTAL_KEYRING_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new_key_entry(1) + "\n")
        path.chmod(0o600)
        self.stdout.write(
            f"Generated a demo keyring in {path} (git-ignored). In production, set PORTAL_KEYRING in the "
            "environment instead; rotate with `manage.py rotate_secret_keys`."
        )
