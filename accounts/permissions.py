"""Who may administer RAM: the owner, or RAM users holding the RAM policies (their own or through a group)."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import RamUser, User
from accounts.policies import SYSTEM_POLICIES_BY_NAME
from accounts.rights import effective_policy_names


def _granted_by_policy(user: User, capability: str) -> bool:
    """Whether one of the user's effective policies (its own or a group's) grants `capability`."""
    return any(getattr(SYSTEM_POLICIES_BY_NAME[name], capability) for name in effective_policy_names(user))


def can_read_ram(user: User) -> bool:
    return user.is_owner or _granted_by_policy(user, "can_read_ram")


def can_write_ram(user: User) -> bool:
    return user.is_owner or _granted_by_policy(user, "can_write_ram")


def can_create_projects(user: User) -> bool:
    return user.is_owner or _granted_by_policy(user, "can_create_projects")


def ensure_can_write_ram(actor: Actor) -> None:
    if actor.user is not None and not can_write_ram(actor.user):
        raise PermissionDenied(_("You are not allowed to change RAM users."))


def ensure_same_account(actor: Actor, ram_user: RamUser) -> None:
    if ram_user.account_id != actor.account.pk:
        raise PermissionDenied(_("This RAM user belongs to another account."))
