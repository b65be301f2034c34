"""The account-wide pages: overview, security settings, password policy, policies."""

import csv
import io
from typing import Any, Protocol

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.forms import PasswordPolicyForm, SecuritySettingsForm, add_errors
from accounts.gates import SignedInRequest, actor_of, ram_reader_required
from accounts.models import (
    AccessKey,
    CredentialReport,
    DeliveryPacket,
    Group,
    GroupPolicyAttachment,
    PolicyAttachment,
    RamUser,
)
from accounts.permissions import can_write_ram
from accounts.policies import SYSTEM_POLICIES
from accounts.services.credential_report import FINDING_KINDS, credential_findings, generate_credential_report
from accounts.services.security import (
    PASSWORD_POLICY_FIELDS,
    SECURITY_SETTING_FIELDS,
    update_password_policy,
    update_security_settings,
)


class SettingsChange(Protocol):
    """A service that changes account-wide settings, with the owner's code."""

    def __call__(self, *, actor: Actor, otp_code: str | None, values: dict[str, Any]) -> object: ...


@ram_reader_required
def overview(request: SignedInRequest) -> HttpResponse:
    account = request.user.account
    users = RamUser.objects.for_account(account)
    return render(
        request,
        "accounts/overview.html",
        {
            "account": account,
            "user_count": users.count(),
            "console_logon_count": users.filter(is_console_logon_enabled=True).count(),
            "access_key_count": AccessKey.objects.filter(user__ram_user__account=account).count(),
            # Sealed and not yet handed over, or emailed and not yet claimed.
            "waiting_packet_count": DeliveryPacket.objects.filter(
                account=account, state__in=[DeliveryPacket.State.SEALED, DeliveryPacket.State.SENT]
            ).count(),
        },
    )


def _settings_page(
    request: SignedInRequest,
    *,
    form: SecuritySettingsForm | PasswordPolicyForm,
    fields: tuple[str, ...],
    service: SettingsChange,
    template: str,
    saved_message: str,
) -> HttpResponse:
    """Owners change the settings with a code; RAM administrators see them read-only."""
    is_owner = request.user.is_owner
    if request.method == "POST" and not is_owner:
        raise PermissionDenied(_("Only the primary account's owner can change this."))
    if not is_owner:
        for field in form.fields.values():
            field.disabled = True
        form.helper.inputs = []
        del form.fields["otp_code"]
    elif request.method == "POST" and form.is_valid():
        values = {field: form.cleaned_data[field] for field in fields if field in form.cleaned_data}
        try:
            service(actor=actor_of(request), otp_code=form.cleaned_data["otp_code"], values=values)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, saved_message)
            return redirect(request.path)
    return render(request, template, {"form": form, "is_owner": is_owner})


@ram_reader_required
def security_settings(request: SignedInRequest) -> HttpResponse:
    return _settings_page(
        request,
        form=SecuritySettingsForm(request.POST or None, instance=request.user.account.security_settings),
        fields=SECURITY_SETTING_FIELDS,
        service=update_security_settings,
        template="accounts/security_settings.html",
        saved_message=_("The RAM user security settings were updated."),
    )


@ram_reader_required
def password_policy(request: SignedInRequest) -> HttpResponse:
    return _settings_page(
        request,
        form=PasswordPolicyForm(request.POST or None, instance=request.user.account.password_policy),
        fields=PASSWORD_POLICY_FIELDS,
        service=update_password_policy,
        template="accounts/password_policy.html",
        saved_message=_("The password policy was updated."),
    )


@ram_reader_required
def policy_list(request: SignedInRequest) -> HttpResponse:
    attachments = (
        PolicyAttachment.objects.filter(ram_user__account=request.user.account)
        .select_related("ram_user")
        .order_by("ram_user__name")
    )
    holders: dict[str, list[RamUser]] = {policy.name: [] for policy in SYSTEM_POLICIES}
    for attachment in attachments:
        holders[attachment.policy_name].append(attachment.ram_user)
    groups: dict[str, list[tuple[Group, int]]] = {policy.name: [] for policy in SYSTEM_POLICIES}
    group_attachments = (
        GroupPolicyAttachment.objects.filter(group__account=request.user.account)
        .select_related("group")
        .annotate(member_count=Count("group__memberships"))
        .order_by("group__name")
    )
    for group_attachment in group_attachments:
        groups[group_attachment.policy_name].append((group_attachment.group, group_attachment.member_count))
    rows = [(policy, holders[policy.name], groups[policy.name]) for policy in SYSTEM_POLICIES]
    return render(request, "accounts/policy_list.html", {"rows": rows})


@ram_reader_required
def credential_report(request: SignedInRequest) -> HttpResponse:
    """The credential report page: the findings as of now, each with where to act; "Generate report" (POST, RAM
    administrators) makes a new report, whose rows are shown and downloadable as RAM's CSV."""
    account = request.user.account
    if request.method == "POST":
        if not can_write_ram(request.user):  # a new report is a change (an audited one): RAM administrators only
            raise PermissionDenied(_("You are not allowed to generate the credential report."))
        generate_credential_report(actor=actor_of(request))
        messages.success(request, _("A new credential report was generated."))
        return redirect("accounts:credential-report")
    report = CredentialReport.objects.filter(account=account).first()
    rows = list(csv.reader(io.StringIO(report.content))) if report else []
    findings = credential_findings(account.pk)
    kinds = [
        (str(title).format(days=settings.PORTAL_UNUSED_KEY_DAYS), [f for f in findings if f.kind == kind])
        for kind, title in FINDING_KINDS.items()
    ]
    return render(
        request,
        "accounts/credential_report.html",
        {"report": report, "header": rows[:1], "rows": rows[1:], "kinds": kinds, "finding_count": len(findings)},
    )


@ram_reader_required
def credential_report_download(request: SignedInRequest) -> HttpResponse:
    report = CredentialReport.objects.filter(account=request.user.account).first()
    if report is None:
        messages.info(request, _("Generate a report first."))
        return redirect("accounts:credential-report")
    response = HttpResponse(report.content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="credential-report-{report.generated_at:%Y%m%d-%H%M}.csv"'
    return response
