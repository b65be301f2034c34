"""The one function that reads the permission matrix and decides."""

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

from accounts.models import AccessKey, PrimaryAccount, User
from accounts.permissions import can_create_projects
from projects.matrix import MATRIX_INDEX, ROLE_LABELS, Channel, Dependency, MatrixRow, Role
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
    return ", ".join(sorted(ROLE_LABELS[Role(role)] for role in roles))


def check_permission(
    principal: User, project: Project | None, operation: str, channel: str, *, cache: PermissionCache | None = None
) -> Decision:
    """Whether `principal` may perform `operation` in `project` through `channel`, and why (seed 002)."""
    row = MATRIX_INDEX.get((operation, Channel(channel)))
    if row is None:
        return Decision(False, f"This operation is not offered through the {channel} channel.")
    if not row.is_supported:
        return Decision(False, f"{row.description} is not supported through {row.channel_label}.", row)
    account = principal.account
    if project is not None and project.account_id != account.pk:
        return Decision(False, "The project belongs to another account.", row)
    if principal.is_owner:
        if not row.owner:
            return Decision(False, f"Not supported for the Alibaba Cloud account through {row.channel_label}.", row)
        granted = "Allowed as the project owner."
    else:
        if not row.ram_roles:
            return Decision(False, "Only the project owner may do this; not supported for RAM users.", row)
        if project is None:
            # Creating a project: the RAM user needs the policy that lets it create projects.
            if not can_create_projects(principal):
                return Decision(False, "Creating projects needs the AliyunDataWorksFullAccess policy.", row)
            granted = "Allowed by the AliyunDataWorksFullAccess policy."
        else:
            held = (
                _roles_reaching(principal, project, cache)
                if row.dependency == Dependency.OWNER_AUTHORIZES
                else roles_in(principal, project, cache)
            ) & row.ram_roles
            if not held:
                if row.dependency == Dependency.OWNER_AUTHORIZES:
                    return Decision(
                        False, "The Alibaba Cloud account has not authorised your project to reach this one.", row
                    )
                return Decision(
                    False, f"Needs one of these roles in {project.name}: {_role_words(row.ram_roles)}.", row
                )
            granted = f"Allowed by the role {_role_words(held)}."
    if row.dependency == Dependency.ACCESS_KEY and not has_enabled_account_access_key(account, cache):
        return Decision(
            False,
            "The AccessKey pair is not enabled for the Alibaba Cloud account, which this operation depends on.",
            row,
        )
    if row.dependency == Dependency.TICKET:
        granted += " The Python UDF function must be applied for with a ticket."
    return Decision(True, granted, row)
