"""The seed's permission matrix as a page, and its decisions for one user in one project."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.gates import ram_reader_required
from accounts.models import RamUser
from projects.forms import USERS_LIST_ID, CheckPermissionsForm
from projects.matrix import MATRIX, ROLE_LABELS, Role
from projects.permissions import check_permission

USER_SUGGESTIONS_SHOWN = 200


def permissions(request):
    role_labels = [(role.value, ROLE_LABELS[role]) for role in Role]
    return render(request, "projects/permissions.html", {"rows": MATRIX, "role_labels": role_labels})


@ram_reader_required
@require_GET
def check_permissions(request):
    account = request.user.account
    form = CheckPermissionsForm(request.GET if "user" in request.GET else None, account=account)
    decisions = []
    if form.is_valid():
        user, project, cache = form.cleaned_data["user"], form.cleaned_data["project"], {}
        decisions = [(row, check_permission(user, project, row.operation, row.channel, cache=cache)) for row in MATRIX]
    names = RamUser.objects.for_account(account).order_by("name").values_list("name", flat=True)
    return render(
        request,
        "projects/check_permissions.html",
        {
            "form": form,
            "decisions": decisions,
            "checked_user": form.cleaned_data["user"] if decisions else None,
            "has_projects": form.fields["project"].queryset.exists(),
            "user_suggestions": names[:USER_SUGGESTIONS_SHOWN],
            "users_list_id": USERS_LIST_ID,
        },
    )
