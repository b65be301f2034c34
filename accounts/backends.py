from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest

from accounts.models import User


class PortalBackend(BaseBackend):
    """Loads the signed-in user with what every page needs in one query.

    Passwords are checked by the sign-in services (with locking and timing care), not here.
    """

    def authenticate(self, request: HttpRequest | None, **credentials: object) -> None:
        return None

    def get_user(self, user_id: int) -> User | None:
        return (
            User.objects.select_related(
                "owned_account__security_settings",
                "ram_user__account__security_settings",
            )
            .filter(pk=user_id, is_active=True)
            .first()
        )
