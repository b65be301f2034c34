"""The services: every change to accounts, users and their credentials, each in its own transaction."""

from django.core.exceptions import ValidationError


def has_code(error: ValidationError, code: str) -> bool:
    """Whether a service refused for this reason (by its code, never by the wording of its message)."""
    if hasattr(error, "error_dict"):
        return any(item.code == code for items in error.error_dict.values() for item in items)
    return any(item.code == code for item in error.error_list)
