"""The project page, and how project views reach a project: what both project view modules share."""

from dataclasses import dataclass

from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render

from accounts.gates import SignedInRequest, actor_of
from accounts.models import RamUser, User
from portal.paging import page_of
from projects.forms import CANDIDATES_LIST_ID, AddMemberForm, CrossProjectForm, ProjectSettingsForm
from projects.matrix import Channel, Role, role_label
from projects.models import Project, ProjectMember, ProjectQuerySet
from projects.permissions import Decision, PermissionCache, check_permission
from projects.services import SETTING_OPERATIONS, ensure_allowed

MEMBER_CANDIDATES_SHOWN = 100


@dataclass(frozen=True)
class MemberRow:
    """A member as the members table shows it: the roles it holds and the ones it could still be granted, each as
    (role, label)."""

    member: ProjectMember
    role_rows: list[tuple[str, str]]
    grantable: list[tuple[str, str]]

    @classmethod
    def of(cls, member: ProjectMember) -> "MemberRow":
        held = [grant.role for grant in member.roles.all()]
        return cls(
            member=member,
            role_rows=[(role, role_label(role)) for role in held],
            grantable=[(role.value, role_label(role)) for role in Role if role.value not in held],
        )


def manageable_projects(user: User) -> ProjectQuerySet:
    """The projects whose members (and groups' roles) `user` may manage, by the matrix."""
    cache = PermissionCache()
    projects = Project.objects.visible_to(user)
    allowed = [
        project.pk
        for project in projects
        if check_permission(user, project, "member_management", Channel.CONSOLE, cache=cache)
    ]
    return Project.objects.filter(pk__in=allowed)


def projects_of(request: SignedInRequest) -> ProjectQuerySet:
    """The projects the signed-in user may see; anything else answers like a missing project (404)."""
    return Project.objects.visible_to(request.user)


def project_or_404(request: SignedInRequest, pk: int) -> Project:
    return get_object_or_404(projects_of(request).select_related("account"), pk=pk)


def named_by(request: SignedInRequest) -> QueryDict:
    """What names an action's target: the row's form (POST), or the link to the action's confirmation page (GET)."""
    return request.POST if request.method == "POST" else request.GET


def gate(request: SignedInRequest, project: Project, operation: str) -> None:
    """Refuses (403, with the matrix's reason) before any input is read."""
    ensure_allowed(actor_of(request), project, operation)


def setting_decisions(user: User, project: Project, cache: PermissionCache | None = None) -> dict[str, Decision]:
    """Each owner-reserved setting by its own row of the matrix."""
    return {
        field: check_permission(user, project, operation, Channel.CONSOLE, cache=cache)
        for field, operation in SETTING_OPERATIONS.items()
    }


def project_page(
    request: SignedInRequest,
    project: Project,
    *,
    settings_form: ProjectSettingsForm | None = None,
    add_form: AddMemberForm | None = None,
    cross_form: CrossProjectForm | None = None,
) -> HttpResponse:
    """The project page; an action whose input was refused passes its bound form to show the errors beside."""
    user, cache = request.user, PermissionCache()

    def decide(operation: str) -> Decision:
        return check_permission(user, project, operation, Channel.CONSOLE, cache=cache)

    manage = decide("member_management")
    settings_decisions = setting_decisions(user, project, cache)
    allowed_fields = {field for field, decision in settings_decisions.items() if decision}
    members = project.members.select_related("ram_user__account").prefetch_related("roles").order_by("ram_user__name")
    page = page_of(members, request, list_name="members")
    context: dict[str, object] = {
        "project": project,
        "page": page,
        "member_rows": [MemberRow.of(member) for member in page],
        "can_manage_members": manage.allowed,
        "manage_decision": manage,
        "settings_decision": settings_decisions["ip_whitelist"],
        "settings_form": settings_form
        or (ProjectSettingsForm(project=project, allowed_fields=allowed_fields) if allowed_fields else None),
        "can_delete": decide("project_create_delete").allowed,
        "is_owner": user.is_owner,
        "candidates_list_id": CANDIDATES_LIST_ID,
    }
    if manage:
        context["add_form"] = add_form or AddMemberForm(project=project)
        context["candidates"] = (
            RamUser.objects.for_account(project.account)
            .exclude(project_memberships__project=project)
            .order_by("name")
            .values_list("name", flat=True)[:MEMBER_CANDIDATES_SHOWN]
        )
    if user.is_owner:
        context["incoming"] = project.incoming_access.select_related("source").order_by("source__name")
        context["outgoing"] = project.outgoing_access.select_related("target").order_by("target__name")
        context["cross_form"] = cross_form or CrossProjectForm(project=project)
    return render(request, "projects/project_detail.html", context)
