"""A signed-in person's own pages: the RAM user's credentials, the owner's account."""

from urllib.parse import urlparse

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.access_key_pages import ACCOUNT, ME, access_key_panel
from accounts.actors import Actor
from accounts.forms import (
    AddMfaDeviceForm,
    ConfirmForm,
    EnrolForm,
    IssueSecretWithOtpForm,
    NamedEnrolForm,
    NewPasswordForm,
    add_errors,
    confirmation_page,
    enrolment_context,
    posted,
)
from accounts.gates import (
    SignedInRequest,
    actor_of,
    own_page,
    owner_required,
    ram_user_required,
    repeats_go_to_their_page,
)
from accounts.models import BackupCodeDevice, OneTimeReveal, User
from accounts.passkeys import passkeys_of
from accounts.rights import policy_sources, source_words
from accounts.services.guessing import lock_status
from accounts.services.logon import change_own_password, ensure_self_service, sign_out_everywhere
from accounts.services.otp import (
    OtpRejected,
    confirm_totp_enrolment,
    devices_left_after_removal,
    has_mfa_device,
    mfa_device_count,
    mfa_devices_of,
    regenerate_backup_codes,
    remove_mfa_device,
    require_otp,
    start_totp_enrolment,
)
from accounts.services.password_step import clear_own_sign_in_lock, identity_of
from accounts.services.reveals import issue_once

BACKUP_CODES = OneTimeReveal.Kind.BACKUP_CODES


@ram_user_required
def my_credentials(request: SignedInRequest) -> HttpResponse:
    ram_user = request.user.ram_user
    return render(
        request,
        "accounts/my_credentials.html",
        {
            "ram_user": ram_user,
            "account": ram_user.account,
            "settings": ram_user.account.security_settings,
            "has_mfa": has_mfa_device(request.user),
            **mfa_panel(request.user),
            "can_manage_mfa": ram_user.account.security_settings.allow_manage_mfa,
            "policies": [(name, source_words(sources)) for name, sources in policy_sources(request.user).items()],
            "access_key_panel": access_key_panel(request.user, ME),
        },
    )


@never_cache
@sensitive_post_parameters()
def change_password(request: SignedInRequest) -> HttpResponse:
    actor = actor_of(request)
    ensure_self_service(actor, "allow_change_password")
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            change_own_password(
                actor=actor,
                current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            # The change ended every other session; this one carries on with the new hash.
            request.user.refresh_from_db()
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password was changed. Other sessions were signed out."))
            return redirect("accounts:home")
    return render(request, "accounts/change_password.html", {"form": form})


@never_cache
@sensitive_post_parameters()
@repeats_go_to_their_page
def bind_mfa(request: SignedInRequest) -> HttpResponse:
    """Binds an MFA device: the first one, or another beside those bound (with a code from one of them first), up to
    PORTAL_MAX_MFA_DEVICES. The person's first device brings ten backup codes, shown once on their own page."""
    actor = actor_of(request)
    ensure_self_service(actor, "allow_manage_mfa")
    user = request.user
    has_device = has_mfa_device(user)
    form_class = AddMfaDeviceForm if has_device else NamedEnrolForm
    at_limit = mfa_device_count(user) >= settings.PORTAL_MAX_MFA_DEVICES
    if at_limit:
        return render(request, "accounts/bind_mfa.html", {"has_device": True, "at_limit": True})
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid() and mfa_devices_of(user).filter(pk=form.cleaned_data["device_id"]).exists():
            # Sent again (a double click, a reload) after it was bound: done already, nothing to do twice.
            messages.info(request, _("Your MFA device is bound."))
            return redirect(own_page(user))
        if form.is_valid():

            def bind(reveal: OneTimeReveal | None = None) -> None:
                _bind_authenticator(actor, form, has_device=has_device, reveal=reveal)

            try:
                if not BackupCodeDevice.objects.filter(user=user).exists():
                    # A first device brings backup codes: sent once, shown on their own one-time page.
                    token = form.cleaned_data["form_token"]
                    return redirect(issue_once(user=user, form_token=token, kind=BACKUP_CODES, work=bind))
                bind()
            except ValidationError:
                pass  # on the form already
            else:
                messages.success(request, _("Your MFA device was bound."))
                return redirect(own_page(user))
        return render(request, "accounts/bind_mfa.html", {"form": form, "has_device": has_device})
    device = start_totp_enrolment(actor=actor_of(request), user=user)
    initial = {"device_id": device.pk, "name": device.name}
    context = enrolment_context(form_class(initial=initial), device, user)
    return render(request, "accounts/bind_mfa.html", {**context, "has_device": has_device})


def _bind_authenticator(actor: Actor, form: EnrolForm, *, has_device: bool, reveal: OneTimeReveal | None) -> None:
    """The code of a bound device (when adding another), then the new device's; refusals go on the form and are
    raised again, so that the submission's claim goes with them."""
    try:
        if has_device:
            require_otp(actor=actor, otp_code=form.cleaned_data["current_otp_code"])
    except OtpRejected:
        form.add_error("current_otp_code", _("The code from your MFA device is wrong or used."))
        raise
    try:
        confirm_totp_enrolment(
            actor=actor,
            user=actor.person,
            device_id=form.cleaned_data["device_id"],
            code=form.cleaned_data["otp_code"],
            name=form.cleaned_data["name"] or None,
            reveal=reveal,
        )
    except ValidationError as error:
        add_errors(form, error)
        raise


def mfa_panel(user: User) -> dict[str, object]:
    """What the MFA card of one's own page shows: the devices, the backup codes left, the forms."""
    backup = BackupCodeDevice.objects.filter(user=user).first()
    devices = list(mfa_devices_of(user))
    passkeys = list(passkeys_of(user))
    otp_form = IssueSecretWithOtpForm()
    otp_form.fields["otp_code"].widget.attrs.pop("autofocus", None)  # one card of a page: the page keeps its focus
    return {
        "mfa_devices": devices,
        "passkeys": passkeys,
        "mfa_count": len(devices) + len(passkeys),
        "mfa_limit": settings.PORTAL_MAX_MFA_DEVICES,
        "can_add_device": len(devices) + len(passkeys) < settings.PORTAL_MAX_MFA_DEVICES,
        "backup_codes_left": backup.codes.count() if backup else 0,
        "has_backup_codes": backup is not None,
        "otp_form": otp_form,
    }


@never_cache
def remove_mfa_device_view(request: SignedInRequest, device_pk: int) -> HttpResponse:
    """ "Remove" one of one's own MFA devices: asks first, with a code; never the last one while MFA is required."""
    actor = actor_of(request)
    ensure_self_service(actor, "allow_manage_mfa")
    device = get_object_or_404(mfa_devices_of(request.user), pk=device_pk)
    form = ConfirmForm(posted(request), expected=device.name, needs_otp=True)
    if form.is_valid():
        try:
            remove_mfa_device(actor=actor, device_id=device.pk, otp_code=form.cleaned_data["otp_code"])
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The MFA device %(name)s was removed.") % {"name": device.name})
            return redirect(own_page(request.user))
    return confirmation_page(
        request,
        form,
        title=_("Remove the MFA device %(name)s") % {"name": device.name},
        consequences=[_("Its codes stop working at once."), devices_left_after_removal(request.user)],
        submit_label=_("Remove"),
        cancel_url=own_page(request.user),
    )


@owner_required
def my_account(request: SignedInRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "accounts/my_account.html",
        {
            "account": user.account,
            **mfa_panel(user),
            "can_manage_mfa": True,
            "access_key_panel": access_key_panel(user, ACCOUNT),
            **lock_status(identity_of(user)),
        },
    )


@owner_required
@require_POST
def clear_own_sign_in_lock_view(request: SignedInRequest) -> HttpResponse:
    try:
        clear_own_sign_in_lock(actor=actor_of(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The lock on your sign-in was cleared."))
    return redirect("accounts:my-account")


@require_POST
@never_cache
@sensitive_post_parameters()
@repeats_go_to_their_page
def regenerate_backup_codes_view(request: SignedInRequest) -> HttpResponse:
    """Ten new backup codes replace the old ones (a code from an MFA device, or a backup code, first)."""
    ensure_self_service(actor_of(request), "allow_manage_mfa")
    form = IssueSecretWithOtpForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the verification code."))
        return redirect(own_page(request.user))
    try:
        page = issue_once(
            user=request.user,
            form_token=form.cleaned_data["form_token"],
            kind=BACKUP_CODES,
            work=lambda reveal: regenerate_backup_codes(
                actor=actor_of(request), otp_code=form.cleaned_data["otp_code"], reveal=reveal
            ),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(own_page(request.user))
    return redirect(page)


def sign_out_everywhere_view(request: SignedInRequest) -> HttpResponse:
    """Ends every session of the signed-in person, after asking on a page that says so."""
    if not request.user.is_authenticated:
        raise PermissionDenied
    form = ConfirmForm(posted(request), expected=request.user.principal)
    if form.is_valid():
        sign_out_everywhere(actor=actor_of(request))
        messages.success(request, _("Every session, this one included, was signed out."))
        return redirect("accounts:owner-sign-in")
    return confirmation_page(
        request,
        form,
        title=_("Sign out everywhere"),
        consequences=[
            format_html(
                _("Every session of <code>{}</code> ends now: in every browser, on every device, this one included."),
                request.user.display,
            ),
            _("To carry on, sign in again. AccessKeys keep working: only sign-in sessions end."),
        ],
        submit_label=_("Sign out everywhere"),
        cancel_url=reverse("accounts:my-account" if request.user.is_owner else "accounts:my-credentials"),
    )


def using_the_apis(request: SignedInRequest) -> HttpResponse:
    """How to point the official SDKs at this portal, with the account's own values (never a secret)."""
    base = urlparse(settings.PORTAL_BASE_URL)
    return render(
        request,
        "accounts/using_the_apis.html",
        {
            "endpoint": base.netloc,
            "protocol": base.scheme,
            "account": request.user.account,
            "principal": request.user.principal,
            "access_key_ids": list(
                request.user.access_keys.filter(status="Active").values_list("access_key_id", flat=True)
            ),
        },
    )
