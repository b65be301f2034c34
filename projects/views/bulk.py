"""The Users table's "Add to project": the selection shown back with every name, a project and roles chosen,
then "Add Member" for each user, and the report of who joined and who was refused."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.bulk_reports import has_report, keep_report
from accounts.gates import SignedInRequest, actor_of, ram_writer_required
from accounts.services.bulk import refusal_text
from accounts.user_table import users_table_url
from projects.forms import AddMembersInBulkForm
from projects.project_page import projects_of
from projects.services import add_members_in_bulk


def _form(request: SignedInRequest) -> AddMembersInBulkForm:
    return AddMembersInBulkForm(request.POST, account=request.user.account, projects=projects_of(request))


def _page(request: SignedInRequest, form: AddMembersInBulkForm, *, status: int = 200) -> HttpResponse:
    return render(request, "projects/bulk_add_members.html", {"form": form, "ram_users": form.ram_users}, status=status)


@ram_writer_required
@require_POST
def confirm_bulk_add_members(request: SignedInRequest) -> HttpResponse:
    """From the Users table: the selection, for choosing the project and roles; the project is not asked for yet."""
    form = _form(request)
    form.is_valid()
    if form.non_field_errors() or not form.ram_users:
        for error in form.non_field_errors():
            messages.error(request, str(error))
        return redirect(users_table_url(form.data.get("filters", "")))
    form.errors.pop("project", None)  # chosen on this page
    return _page(request, form)


@ram_writer_required
@require_POST
def apply_bulk_add_members(request: SignedInRequest) -> HttpResponse:
    form = _form(request)
    if not form.is_valid():
        return _page(request, form, status=400)
    token = form.cleaned_data["form_token"]
    if has_report(request.session, token):
        return redirect("accounts:bulk-action-report", token=token)
    project = form.chosen_project()
    try:
        outcomes = add_members_in_bulk(
            actor=actor_of(request), project=project, ram_users=form.ram_users, roles=form.cleaned_data["roles"]
        )
    except (ValidationError, PermissionDenied) as refusal:
        form.add_error(None, refusal_text(refusal))
        return _page(request, form, status=403 if isinstance(refusal, PermissionDenied) else 400)
    keep_report(
        request.session,
        token=token,
        label=_("Add to project %(name)s") % {"name": project.name},
        outcomes=outcomes,
    )
    return redirect("accounts:bulk-action-report", token=token)
