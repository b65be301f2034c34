from django.utils.functional import SimpleLazyObject

from accounts.permissions import can_read_ram, can_write_ram


def navigation(request):
    """What the navigation may offer the signed-in user, computed only if a template asks."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav": SimpleLazyObject(lambda: {"can_read_ram": can_read_ram(user), "can_write_ram": can_write_ram(user)})}
