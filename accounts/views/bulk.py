"""Bulk actions of the Users table: choose (the table), confirm (this page, with the count and the names), apply
(one transaction per user), and the report of what was done and refused for whom."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_stubs_ext import StrOrPromise

from accounts.bulk_reports import has_report, keep_report, report_of
from accounts.forms import BulkActionForm
from accounts.gates import SignedInRequest, actor_of, ram_writer_required
from accounts.services.bulk import (
    BULK_ACTION_EFFECTS,
    BULK_ACTION_LABELS,
    NEEDS_GROUP,
    NEEDS_POLICY,
    BulkAction,
    apply_to_users,
)
from accounts.user_table import users_table_url


def _back_to_table(request: SignedInRequest, form: BulkActionForm) -> HttpResponse:
    for error in form.non_field_errors():
        messages.error(request, str(error))
    for field in ("action", "policy", "group"):
        for error in form.errors.get(field, []):
            messages.error(request, _("%(field)s: %(error)s") % {"field": form.fields[field].label, "error": error})
    return redirect(users_table_url(form.data.get("filters", "")))


def _with_target(label: StrOrPromise, target: str) -> str:
    """An action's label and what it is for: "Add Permissions: AliyunRAMReadOnlyAccess"."""
    return _("%(action)s: %(target)s") % {"action": label, "target": target}


def _confirmation(request: SignedInRequest, form: BulkActionForm, *, status: int = 200) -> HttpResponse:
    action = form.chosen_action
    heading = str(BULK_ACTION_LABELS[action])
    if form.cleaned_data.get("policy"):
        heading = _with_target(heading, form.cleaned_data["policy"])
    if form.cleaned_data.get("group"):
        heading = _with_target(heading, form.cleaned_data["group"].name)
    return render(
        request,
        "accounts/bulk_confirm.html",
        {
            "form": form,
            "action": action,
            "label": BULK_ACTION_LABELS[action],
            "heading": heading,
            "effect": BULK_ACTION_EFFECTS[action],
            "ram_users": form.ram_users,
            "apply_url": reverse(
                "accounts:pdf-for-users" if action == BulkAction.PRINT_PACKETS else "accounts:apply-bulk-action"
            ),
        },
        status=status,
    )


@ram_writer_required
@require_POST
def confirm_bulk_action(request: SignedInRequest) -> HttpResponse:
    """The Users table's selection and action, shown back with the count and every name before anything happens."""
    form = BulkActionForm(request.POST, account=request.user.account)
    if not form.is_valid():
        return _back_to_table(request, form)
    return _confirmation(request, form)


@ram_writer_required
@require_POST
def apply_bulk_action(request: SignedInRequest) -> HttpResponse:
    form = BulkActionForm(request.POST, account=request.user.account)
    if not form.is_valid():
        return _back_to_table(request, form)
    token = form.cleaned_data["form_token"]
    if has_report(request.session, token):  # sent twice (a double click, a reload): the first one's report
        return redirect("accounts:bulk-action-report", token=token)
    if request.POST.get("confirm") != "yes":
        return _confirmation(request, form, status=400)
    policy = form.cleaned_data.get("policy") or ""
    group = form.cleaned_data.get("group")
    outcomes = apply_to_users(
        actor=actor_of(request), action=form.chosen_action, ram_users=form.ram_users, policy_name=policy, group=group
    )
    # (Worded once, in the language of the page that applied it: the report shows it as kept.)
    label = str(BULK_ACTION_LABELS[form.chosen_action])
    label = _with_target(label, policy) if form.chosen_action in NEEDS_POLICY else label
    label = _with_target(label, group.name) if group is not None and form.chosen_action in NEEDS_GROUP else label
    keep_report(request.session, token=token, label=label, outcomes=outcomes)
    return redirect("accounts:bulk-action-report", token=token)


@ram_writer_required
def bulk_action_report(request: SignedInRequest, token: str) -> HttpResponse:
    found = report_of(request.session, token)
    if found is None:
        raise Http404("No such report in this session.")
    label, at, outcomes = found
    done = sum(1 for outcome in outcomes if outcome.is_done)
    context = {"label": label, "at": at, "outcomes": outcomes, "done": done, "refused": len(outcomes) - done}
    return render(request, "accounts/bulk_report.html", context)
