from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from portal.keyring import parse_keyring


@checks.register(checks.Tags.security)
def check_keyring(app_configs, **kwargs):
    """A missing or malformed keyring stops start-up, not the first request that needs a secret."""
    try:
        parse_keyring(settings.PORTAL_KEYRING)
    except ImproperlyConfigured as error:
        return [
            checks.Error(
                str(error),
                hint="Set PORTAL_KEYRING in the environment (or run `manage.py demo_keyring` for the demo).",
                id="portal.E001",
            )
        ]
    return []
