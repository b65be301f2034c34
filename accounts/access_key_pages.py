"""The AccessKey pages of the three kinds of key holder, named in one table: a RAM user's (administrators), the
primary account's (its owner) and the signed-in RAM user's own. The URLs, the key panels of the pages that list
keys, and the key views all read it."""

from django.conf import settings
from django.urls import reverse

from accounts.audit_text import actor_label
from accounts.models import AccessKey, User

RAM_USER, ACCOUNT, ME = "ram-user", "account", "me"

# The three holders' key pages differ only in where they hang and what their URL names say.
SCOPE_URLS = {RAM_USER: ("users/<int:pk>/", ""), ME: ("me/", "my-"), ACCOUNT: ("account/", "account-")}
KEY_ACTIONS = ("enable", "disable", "delete")


def key_url_name(scope: str, verb: str) -> str:
    return f"{verb}-{SCOPE_URLS[scope][1]}access-key"


def access_key_panel(holder: User, scope: str, pk: int | None = None) -> dict[str, object]:
    """What the AccessKey panel of a page shows: the keys with their action URLs, and whether more fit."""
    holder_args = [pk] if pk is not None else []
    keys = list(AccessKey.objects.of_user(holder))
    return {
        "create_url": reverse(f"accounts:{key_url_name(scope, 'create')}", args=holder_args),
        "can_create": len(keys) < settings.PORTAL_MAX_ACCESS_KEYS_PER_USER,
        "limit": settings.PORTAL_MAX_ACCESS_KEYS_PER_USER,
        "needs_otp": scope == ACCOUNT,
        "rows": [
            {"key": key, "created_by": actor_label(key.created_by)}  # ("operator" in the page's language)
            | {
                f"{verb}_url": reverse(f"accounts:{key_url_name(scope, verb)}", args=[*holder_args, key.access_key_id])
                for verb in KEY_ACTIONS
            }
            for key in keys
        ],
    }
