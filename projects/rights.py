"""A RAM user's effective project roles: its own (as a project member) and its groups'. The one place that computes
them (accounts.rights does the same for system policies); check_permission, the pages, the delivery sheets and both
APIs read them here, with where each comes from."""

from collections.abc import Iterable

from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Lower

from accounts.models import User
from accounts.rights import DIRECT, Sources
from projects.models import GroupRoleGrant, Project, ProjectMember, RoleGrant


def _role_rows(user: User, projects: Iterable[int] | None) -> list[tuple[int, str, str]]:
    """(project ID, role, source) of the user's roles, in the given projects or all; one query."""
    own = RoleGrant.objects.filter(member__ram_user__user=user)
    via_groups = GroupRoleGrant.objects.filter(group__memberships__ram_user__user=user)
    if projects is not None:  # IDs, or a query of them (then a subquery: still one query)
        own, via_groups = own.filter(member__project_id__in=projects), via_groups.filter(project_id__in=projects)
    rows = (
        own.annotate(project_ref=F("member__project_id"), source=Value(DIRECT, output_field=CharField()))
        .values_list("project_ref", "role", "source")
        .order_by()
    )  # (no ORDER BY inside a UNION)
    group_rows = (
        via_groups.annotate(project_ref=F("project_id"), source=F("group__name"))
        .values_list("project_ref", "role", "source")
        .order_by()
    )
    return list(rows.union(group_rows, all=True))


def _by_project(rows: Iterable[tuple[int, str, str]]) -> dict[int, dict[str, Sources]]:
    found: dict[int, dict[str, list[str]]] = {}
    for project_id, role, source in rows:
        found.setdefault(project_id, {}).setdefault(role, []).append(source)
    return {
        project_id: {role: tuple(sorted(sources)) for role, sources in sorted(roles.items())}
        for project_id, roles in found.items()
    }


def role_sources(user: User, project: Project) -> dict[str, Sources]:
    """The user's roles in `project` and where each comes from."""
    return _by_project(_role_rows(user, [project.pk])).get(project.pk, {})


def roles_in_projects(user: User, projects: Iterable[int]) -> frozenset[str]:
    """Every role the user holds in any of these projects (for what their members may reach)."""
    return frozenset(role for _, role, _ in _role_rows(user, projects))


def project_role_sources(user: User) -> list[tuple[Project, dict[str, Sources]]]:
    """Every project of the user's, by name: where it is a member (with roles or none yet) or one of its groups
    holds a role; with its roles there and where each comes from. Three queries."""
    by_project = _by_project(_role_rows(user, None))
    member_of = ProjectMember.objects.filter(ram_user__user=user).values_list("project_id", flat=True)
    projects = Project.objects.filter(Q(pk__in=list(by_project)) | Q(pk__in=member_of)).order_by(Lower("name"))
    return [(project, by_project.get(project.pk, {})) for project in projects]
