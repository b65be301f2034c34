"""The enterprise alias and the logon link ("Update default domain")."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms import ClearEnterpriseAliasForm, EnterpriseAliasForm, add_errors
from accounts.gates import SignedInRequest, actor_of, owner_required, ram_reader_required
from accounts.services.alias import alias_change_impact, clear_enterprise_alias, set_enterprise_alias


def _page(request: SignedInRequest, *, form: EnterpriseAliasForm, clear_form: ClearEnterpriseAliasForm) -> HttpResponse:
    account = request.user.account
    return render(
        request,
        "accounts/update_default_domain.html",
        {
            "account": account,
            "impact": alias_change_impact(account),
            "is_owner": request.user.is_owner,
            "form": form,
            "clear_form": clear_form,
            "hold_days": settings.PORTAL_ALIAS_HOLD_DAYS,
        },
    )


@ram_reader_required
def update_default_domain(request: SignedInRequest) -> HttpResponse:
    """Owners set or change the alias with a code; RAM administrators see the page read-only."""
    if request.method == "POST" and not request.user.is_owner:
        raise PermissionDenied(_("Only the primary account's owner can change the enterprise alias."))
    form = EnterpriseAliasForm(request.POST or None, initial={"alias": request.user.account.alias})
    if request.method == "POST" and form.is_valid():
        try:
            account = set_enterprise_alias(
                actor=actor_of(request), otp_code=form.cleaned_data["otp_code"], alias=form.cleaned_data["alias"]
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("RAM users now sign in at %(link)s") % {"link": account.logon_link})
            return redirect("accounts:update-default-domain")
    return _page(request, form=form, clear_form=ClearEnterpriseAliasForm())


@owner_required
@require_POST
def clear_enterprise_alias_view(request: SignedInRequest) -> HttpResponse:
    clear_form = ClearEnterpriseAliasForm(request.POST)
    if clear_form.is_valid():
        try:
            account = clear_enterprise_alias(actor=actor_of(request), otp_code=clear_form.cleaned_data["otp_code"])
        except ValidationError as error:
            add_errors(clear_form, error)
        else:
            messages.success(
                request, _("The alias was cleared. RAM users now sign in at %(link)s") % {"link": account.logon_link}
            )
            return redirect("accounts:update-default-domain")
    form = EnterpriseAliasForm(initial={"alias": request.user.account.alias})
    return _page(request, form=form, clear_form=clear_form)
