from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from accounts.models import User
from accounts.permissions import can_read_ram, can_write_ram


def navigation(request: HttpRequest) -> dict[str, object]:
    """What the navigation may offer the signed-in user, computed only if a template asks."""
    user = getattr(request, "user", None)
    # Anyone signed in is an accounts.User (the one user model); anonymous visitors and requests without a user
    # get no navigation.
    if not isinstance(user, User):
        return {}
    return {"nav": SimpleLazyObject(lambda: {"can_read_ram": can_read_ram(user), "can_write_ram": can_write_ram(user)})}
