from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from portal.keyring import parse_keyring

HINT = "Set PORTAL_KEYRING in the environment (or run `manage.py demo_keyring` for the demo)."


@checks.register(checks.Tags.security)
def check_keyring(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A missing or malformed keyring stops start-up, not the first request that needs a secret.

    In development (DEBUG on) a keyring that is simply not set yet is a warning, so that commands which need
    no secret (makemigrations, check) work in a bare checkout; a malformed one is an error everywhere.
    """
    try:
        parse_keyring(settings.PORTAL_KEYRING)
    except ImproperlyConfigured as error:
        if settings.DEBUG and not (settings.PORTAL_KEYRING or "").strip():
            message = f"{error} Nothing can be sealed or opened until it is."
            return [checks.Warning(message, hint=HINT, id="portal.W001")]
        return [checks.Error(str(error), hint=HINT, id="portal.E001")]
    return []


@checks.register()
def check_compiled_catalogues(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A translation that is not compiled, or older than its catalogue, leaves its pages in English without a word:
    say so at start-up (`make` compiles them)."""
    stale = []
    for folder in settings.LOCALE_PATHS:
        for catalogue in Path(str(folder)).glob("*/LC_MESSAGES/*.po"):
            compiled = catalogue.with_suffix(".mo")
            if not compiled.exists() or compiled.stat().st_mtime < catalogue.stat().st_mtime:
                stale.append(str(catalogue))
    if not stale:
        return []
    message = f"Translations not compiled, or older than their catalogues: {', '.join(sorted(stale))}."
    return [checks.Warning(message, hint="Run `make messages` (GNU gettext's msgfmt).", id="portal.W002")]
