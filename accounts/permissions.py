"""Who may administer RAM: the owner, or RAM users holding the RAM policies."""

from django.core.exceptions import PermissionDenied

from accounts.actors import Actor
from accounts.models import PolicyAttachment, RamUser, User
from accounts.policies import SYSTEM_POLICIES_BY_NAME

_POLICY_NAMES_CACHE = "_attached_policy_names"


def attached_policy_names(user: User) -> frozenset[str]:
    if user.is_owner:
        return frozenset()
    # Cached on the instance: one query per request however many checks a page makes. (The model does not declare
    # the attribute: it is this module's cache, so it is read and written by name.)
    cached: frozenset[str] | None = getattr(user, _POLICY_NAMES_CACHE, None)
    if cached is None:
        cached = frozenset(PolicyAttachment.objects.filter(ram_user__user=user).values_list("policy_name", flat=True))
        setattr(user, _POLICY_NAMES_CACHE, cached)
    return cached


def _granted_by_policy(user: User, capability: str) -> bool:
    return any(getattr(SYSTEM_POLICIES_BY_NAME[name], capability) for name in attached_policy_names(user))


def can_read_ram(user: User) -> bool:
    return user.is_owner or _granted_by_policy(user, "can_read_ram")


def can_write_ram(user: User) -> bool:
    return user.is_owner or _granted_by_policy(user, "can_write_ram")


def can_create_projects(user: User) -> bool:
    return user.is_owner or _granted_by_policy(user, "can_create_projects")


def ensure_can_write_ram(actor: Actor) -> None:
    if actor.user is not None and not can_write_ram(actor.user):
        raise PermissionDenied("You are not allowed to change RAM users.")


def ensure_same_account(actor: Actor, ram_user: RamUser) -> None:
    if ram_user.account_id != actor.account.pk:
        raise PermissionDenied("This RAM user belongs to another account.")
