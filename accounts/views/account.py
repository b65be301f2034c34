"""The account-wide pages: overview, security settings, password policy, policies."""

from typing import Any, Protocol

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from accounts.actors import Actor
from accounts.forms import PasswordPolicyForm, SecuritySettingsForm, add_errors
from accounts.gates import SignedInRequest, actor_of, ram_reader_required
from accounts.models import AccessKey, DeliveryPacket, PolicyAttachment, RamUser
from accounts.policies import SYSTEM_POLICIES
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
        raise PermissionDenied("Only the primary account's owner can change this.")
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
        saved_message="The RAM user security settings were updated.",
    )


@ram_reader_required
def password_policy(request: SignedInRequest) -> HttpResponse:
    return _settings_page(
        request,
        form=PasswordPolicyForm(request.POST or None, instance=request.user.account.password_policy),
        fields=PASSWORD_POLICY_FIELDS,
        service=update_password_policy,
        template="accounts/password_policy.html",
        saved_message="The password policy was updated.",
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
    rows = [(policy, holders[policy.name]) for policy in SYSTEM_POLICIES]
    return render(request, "accounts/policy_list.html", {"rows": rows})
