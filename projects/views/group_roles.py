"""A group's project roles, granted and revoked from the group's page: each member of the group holds them in the
project for as long as it is in the group (projects.rights)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_POST

from accounts.forms import ConfirmForm, confirmation_page, posted
from accounts.gates import SignedInRequest, actor_of, ram_writer_required
from accounts.models import Group
from projects.forms import GroupRolesForm
from projects.matrix import listed, role_label
from projects.models import GroupRoleGrant
from projects.project_page import manageable_projects, named_by
from projects.services import grant_group_roles, revoke_group_roles


def group_or_404(request: SignedInRequest, pk: int) -> Group:
    return get_object_or_404(Group.objects.filter(account=request.user.account), pk=pk)


def group_url(group: Group) -> str:
    return reverse("accounts:group-detail", args=[group.pk]) + "#project-roles"


@ram_writer_required
@require_POST
def grant_group_roles_view(request: SignedInRequest, group_pk: int) -> HttpResponse:
    group = group_or_404(request, group_pk)
    form = GroupRolesForm(request.POST, projects=manageable_projects(request.user))
    if not form.is_valid():
        for field in form:
            for error in field.errors:
                messages.error(request, _("%(field)s: %(error)s") % {"field": field.label, "error": error})
        return redirect(group_url(group))
    project = form.cleaned_data["project"]
    try:
        granted = grant_group_roles(
            actor=actor_of(request), project=project, group=group, roles=form.cleaned_data["roles"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if granted:
            messages.success(
                request,
                _("%(group)s now holds %(roles)s in %(project)s.")
                % {
                    "group": group.name,
                    "roles": listed(granted),
                    "project": project.name,
                },
            )
        else:
            messages.info(
                request,
                _("%(group)s already held those roles in %(project)s.")
                % {"group": group.name, "project": project.name},
            )
    return redirect(group_url(group))


@ram_writer_required
def revoke_group_role_view(request: SignedInRequest, group_pk: int) -> HttpResponse:
    """ "Revoke" one of the group's roles in a project, from all its members at once."""
    group = group_or_404(request, group_pk)
    named = named_by(request)
    grant = (
        GroupRoleGrant.objects.filter(group=group, project_id=named.get("project", ""), role=named.get("role", ""))
        .select_related("project")
        .first()
        if named.get("project", "").isdigit()
        else None
    )
    if grant is None:
        raise Http404
    project, role = grant.project, grant.role
    form = ConfirmForm(posted(request), expected=f"{project.name}:{role}")
    if form.is_valid():
        try:
            revoke_group_roles(actor=actor_of(request), project=project, group=group, roles=[role])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("%(role)s in %(project)s was revoked from %(group)s.")
                % {"role": role, "project": project.name, "group": group.name},
            )
        return redirect(group_url(group))
    members = group.memberships.count()
    return confirmation_page(
        request,
        form,
        title=_("Revoke %(role)s in %(project)s from the group %(group)s")
        % {"role": role, "project": project.name, "group": group.name},
        consequences=[
            ngettext(
                "Its %(count)s member loses the role %(label)s in %(project)s, unless they hold it themselves or "
                "through another group.",
                "Its %(count)s members lose the role %(label)s in %(project)s, unless they hold it themselves or "
                "through another group.",
                members,
            )
            % {"count": members, "label": role_label(role), "project": project.name},
        ],
        submit_label=pgettext("revoke a role or an access", "Revoke"),
        cancel_url=group_url(group),
        carried={"project": project.pk, "role": role},
    )
