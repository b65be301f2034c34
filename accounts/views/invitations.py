"""Invitations: the person's page that accepts one (choose a password, then sign in), and "Send again"."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.forms import ChoosePasswordForm, add_errors
from accounts.gates import SignedInRequest, actor_of, ram_writer_required, request_origin
from accounts.models import DeliveryPacket
from accounts.models.delivery import link_page_language
from accounts.passwords import policy_for
from accounts.services import invitations as invitation_services
from accounts.services.claim_links import hash_claim_token
from accounts.services.invitations import (
    InvitationRefused,
    OpenInvitation,
    accept_invitation,
    invitation_for_token,
)
from accounts.services.password_step import is_source_allowed
from accounts.sign_in_steps import PENDING_KEY, begin_sign_in, landing_url
from portal.gates import public
from portal.requests import PortalRequest

# The hash of the invitation this browser accepted: the same form sent again (a second click, a reload, back and
# resubmit) carries on with the sign-in it began instead of calling the spent link invalid.
ACCEPTED_KEY = "accepted_invitation"


@public
@never_cache
@sensitive_post_parameters()
def invitation(request: PortalRequest) -> HttpResponse:
    """The invitation link's page. The code arrives in the link's fragment and the page's script puts it in the form:
    "Continue" shows whose invitation it is and asks for a password; "Accept and sign in" spends it. Opening the
    link (a mail scanner's fetch) spends nothing."""
    if request.method != "POST":
        return render(request, "accounts/invitation.html")
    token = request.POST.get("invitation_code", "").strip()
    if token and request.session.get(ACCEPTED_KEY) == hash_claim_token(token):
        if PENDING_KEY in request.session:
            return redirect("accounts:sign-in-continue")
        if request.user.is_authenticated:
            return redirect(landing_url(request.user))
    try:
        opened = invitation_for_token(token)
    except InvitationRefused as refusal:
        return render(request, "accounts/invitation.html", {"error": refusal.message}, status=410)
    # From here on the page knows whose invitation it is, and speaks their language (else the browser's).
    language = link_page_language(opened.ram_user.user)
    with translation.override(language):
        response = _accept(request, token, opened)
    response.headers["Content-Language"] = language
    return response


def _accept(request: PortalRequest, token: str, opened: OpenInvitation) -> HttpResponse:
    """ "Continue" (whose invitation it is, a password asked for) and "Accept and sign in"."""
    ram_user = opened.ram_user
    form = ChoosePasswordForm(request.POST if "new_password" in request.POST else None)
    if form.is_bound and form.is_valid():
        origin = request_origin(request)
        try:
            user = accept_invitation(token=token, password=form.cleaned_data["new_password"], origin=origin)
        except InvitationRefused as refusal:
            return render(request, "accounts/invitation.html", {"error": refusal.message}, status=410)
        except ValidationError as error:
            add_errors(form, error)
        else:
            if not is_source_allowed(ram_user.account, origin.source_ip):
                # The password is set; the console is reached only from the networks the account allows.
                return render(request, "accounts/invitation_accepted.html", {"ram_user": ram_user})
            response = begin_sign_in(request, user, landing=reverse("accounts:my-credentials"))
            request.session[ACCEPTED_KEY] = hash_claim_token(token)
            return response
    return render(
        request,
        "accounts/invitation_accept.html",
        {"form": form, "ram_user": ram_user, "token": token, "policy": policy_for(ram_user.account)},
    )


@ram_writer_required
@require_POST
def resend_invitation(request: SignedInRequest, pk: int) -> HttpResponse:
    """ "Send again": a new invitation link for one lost or expired; the earlier link stops working."""
    packet = get_object_or_404(
        DeliveryPacket.objects.for_account(request.user.account).select_related("ram_user__account"), pk=pk
    )
    try:
        sent = invitation_services.resend_invitation(actor=actor_of(request), packet=packet)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(f"{reverse('accounts:packet-list')}#packet-{packet.pk}")
    messages.success(
        request,
        _("A new invitation for %(name)s is queued for %(to)s; the earlier link no longer works.")
        % {"name": packet.ram_user.name, "to": sent.email_to},
    )
    return redirect(f"{reverse('accounts:packet-list')}#packet-{sent.pk}")
