"""Projects: the list with "Create Project", the project page with its owner-only settings, cross-project access
and deletion. Every refusal is the permission matrix's, through the services."""

from typing import cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from accounts.forms import ConfirmForm, add_errors, confirmation_page, posted
from accounts.gates import SignedInRequest, actor_of
from portal.paging import page_of
from projects.forms import (
    CreateProjectForm,
    CrossProjectForm,
    DeleteProjectForm,
    ProjectSettingsForm,
    RevokeCrossProjectForm,
)
from projects.matrix import Channel
from projects.models import Project
from projects.permissions import check_permission
from projects.project_page import gate, named_by, project_or_404, project_page, projects_of, setting_decisions
from projects.services import (
    ProjectSettings,
    authorize_cross_project,
    create_project,
    delete_project,
    revoke_cross_project,
    update_project_settings,
)


def project_list(request: SignedInRequest) -> HttpResponse:
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
            messages.success(request, _("The project %(name)s was created.") % {"name": project.name})
            return redirect("projects:project-detail", pk=project.pk)
    projects = projects_of(request).annotate(member_count=Count("members")).order_by("name")
    page = page_of(projects, request, list_name="projects")
    return render(
        request,
        "projects/project_list.html",
        {"page": page, "form": form, "create_decision": decision},
        status=status,
    )


def project_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    return project_page(request, project_or_404(request, pk))


@require_POST
def update_project_settings_view(request: SignedInRequest, pk: int) -> HttpResponse:
    project = project_or_404(request, pk)
    decisions = setting_decisions(request.user, project)
    allowed_fields = {field for field, decision in decisions.items() if decision}
    if not allowed_fields:
        raise PermissionDenied(decisions["ip_whitelist"].reason)
    form = ProjectSettingsForm(request.POST, project=project, allowed_fields=allowed_fields)
    if form.is_valid():
        # The form's fields are the settings, each cleaned to its type; the allowed ones are the ones given.
        values = cast(ProjectSettings, {field: form.cleaned_data[field] for field in allowed_fields})
        try:
            update_project_settings(actor=actor_of(request), project=project, values=values)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The project settings were saved."))
            return redirect("projects:project-detail", pk=project.pk)
    return project_page(request, project, settings_form=form)


def owner_gate(request: SignedInRequest) -> None:
    # Cross-project access is the owner's to authorise, whatever roles a RAM user holds (SPEC §4.9).
    if not request.user.is_owner:
        raise PermissionDenied(_("Only the Alibaba Cloud account (the owner) authorises cross-project access."))


@require_POST
def authorize_cross_project_view(request: SignedInRequest, pk: int) -> HttpResponse:
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
            messages.success(
                request,
                _("The members of %(source)s may now reach %(target)s.")
                % {"source": source.name, "target": project.name},
            )
            return redirect("projects:project-detail", pk=project.pk)
    return project_page(request, project, cross_form=form)


def revoke_cross_project_view(request: SignedInRequest, pk: int) -> HttpResponse:
    """ "Revoke" cross-project access: asks first, naming both projects."""
    project = project_or_404(request, pk)
    owner_gate(request)
    source_form = RevokeCrossProjectForm(named_by(request))
    if not source_form.is_valid():
        raise Http404
    accounts_projects = Project.objects.for_account(request.user.account)
    source = get_object_or_404(accounts_projects, pk=source_form.cleaned_data["source"])
    form = ConfirmForm(posted(request), expected=source.name)
    if form.is_valid():
        revoke_cross_project(actor=actor_of(request), source=source, target=project)
        messages.success(
            request,
            _("The members of %(source)s may no longer reach %(target)s.")
            % {"source": source.name, "target": project.name},
        )
        return redirect("projects:project-detail", pk=project.pk)
    return confirmation_page(
        request,
        form,
        title=_("Revoke access from %(source)s to %(target)s") % {"source": source.name, "target": project.name},
        consequences=[
            format_html(
                _("The members of <strong>{source}</strong> can no longer reach <strong>{target}</strong>, at once."),
                source=source.name,
                target=project.name,
            ),
            _("The owner can authorise it again."),
        ],
        submit_label=pgettext("revoke a role or an access", "Revoke"),
        cancel_url=reverse("projects:project-detail", args=[project.pk]),
        carried={"source": source.pk},
    )


def delete_project_view(request: SignedInRequest, pk: int) -> HttpResponse:
    project = project_or_404(request, pk)
    gate(request, project, "project_create_delete")
    form = DeleteProjectForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        delete_project(actor=actor_of(request), project=project)
        messages.success(
            request, _("The project %(name)s was deleted with its members and their roles.") % {"name": project.name}
        )
        return redirect("projects:project-list")
    return render(
        request,
        "projects/delete_project.html",
        {"form": form, "project": project, "member_count": project.members.count()},
    )
