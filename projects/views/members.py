"""Project members: "Add Member", grant a role, "Revoke" a role, remove a member; and the one action that
revokes a RAM user's every role, removes it from every project and deletes it."""

from typing import Protocol

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from accounts.forms import DeleteRamUserForm, add_errors
from accounts.gates import SignedInRequest, actor_of, ram_writer_required
from accounts.models import AccessKey, RamUser
from projects.forms import AddMemberForm, MemberForm, MemberRoleForm, RevokeAndDeleteUserForm
from projects.models import Project
from projects.project_page import gate, project_or_404, project_page
from projects.services import add_member, grant_roles, remove_member, revoke_everything_and_delete_user, revoke_roles

MEMBER_MANAGEMENT = "member_management"


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


def change_role(request: SignedInRequest, pk: int, change: RoleChange, *, done: str, unchanged: str) -> HttpResponse:
    """Grants or revokes ("Revoke") one role of a member; says what happened, or why not, in a message."""
    project = project_or_404(request, pk)
    gate(request, project, MEMBER_MANAGEMENT)
    form = MemberRoleForm(request.POST)
    ram_user = member_or_404(project, form)
    if "role" in form.errors:
        messages.error(request, "Choose one of the project roles.")
        return redirect(members_url(project))
    role = form.cleaned_data["role"]
    try:
        changed = change(actor=actor_of(request), project=project, ram_user=ram_user, roles=[role])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        words = {"role": role, "principal": ram_user.principal, "project": project.name}
        if changed:
            messages.success(request, done.format(**words))
        else:
            messages.info(request, unchanged.format(**words))
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
            messages.success(request, f"{ram_user.principal} was added to {project.name}.")
            return redirect(members_url(project))
    return project_page(request, project, add_form=form)


@require_POST
def grant_role_view(request: SignedInRequest, pk: int) -> HttpResponse:
    return change_role(
        request,
        pk,
        grant_roles,
        done="{principal} now has {role} in {project}.",
        unchanged="{principal} already had {role} in {project}.",
    )


@require_POST
def revoke_role_view(request: SignedInRequest, pk: int) -> HttpResponse:
    return change_role(
        request,
        pk,
        revoke_roles,
        done="{role} was revoked from {principal} in {project}.",
        unchanged="{principal} did not hold {role} in {project}.",
    )


@require_POST
def remove_member_view(request: SignedInRequest, pk: int) -> HttpResponse:
    project = project_or_404(request, pk)
    gate(request, project, MEMBER_MANAGEMENT)
    ram_user = member_or_404(project, MemberForm(request.POST))
    try:
        remove_member(actor=actor_of(request), project=project, ram_user=ram_user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{ram_user.principal} was removed from {project.name}.")
    return redirect(members_url(project))


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
                f"The RAM user {ram_user.name} left {len(removed)} project(s), losing every role, and was deleted.",
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
