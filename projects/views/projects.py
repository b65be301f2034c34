"""Projects: the list with "Create Project", the project page with its owner-only settings, cross-project access
and deletion. Every refusal is the permission matrix's, through the services."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.gates import actor_of
from accounts.models import RamUser
from accounts.views.sign_in import add_errors
from projects.forms import (
    CANDIDATES_LIST_ID,
    AddMemberForm,
    CreateProjectForm,
    CrossProjectForm,
    DeleteProjectForm,
    ProjectSettingsForm,
    RevokeCrossProjectForm,
)
from projects.matrix import ROLE_LABELS, Channel, Role
from projects.models import Project
from projects.permissions import Decision, check_permission
from projects.services import (
    SETTING_OPERATIONS,
    authorize_cross_project,
    create_project,
    delete_project,
    ensure_allowed,
    revoke_cross_project,
    update_project_settings,
)

MEMBER_CANDIDATES_SHOWN = 100


def projects_of(request):
    """The projects the signed-in user may see; anything else answers like a missing project (404)."""
    return Project.objects.visible_to(request.user)


def project_or_404(request, pk: int) -> Project:
    return get_object_or_404(projects_of(request).select_related("account"), pk=pk)


def gate(request, project: Project, operation: str) -> None:
    """Refuses (403, with the matrix's reason) before any input is read."""
    ensure_allowed(actor_of(request), project, operation)


def project_list(request):
    decision = check_permission(request.user, None, "project_create_delete", Channel.CONSOLE)
    form = CreateProjectForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            project = create_project(actor=actor_of(request), **form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
            status = 403
        else:
            messages.success(request, f"The project {project.name} was created.")
            return redirect("projects:project-detail", pk=project.pk)
    projects = projects_of(request).annotate(member_count=Count("members")).order_by("name")
    page = Paginator(projects, settings.PORTAL_USERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "projects/project_list.html",
        {"page": page, "form": form, "create_decision": decision},
        status=status,
    )


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


def project_detail(request, pk):
    return project_page(request, project_or_404(request, pk))


@require_POST
def update_project_settings_view(request, pk):
    project = project_or_404(request, pk)
    decisions = setting_decisions(request.user, project)
    allowed_fields = {field for field, decision in decisions.items() if decision}
    if not allowed_fields:
        raise PermissionDenied(decisions["ip_whitelist"].reason)
    form = ProjectSettingsForm(request.POST, project=project, allowed_fields=allowed_fields)
    if form.is_valid():
        values = {field: form.cleaned_data[field] for field in allowed_fields}
        try:
            update_project_settings(actor=actor_of(request), project=project, values=values)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "The project settings were saved.")
            return redirect("projects:project-detail", pk=project.pk)
    return project_page(request, project, settings_form=form)


def owner_gate(request) -> None:
    # Cross-project access is the owner's to authorise, whatever roles a RAM user holds (SPEC §4.9).
    if not request.user.is_owner:
        raise PermissionDenied("Only the Alibaba Cloud account (the owner) authorises cross-project access.")


@require_POST
def authorize_cross_project_view(request, pk):
    project = project_or_404(request, pk)
    owner_gate(request)
    form = CrossProjectForm(request.POST, project=project)
    if form.is_valid():
        source = form.cleaned_data["source"]
        try:
            authorize_cross_project(actor=actor_of(request), source=source, target=project)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"The members of {source.name} may now reach {project.name}.")
            return redirect("projects:project-detail", pk=project.pk)
    return project_page(request, project, cross_form=form)


@require_POST
def revoke_cross_project_view(request, pk):
    project = project_or_404(request, pk)
    owner_gate(request)
    form = RevokeCrossProjectForm(request.POST)
    if not form.is_valid():
        raise Http404
    source = get_object_or_404(Project.objects.for_account(request.user.account), pk=form.cleaned_data["source"])
    revoke_cross_project(actor=actor_of(request), source=source, target=project)
    messages.success(request, f"The members of {source.name} may no longer reach {project.name}.")
    return redirect("projects:project-detail", pk=project.pk)


def delete_project_view(request, pk):
    project = project_or_404(request, pk)
    gate(request, project, "project_create_delete")
    form = DeleteProjectForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        delete_project(actor=actor_of(request), project=project)
        messages.success(request, f"The project {project.name} was deleted with its members and their roles.")
        return redirect("projects:project-list")
    return render(
        request,
        "projects/delete_project.html",
        {"form": form, "project": project, "member_count": project.members.count()},
    )
