"""Who may administer RAM: the owner, or RAM users holding the RAM policies."""

from accounts.models import PolicyAttachment, User
from accounts.policies import SYSTEM_POLICIES_BY_NAME


def attached_policy_names(user: User) -> frozenset[str]:
    if user.is_owner:
        return frozenset()
    # Cached on the instance: one query per request however many checks a page makes.
    if not hasattr(user, "_attached_policy_names"):
        user._attached_policy_names = frozenset(
            PolicyAttachment.objects.filter(ram_user__user=user).values_list("policy_name", flat=True)
        )
    return user._attached_policy_names


def _granted_by_policy(user: User, capability: str) -> bool:
    return any(getattr(SYSTEM_POLICIES_BY_NAME[name], capability) for name in attached_policy_names(user))


def can_read_ram(user: User) -> bool:
    return user.is_owner or _granted_by_policy(user, "can_read_ram")


def can_write_ram(user: User) -> bool:
    return user.is_owner or _granted_by_policy(user, "can_write_ram")


def can_create_projects(user: User) -> bool:
    return user.is_owner or _granted_by_policy(user, "can_create_projects")
