from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from accounts.forms import (
    EnrolForm,
    NewPasswordForm,
    OtpForm,
    OwnerSignInForm,
    RamSignInForm,
    SignInForm,
    SignUpForm,
    add_errors,
    enrolment_context,
)
from accounts.gates import request_origin
from accounts.models import Authenticator, BackupCodeDevice, OneTimeReveal, PrimaryAccount
from accounts.passkeys import passkey_configuration, passkeys_of
from accounts.services.logon import change_own_password
from accounts.services.otp import OtpThrottled, confirm_totp_enrolment, start_totp_enrolment, verify_otp
from accounts.services.password_step import SignInRefused, check_owner_password, check_ram_user_password
from accounts.services.primary_accounts import create_primary_account
from accounts.services.reveals import earlier_submission, issue_once
from accounts.sign_in_steps import (
    CHANGE_PASSWORD,
    ENROL,
    VERIFY,
    SignInRequest,
    begin_sign_in,
    known_devices,
    landing_url,
    next_sign_in_step,
    note_step_done,
    pending_sign_in_required,
    step_required,
)
from portal.gates import public
from portal.requests import PortalRequest


@public
def home(request: PortalRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(landing_url(request.user))
    return redirect("accounts:owner-sign-in")


@public
@never_cache
@sensitive_post_parameters()
def owner_sign_in(request: PortalRequest) -> HttpResponse:
    form = OwnerSignInForm(request.POST or None, needs_code="otp_code" in request.POST)
    if request.method == "POST" and form.is_valid():
        try:
            checked = check_owner_password(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                origin=request_origin(request),
                known_devices=known_devices(request),
                otp_code=form.cleaned_data.get("otp_code"),
            )
        except SignInRefused as refusal:
            _refused(form, refusal)
        else:
            return begin_sign_in(request, checked.user, device=checked.device)
    return render(request, "accounts/sign_in_owner.html", {"form": form, "self_sign_up": settings.PORTAL_SELF_SIGN_UP})


@public
@never_cache
@sensitive_post_parameters()
def ram_sign_in(request: PortalRequest, domain: str) -> HttpResponse:
    account = PrimaryAccount.objects.by_logon_domain(domain)
    if account is None:
        raise Http404("No account signs in at this address.")
    form = RamSignInForm(
        request.POST or None,
        initial={"login": request.GET.get("username", "")[:200]},
        needs_code="otp_code" in request.POST,
    )
    if request.method == "POST" and form.is_valid():
        try:
            checked = check_ram_user_password(
                account=account,
                login=form.cleaned_data["login"],
                password=form.cleaned_data["password"],
                origin=request_origin(request),
                known_devices=known_devices(request),
                otp_code=form.cleaned_data.get("otp_code"),
            )
        except SignInRefused as refusal:
            _refused(form, refusal)
        else:
            return begin_sign_in(request, checked.user, device=checked.device)
    return render(request, "accounts/sign_in_ram.html", {"form": form, "account": account, "domain": domain})


def _refused(form: SignInForm, refusal: SignInRefused) -> None:
    """The refusal at the top of the form, which asks for a code too when the name is locked against guessing."""
    if refusal.needs_code and "otp_code" not in form.fields:
        form.ask_for_code()
    form.add_error(None, refusal.message)


@public
@never_cache
@sensitive_post_parameters()
def sign_up(request: PortalRequest) -> HttpResponse:
    if not settings.PORTAL_SELF_SIGN_UP:
        raise Http404("Self sign-up is switched off.")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            # The new owner's language is the one this page was shown in (User.language).
            account = create_primary_account(
                **form.cleaned_data, origin=request_origin(request), language=translation.get_language()
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            return begin_sign_in(request, account.owner)
    return render(request, "accounts/sign_up.html", {"form": form})


@pending_sign_in_required
def sign_in_continue(request: SignInRequest) -> HttpResponse:
    return next_sign_in_step(request)


@step_required(VERIFY)
@never_cache
@sensitive_post_parameters()
def sign_in_verify(request: SignInRequest) -> HttpResponse:
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = verify_otp(
                user=request.pending_user, code=form.cleaned_data["otp_code"], origin=request_origin(request)
            )
        except OtpThrottled as throttled:
            add_errors(form, throttled)
            return render(
                request, "accounts/sign_in_verify.html", {"form": form, **passkey_sign_in(request)}, status=429
            )
        if device is not None:
            note_step_done(request, device=device)
            return next_sign_in_step(request)
        form.add_error("otp_code", _("The code is wrong or has already been used. Wait for the next one."))
    return render(request, "accounts/sign_in_verify.html", {"form": form, **passkey_sign_in(request)})


def passkey_sign_in(request: SignInRequest) -> dict[str, object]:
    """What the verification page needs to offer "Use a passkey" (when the person has one)."""
    if not passkeys_of(request.pending_user).exists():
        return {"has_passkeys": False}
    return {
        "has_passkeys": True,
        "configuration": passkey_configuration(request, ceremony="sign-in"),
    }


@pending_sign_in_required
@never_cache
@sensitive_post_parameters()
def sign_in_enrol(request: SignInRequest) -> HttpResponseBase:
    """Shows a new authenticator key once (each visit makes a new one) and confirms it with a code. A repeat of the
    form that confirmed it (a second click, a reload) goes to the same one-time page of backup codes, before the
    step check, which would now find the step done and carry on without them."""
    if request.method == "POST":
        earlier = earlier_submission(user=request.pending_user, form_token=request.POST.get("form_token", ""))
        if earlier is not None:
            return redirect("accounts:sign-in-backup-codes", uid=earlier.uid)
    return _enrol_step(request)


@step_required(ENROL)
def _enrol_step(request: SignInRequest) -> HttpResponse:
    user = request.pending_user
    actor = Actor(account=user.account, origin=request_origin(request), user=user)
    if request.method == "POST":
        form = EnrolForm(request.POST)
        if form.is_valid():

            def confirm(reveal: OneTimeReveal | None = None) -> None:
                confirm_totp_enrolment(
                    actor=actor,
                    user=user,
                    device_id=form.cleaned_data["device_id"],
                    code=form.cleaned_data["otp_code"],
                    reveal=reveal,
                )
                note_step_done(request, device=Authenticator.objects.get(pk=form.cleaned_data["device_id"]))

            try:
                if not BackupCodeDevice.objects.filter(user=user).exists():
                    # A first device comes with backup codes: sent once, shown on their own page.
                    token = form.cleaned_data["form_token"]
                    page = issue_once(user=user, form_token=token, kind=OneTimeReveal.Kind.BACKUP_CODES, work=confirm)
                    return redirect("accounts:sign-in-backup-codes", uid=page.uid)
                confirm()
            except ValidationError as error:
                add_errors(form, error)
            else:
                return next_sign_in_step(request)
        # The key is not shown again: the person enters the authenticator's next code, or starts over.
        return render(request, "accounts/sign_in_enrol.html", {"form": form})
    device = start_totp_enrolment(actor=actor, user=user)
    form = EnrolForm(initial={"device_id": device.pk})
    return render(request, "accounts/sign_in_enrol.html", enrolment_context(form, device, user))


@step_required(CHANGE_PASSWORD)
@never_cache
@sensitive_post_parameters()
def sign_in_change_password(request: SignInRequest) -> HttpResponse:
    user = request.pending_user
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actor = Actor(account=user.account, origin=request_origin(request), user=user)
        try:
            change_own_password(
                actor=actor,
                current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["new_password"],
                is_forced_reset=True,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            note_step_done(request)
            return next_sign_in_step(request)
    return render(
        request, "accounts/sign_in_change_password.html", {"form": form, "policy": user.account.password_policy}
    )


@public
@require_POST
def sign_out(request: PortalRequest) -> HttpResponse:
    destination = "accounts:owner-sign-in"
    if request.user.is_authenticated and not request.user.is_owner:
        account = request.user.ram_user.account
        logout(request)
        return redirect("accounts:ram-sign-in", domain=account.logon_domain)
    logout(request)
    return redirect(destination)
