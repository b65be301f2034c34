"""The seed's permission matrix as a page, and its decisions for one user in one project."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.gates import SignedInRequest, ram_reader_required
from accounts.models import RamUser
from projects.forms import USERS_LIST_ID, CheckPermissionsForm
from projects.matrix import MATRIX, MatrixRow, Role, role_label
from projects.permissions import Decision, PermissionCache, check_permission

USER_SUGGESTIONS_SHOWN = 200


def permissions(request: SignedInRequest) -> HttpResponse:
    role_labels = [(role.value, role_label(role)) for role in Role]
    return render(request, "projects/permissions.html", {"rows": MATRIX, "role_labels": role_labels})


@ram_reader_required
@require_GET
def check_permissions(request: SignedInRequest) -> HttpResponse:
    account = request.user.account
    form = CheckPermissionsForm(request.GET if "user" in request.GET else None, account=account)
    decisions: list[tuple[MatrixRow, Decision]] = []
    if form.is_valid():
        user, project, cache = form.cleaned_data["user"], form.cleaned_data["project"], PermissionCache()
        decisions = [(row, check_permission(user, project, row.operation, row.channel, cache=cache)) for row in MATRIX]
    names = RamUser.objects.for_account(account).order_by("name").values_list("name", flat=True)
    return render(
        request,
        "projects/check_permissions.html",
        {
            "form": form,
            "decisions": decisions,
            "checked_user": form.cleaned_data["user"] if decisions else None,
            "has_projects": form.projects.exists(),
            "user_suggestions": names[:USER_SUGGESTIONS_SHOWN],
            "users_list_id": USERS_LIST_ID,
        },
    )
