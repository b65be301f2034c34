"""The one function that reads the permission matrix and decides."""

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from accounts.models import AccessKey, PrimaryAccount, User
from accounts.permissions import can_create_projects
from projects.matrix import MATRIX_INDEX, Channel, Dependency, MatrixRow, listed, role_label
from projects.models import CrossProjectAccess, Project
from projects.rights import role_sources, roles_in_projects


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    row: MatrixRow | None = None

    def __bool__(self) -> bool:
        return self.allowed


@dataclass
class PermissionCache:
    """The answers one page reuses however many questions it asks: a user's roles in a project, the roles that
    reach a project, and whether an account has an enabled AccessKey. A service asks afresh every time."""

    roles: dict[tuple[int, int], frozenset[str]] = field(default_factory=dict)
    reaching: dict[tuple[int, int], frozenset[str]] = field(default_factory=dict)
    account_keys: dict[int, bool] = field(default_factory=dict)


def _cached[K: Hashable, V](cache: dict[K, V] | None, key: K, compute: Callable[[], V]) -> V:
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def roles_in(user: User, project: Project, cache: PermissionCache | None = None) -> frozenset[str]:
    """The user's effective roles in the project: its own and its groups' (projects.rights)."""
    return _cached(
        cache.roles if cache is not None else None,
        (user.pk, project.pk),
        lambda: frozenset(role_sources(user, project)),
    )


def _roles_reaching(user: User, target: Project, cache: PermissionCache | None) -> frozenset[str]:
    """Roles the user holds (itself or through a group) in projects whose members the owner has authorised to reach
    `target`."""

    def compute() -> frozenset[str]:
        sources = CrossProjectAccess.objects.filter(target=target).values_list("source", flat=True)
        return roles_in_projects(user, sources)

    return _cached(cache.reaching if cache is not None else None, (user.pk, target.pk), compute)


def has_enabled_account_access_key(account: PrimaryAccount, cache: PermissionCache | None = None) -> bool:
    return _cached(
        cache.account_keys if cache is not None else None,
        account.pk,
        lambda: AccessKey.objects.filter(user=account.owner_id, status=AccessKey.Status.ACTIVE).exists(),
    )


def _role_words(roles: Iterable[str]) -> str:
    return listed(sorted(role_label(role) for role in roles))


def check_permission(
    principal: User, project: Project | None, operation: str, channel: str, *, cache: PermissionCache | None = None
) -> Decision:
    """Whether `principal` may perform `operation` in `project` through `channel`, and why (seed 002). The reason is
    worded in the active language: English for the signed APIs, the reader's on a page."""
    row = MATRIX_INDEX.get((operation, Channel(channel)))
    if row is None:
        return Decision(
            False, _("This operation is not offered through the %(channel)s channel.") % {"channel": channel}
        )
    if not row.is_supported:
        return Decision(
            False,
            _("%(operation)s is not supported through %(channel)s.")
            % {"operation": row.shown_description, "channel": row.shown_channel},
            row,
        )
    account = principal.account
    if project is not None and project.account_id != account.pk:
        return Decision(False, _("The project belongs to another account."), row)
    if principal.is_owner:
        if not row.owner:
            return Decision(
                False,
                _("Not supported for the Alibaba Cloud account through %(channel)s.") % {"channel": row.shown_channel},
                row,
            )
        granted = _("Allowed as the project owner.")
    else:
        if not row.ram_roles:
            return Decision(False, _("Only the project owner may do this; not supported for RAM users."), row)
        if project is None:
            # Creating a project: the RAM user needs the policy that lets it create projects.
            if not can_create_projects(principal):
                return Decision(False, _("Creating projects needs the AliyunDataWorksFullAccess policy."), row)
            granted = _("Allowed by the AliyunDataWorksFullAccess policy.")
        else:
            held = (
                _roles_reaching(principal, project, cache)
                if row.dependency == Dependency.OWNER_AUTHORIZES
                else roles_in(principal, project, cache)
            ) & row.ram_roles
            if not held:
                if row.dependency == Dependency.OWNER_AUTHORIZES:
                    return Decision(
                        False, _("The Alibaba Cloud account has not authorised your project to reach this one."), row
                    )
                return Decision(
                    False,
                    _("Needs one of these roles in %(project)s: %(roles)s.")
                    % {"project": project.name, "roles": _role_words(row.ram_roles)},
                    row,
                )
            granted = _("Allowed by the role %(roles)s.") % {"roles": _role_words(held)}
    if row.dependency == Dependency.ACCESS_KEY and not has_enabled_account_access_key(account, cache):
        return Decision(
            False,
            _("The AccessKey pair is not enabled for the Alibaba Cloud account, which this operation depends on."),
            row,
        )
    if row.dependency == Dependency.TICKET:
        granted = _("%(allowed)s The Python UDF function must be applied for with a ticket.") % {"allowed": granted}
    return Decision(True, granted, row)
