"""Project members: "Add Member", grant a role, "Revoke" a role, remove a member; and the one action that
revokes a RAM user's every role, removes it from every project and deletes it."""

from typing import Protocol

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from accounts.forms import ConfirmForm, DeleteRamUserForm, add_errors, confirmation_page, posted
from accounts.gates import SignedInRequest, actor_of, ram_writer_required
from accounts.models import AccessKey, RamUser
from projects.forms import AddMemberForm, MemberForm, MemberRoleForm, RevokeAndDeleteUserForm
from projects.matrix import listed, role_label
from projects.models import Project, RoleGrant
from projects.project_page import gate, named_by, project_or_404, project_page
from projects.services import add_member, grant_roles, remove_member, revoke_everything_and_delete_user, revoke_roles

MEMBER_MANAGEMENT = "member_management"
NO_ROLE = gettext_lazy("Choose one of the project roles.")


class RoleChange(Protocol):
    """`grant_roles` or `revoke_roles`: changes roles of a member, returns the ones it changed."""

    def __call__(self, *, actor: Actor, project: Project, ram_user: RamUser, roles: list[str]) -> list[str]: ...


def members_url(project: Project) -> str:
    return reverse("projects:project-detail", args=[project.pk]) + "#members"


def member_or_404(project: Project, form: MemberForm) -> RamUser:
    # Only a member of this very project: another project's member or another account's user is "missing".
    form.is_valid()
    if "ram_user" not in form.cleaned_data:
        raise Http404
    return get_object_or_404(
        RamUser.objects.filter(project_memberships__project=project).select_related("account"),
        pk=form.cleaned_data["ram_user"],
    )


def member_and_role(request: SignedInRequest, project: Project) -> tuple[RamUser, str | None]:
    """The member and the role a row's form (or the link to a confirmation page) names; None for no project role."""
    form = MemberRoleForm(named_by(request))
    ram_user = member_or_404(project, form)
    return ram_user, None if "role" in form.errors else form.cleaned_data["role"]


def change_role(
    request: SignedInRequest,
    project: Project,
    ram_user: RamUser,
    role: str,
    change: RoleChange,
    *,
    done: str,
    unchanged: str,
) -> HttpResponse:
    """Grants or revokes ("Revoke") one role of a member; says what happened, or why not, in a message (`done` and
    `unchanged` name `%(role)s`, `%(principal)s` and `%(project)s`)."""
    try:
        changed = change(actor=actor_of(request), project=project, ram_user=ram_user, roles=[role])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        words = {"role": role, "principal": ram_user.principal, "project": project.name}
        if changed:
            messages.success(request, done % words)
        else:
            messages.info(request, unchanged % words)
    return redirect(members_url(project))


@require_POST
def add_member_view(request: SignedInRequest, pk: int) -> HttpResponse:
    project = project_or_404(request, pk)
    gate(request, project, MEMBER_MANAGEMENT)
    form = AddMemberForm(request.POST, project=project)
    if form.is_valid():
        ram_user = form.cleaned_data["ram_user"]
        try:
            add_member(actor=actor_of(request), project=project, ram_user=ram_user, roles=form.cleaned_data["roles"])
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("%(principal)s was added to %(project)s.")
                % {"principal": ram_user.principal, "project": project.name},
            )
            return redirect(members_url(project))
    return project_page(request, project, add_form=form)


@require_POST
def grant_role_view(request: SignedInRequest, pk: int) -> HttpResponse:
    project = project_or_404(request, pk)
    gate(request, project, MEMBER_MANAGEMENT)
    ram_user, role = member_and_role(request, project)
    if role is None:
        messages.error(request, NO_ROLE)
        return redirect(members_url(project))
    return change_role(
        request,
        project,
        ram_user,
        role,
        grant_roles,
        done=_("%(principal)s now has %(role)s in %(project)s."),
        unchanged=_("%(principal)s already had %(role)s in %(project)s."),
    )


def revoke_role_view(request: SignedInRequest, pk: int) -> HttpResponse:
    """ "Revoke" a role: asks first, naming the role, the member and the project."""
    project = project_or_404(request, pk)
    gate(request, project, MEMBER_MANAGEMENT)
    ram_user, role = member_and_role(request, project)
    if role is None:
        messages.error(request, NO_ROLE)
        return redirect(members_url(project))
    form = ConfirmForm(posted(request), expected=role)
    if form.is_valid():
        return change_role(
            request,
            project,
            ram_user,
            role,
            revoke_roles,
            done=_("%(role)s was revoked from %(principal)s in %(project)s."),
            unchanged=_("%(principal)s did not hold %(role)s in %(project)s."),
        )
    return confirmation_page(
        request,
        form,
        title=_("Revoke %(role)s from %(user)s") % {"role": role, "user": ram_user.name},
        consequences=[
            format_html(
                _(
                    "<code>{principal}</code> loses the role <code>{role}</code> ({label}) in "
                    "<strong>{project}</strong> at once, with everything it allowed there."
                ),
                principal=ram_user.principal,
                role=role,
                label=role_label(role),
                project=project.name,
            ),
            _("It stays a member of %(project)s, and the role can be granted again.") % {"project": project.name},
        ],
        submit_label=pgettext("revoke a role or an access", "Revoke"),
        cancel_url=members_url(project),
        carried={"ram_user": ram_user.pk, "role": role},
    )


def remove_member_view(request: SignedInRequest, pk: int) -> HttpResponse:
    """Removes a member: asks first, naming the member, the project and the roles that must go before it."""
    project = project_or_404(request, pk)
    gate(request, project, MEMBER_MANAGEMENT)
    ram_user = member_or_404(project, MemberForm(named_by(request)))
    form = ConfirmForm(posted(request), expected=ram_user.name)
    if form.is_valid():
        try:
            remove_member(actor=actor_of(request), project=project, ram_user=ram_user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("%(principal)s was removed from %(project)s.")
                % {"principal": ram_user.principal, "project": project.name},
            )
        return redirect(members_url(project))
    held = listed(
        RoleGrant.objects.filter(member__project=project, member__ram_user=ram_user).values_list("role", flat=True)
    )
    return confirmation_page(
        request,
        form,
        title=_("Remove %(user)s from %(project)s") % {"user": ram_user.name, "project": project.name},
        consequences=[
            format_html(
                _(
                    "<code>{principal}</code> is no longer a member of <strong>{project}</strong>; it can be added "
                    "again with “Add Member”."
                ),
                principal=ram_user.principal,
                project=project.name,
            ),
            format_html(
                _("It still holds <code>{roles}</code>: revoke its roles first; until then removing is refused."),
                roles=held,
            )
            if held
            else "",
        ],
        submit_label=_("Remove"),
        cancel_url=members_url(project),
        carried={"ram_user": ram_user.pk},
    )


@ram_writer_required
@require_POST
def revoke_and_delete_user(request: SignedInRequest, pk: int) -> HttpResponse:
    ram_user = get_object_or_404(
        RamUser.objects.for_account(request.user.account).select_related("account", "user"), pk=pk
    )
    form = RevokeAndDeleteUserForm(request.POST, ram_user=ram_user)
    if form.is_valid():
        try:
            removed = revoke_everything_and_delete_user(
                actor=actor_of(request), ram_user=ram_user, otp_code=form.cleaned_data["otp_code"]
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("The RAM user %(name)s left %(count)s project(s), losing every role, and was deleted.")
                % {"name": ram_user.name, "count": len(removed)},
            )
            return redirect("accounts:user-list")
    # The refusal shows on the delete page, beside the fields, as the plain "Delete" form's would.
    return render(
        request,
        "accounts/delete_user.html",
        {
            "form": DeleteRamUserForm(ram_user=ram_user),
            "ram_user": ram_user,
            "conflict": None,
            "access_keys": AccessKey.objects.of_user(ram_user.user),
            "revoke_and_delete_form": form,
        },
    )
