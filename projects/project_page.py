"""The project page, and how project views reach a project: what both project view modules share."""

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from accounts.gates import actor_of
from accounts.models import RamUser
from projects.forms import CANDIDATES_LIST_ID, AddMemberForm, CrossProjectForm, ProjectSettingsForm
from projects.matrix import ROLE_LABELS, Channel, Role
from projects.models import Project
from projects.permissions import Decision, check_permission
from projects.services import SETTING_OPERATIONS, ensure_allowed

MEMBER_CANDIDATES_SHOWN = 100


def projects_of(request):
    """The projects the signed-in user may see; anything else answers like a missing project (404)."""
    return Project.objects.visible_to(request.user)


def project_or_404(request, pk: int) -> Project:
    return get_object_or_404(projects_of(request).select_related("account"), pk=pk)


def gate(request, project: Project, operation: str) -> None:
    """Refuses (403, with the matrix's reason) before any input is read."""
    ensure_allowed(actor_of(request), project, operation)


def setting_decisions(user, project: Project, cache: dict | None = None) -> dict[str, Decision]:
    """Each owner-reserved setting by its own row of the matrix."""
    return {
        field: check_permission(user, project, operation, Channel.CONSOLE, cache=cache)
        for field, operation in SETTING_OPERATIONS.items()
    }


def project_page(request, project: Project, **forms):
    """The project page; an action whose input was refused passes its bound form to show the errors beside."""
    user, cache = request.user, {}

    def decide(operation):
        return check_permission(user, project, operation, Channel.CONSOLE, cache=cache)

    manage = decide("member_management")
    settings_decisions = setting_decisions(user, project, cache)
    allowed_fields = {field for field, decision in settings_decisions.items() if decision}
    members = project.members.select_related("ram_user__account").prefetch_related("roles").order_by("ram_user__name")
    page = Paginator(members, settings.PORTAL_USERS_PER_PAGE).get_page(request.GET.get("page"))
    for member in page:
        held = [grant.role for grant in member.roles.all()]
        member.role_rows = [(role, ROLE_LABELS[Role(role)]) for role in held]
        member.grantable = [(role.value, ROLE_LABELS[role]) for role in Role if role.value not in held]
    context = {
        "project": project,
        "page": page,
        "can_manage_members": manage.allowed,
        "manage_decision": manage,
        "settings_decision": settings_decisions["ip_whitelist"],
        "settings_form": forms.get("settings_form")
        or (ProjectSettingsForm(project=project, allowed_fields=allowed_fields) if allowed_fields else None),
        "can_delete": decide("project_create_delete").allowed,
        "is_owner": user.is_owner,
        "candidates_list_id": CANDIDATES_LIST_ID,
    }
    if manage:
        context["add_form"] = forms.get("add_form") or AddMemberForm(project=project)
        context["candidates"] = (
            RamUser.objects.for_account(project.account)
            .exclude(project_memberships__project=project)
            .order_by("name")
            .values_list("name", flat=True)[:MEMBER_CANDIDATES_SHOWN]
        )
    if user.is_owner:
        context["incoming"] = project.incoming_access.select_related("source").order_by("source__name")
        context["outgoing"] = project.outgoing_access.select_related("target").order_by("target__name")
        context["cross_form"] = forms.get("cross_form") or CrossProjectForm(project=project)
    return render(request, "projects/project_detail.html", context)
