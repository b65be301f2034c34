"""Project facts on accounts' pages (the delete page, the credential page, the API page), which may not import
projects."""

from django import template
from django.template import Context

from accounts.models import Group, RamUser, User
from projects.abilities import abilities_of, labelled
from projects.forms import GroupRolesForm, RevokeAndDeleteUserForm
from projects.matrix import role_label
from projects.models import GroupRoleGrant, Project, ProjectMember
from projects.project_page import manageable_projects
from projects.services import memberships_of

register = template.Library()


@register.simple_tag
def first_project_name(user: User) -> str:
    """The first project (by name) the user may see, for the examples; empty when there is none."""
    return Project.objects.visible_to(user).order_by("name").values_list("name", flat=True).first() or ""


@register.simple_tag
def has_project_memberships(ram_user: RamUser) -> bool:
    """Whether the user is still in a project: then only the one action below can delete it."""
    return ProjectMember.objects.filter(ram_user=ram_user).exists()


@register.inclusion_tag("projects/_memberships.html", takes_context=True)
def project_memberships(context: Context, ram_user: RamUser) -> dict[str, object]:
    """The user's projects and roles, and the action that revokes them all and deletes the user."""
    memberships = sorted(memberships_of(ram_user), key=lambda membership: membership[0].name.lower())
    return {
        "ram_user": ram_user,
        "memberships": [(project, labelled(roles)) for project, roles in memberships],
        # A refused attempt comes back with its bound form, errors beside the fields.
        "form": context.get("revoke_and_delete_form") or RevokeAndDeleteUserForm(ram_user=ram_user),
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }


@register.inclusion_tag("projects/_my_projects.html")
def my_projects(user: User, own: bool = True) -> dict[str, object]:
    """A RAM user's projects, its roles in each, and what the matrix lets it do there, per channel; `own` when
    the user reads about itself (on its credential page), else worded for an administrator (the user's page)."""
    if user.is_owner:
        return {"projects": [], "own": own}
    return {"projects": abilities_of(user.ram_user), "own": own}


@register.inclusion_tag("projects/_group_project_roles.html", takes_context=True)
def group_project_roles(context: Context, group: Group, can_write: bool = False) -> dict[str, object]:
    """A group's roles in each project (every member holds them there), with "Revoke" and the form that grants more
    in the projects whose members the viewer may manage."""
    by_project: dict[Project, list[tuple[str, str]]] = {}
    for grant in GroupRoleGrant.objects.filter(group=group).select_related("project").order_by("project__name", "role"):
        by_project.setdefault(grant.project, []).append((grant.role, role_label(grant.role)))
    request = context.get("request")
    projects = manageable_projects(request.user) if can_write and request is not None else Project.objects.none()
    return {
        "group": group,
        "project_roles": list(by_project.items()),
        "form": GroupRolesForm(projects=projects) if projects.exists() else None,
        "can_write": can_write,
        "csrf_token": context.get("csrf_token"),
    }
