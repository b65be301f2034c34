"""Passkeys on one's own pages ("Add a passkey", "Remove") and at sign-in ("Use a passkey"): the pages, and the
JSON endpoints of django-otp-webauthn's ceremonies as the portal fits them (accounts.passkeys)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import JavaScriptCatalog

from accounts.forms import AddPasskeyForm, ConfirmForm, add_errors, confirmation_page, posted
from accounts.gates import SignedInRequest, actor_of, own_page
from accounts.models import User
from accounts.passkeys import (
    BeginPasskeyConfirmation,
    BeginPasskeyRegistration,
    BeginPasskeySignIn,
    CompletePasskeyConfirmation,
    CompletePasskeyRegistration,
    CompletePasskeySignIn,
    allow_registration,
    passkey_configuration,
    passkey_confirmation,
    passkeys_of,
    passkeys_possible,
    registration_allowed,
)
from accounts.services import otp
from accounts.services.logon import ensure_self_service
from accounts.services.otp import (
    PASSKEY_NAME,
    device_name_problems,
    devices_left_after_removal,
    mfa_device_count,
    require_otp,
    suggested_device_name,
)
from portal.gates import public


@never_cache
@sensitive_post_parameters()
def add_passkey(request: SignedInRequest) -> HttpResponse:
    """ "Add a passkey": a code from one of one's MFA devices first; then the browser registers the passkey (or
    security key), which then counts as one of the person's MFA devices."""
    actor = actor_of(request)
    ensure_self_service(actor, "allow_manage_mfa")
    user = request.user
    at_limit = mfa_device_count(user) >= settings.PORTAL_MAX_MFA_DEVICES
    offered = suggested_device_name(user, base=PASSKEY_NAME)
    form = AddPasskeyForm(request.POST or None, initial={"name": offered})
    if request.method == "POST" and not at_limit and form.is_valid():
        name = form.cleaned_data["name"].strip() or offered
        problems = device_name_problems(user, name)
        try:
            if problems:
                raise ValidationError({"name": problems})
            require_otp(actor=actor, otp_code=form.cleaned_data["otp_code"])
        except ValidationError as error:
            add_errors(form, error)
        else:
            allow_registration(request, name=name)
            return redirect("accounts:add-passkey")
    allowed = registration_allowed(request) and not at_limit
    return render(
        request,
        "accounts/add_passkey.html",
        {
            "form": form,
            "at_limit": at_limit,
            "allowed": allowed,
            "done_url": own_page(user),
            "possible": passkeys_possible(request),
            "configuration": passkey_configuration(request, ceremony="register"),
        },
    )


@never_cache
def remove_passkey(request: SignedInRequest, passkey_pk: int) -> HttpResponse:
    """ "Remove" a passkey: asks first, with a code; never the last MFA device while MFA is required."""
    actor = actor_of(request)
    ensure_self_service(actor, "allow_manage_mfa")
    user: User = request.user
    passkey = get_object_or_404(passkeys_of(user), pk=passkey_pk)
    form = ConfirmForm(posted(request), expected=passkey.name, needs_otp=True)
    if form.is_valid():
        try:
            otp.remove_passkey(actor=actor, passkey_id=passkey.pk, otp_code=form.cleaned_data["otp_code"])
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The passkey %(name)s was removed.") % {"name": passkey.name})
            return redirect(own_page(user))
    return confirmation_page(
        request,
        form,
        title=_("Remove the passkey %(name)s") % {"name": passkey.name},
        consequences=[
            _("It no longer signs you in. The passkey may stay on your device or security key: remove it there too."),
            devices_left_after_removal(user),
        ],
        submit_label=_("Remove"),
        cancel_url=own_page(user),
    )


@require_POST
def begin_passkey_registration(request: HttpRequest) -> HttpResponseBase:
    response: HttpResponseBase = BeginPasskeyRegistration.as_view()(request)
    return response


@require_POST
def complete_passkey_registration(request: HttpRequest) -> HttpResponseBase:
    response: HttpResponseBase = CompletePasskeyRegistration.as_view()(request)
    return response


@never_cache
@require_GET
def passkey_confirmation_options(request: SignedInRequest) -> HttpResponse:
    """Whether the pages of a signed-in person offer "Use a passkey" beside their code fields, and with what
    (accounts.passkeys.passkey_confirmation); 204 when the person has no passkey usable here."""
    options = passkey_confirmation(request)
    return JsonResponse(options) if options else HttpResponse(status=204)


@require_POST
def begin_passkey_confirmation(request: HttpRequest) -> HttpResponseBase:
    """A signed-in person's passkey, for a form that asks for a code: its signature becomes a one-time code."""
    response: HttpResponseBase = BeginPasskeyConfirmation.as_view()(request)
    return response


@require_POST
def complete_passkey_confirmation(request: HttpRequest) -> HttpResponseBase:
    response: HttpResponseBase = CompletePasskeyConfirmation.as_view()(request)
    return response


@public
@require_POST
def begin_passkey_sign_in(request: HttpRequest) -> HttpResponseBase:
    """The verification step of a pending sign-in, answered by a passkey (the pending person's own only)."""
    response: HttpResponseBase = BeginPasskeySignIn.as_view()(request)
    return response


@public
@require_POST
def complete_passkey_sign_in(request: HttpRequest) -> HttpResponseBase:
    response: HttpResponseBase = CompletePasskeySignIn.as_view()(request)
    return response


@public
def passkey_script_texts(request: HttpRequest) -> HttpResponseBase:
    """The texts of django-otp-webauthn's script (Django's JavaScript catalog of that package, and of the portal's
    locale/<language>/LC_MESSAGES/djangojs.po, where the package has none), in the page's language."""
    return JavaScriptCatalog.as_view(packages=["django_otp_webauthn"])(request)
