"""Passkeys and FIDO2 security keys as an MFA method, through django-otp-webauthn (its credential model, its
WebAuthn ceremonies and their browser script), fitted to the portal:

- the relying party is the host the person reached (as ALLOWED_HOSTS and the TLS proxy settings let it be seen), so
  that a deployment needs no extra setting, and the only origin accepted is that same scheme and host;
- adding a passkey needs a code from one of the person's MFA devices first (as adding a TOTP device does), and counts
  towards the PORTAL_MAX_MFA_DEVICES limit; the library's own default views (passwordless sign-in among them) are not
  mounted;
- at sign-in, a passkey answers the verification step of the pending person instead of a code.
"""

import ipaddress
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware import csrf
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django_otp_webauthn import exceptions
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from accounts.actors import Actor
from accounts.gates import request_origin
from accounts.models import User
from accounts.services.otp import (
    PASSKEY_NAME,
    device_name_problems,
    issue_passkey_code,
    mfa_device_count,
    suggested_device_name,
)
from accounts.sign_in_steps import passkey_step_done, pending_user_of
from portal.audit import record_event

# How long a code checked on the "Add a passkey" page lets the person register one.
REGISTRATION_WINDOW = timedelta(minutes=5)
REGISTRATION_ALLOWED_UNTIL = "passkey_registration_allowed_until"
REGISTRATION_NAME = "passkey_registration_name"
# The library's own words for these refusals, which its script shows: in the portal's catalogue too, for translation.
NO_ONE_SIGNED_IN = gettext_lazy("Authentication required.")
NOT_THEIR_PASSKEY = gettext_lazy("The Passkey you tried to use was not found. Perhaps it was removed?")


def rp_id(request: HttpRequest) -> str:
    """The relying party's ID: the host name the person reached, without its port."""
    host = request.get_host()
    return host if host.endswith("]") else host.rsplit(":", 1)[0]


def passkeys_possible(request: HttpRequest) -> bool:
    """Whether WebAuthn can work here: the relying party must be a host name, never an IP address."""
    try:
        ipaddress.ip_address(rp_id(request).strip("[]"))
    except ValueError:
        return True
    return False


class PortalWebAuthnHelper(WebAuthnHelper):
    """The library's helper with the portal's relying party, origin and names."""

    def get_allowed_origins(self) -> list[str]:
        """The portal's configured origin (PORTAL_BASE_URL) and the one this request reached."""
        return [*settings.OTP_WEBAUTHN_ALLOWED_ORIGINS, f"{self.request.scheme}://{self.request.get_host()}"]

    def get_relying_party_name(self) -> str:
        return "RAM Onboarding Portal"

    def get_credential_name(self, user: Any) -> str:
        return str(user.display)

    def get_credential_display_name(self, user: Any) -> str:
        return str(user.display)


def passkeys_of(user: User) -> Any:
    """The person's registered passkeys (django-otp devices), oldest first."""
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("pk")


def allow_registration(request: HttpRequest, *, name: str) -> None:
    """The code was checked: the person may register a passkey, to be named `name`, for the next few minutes."""
    request.session[REGISTRATION_ALLOWED_UNTIL] = (timezone.now() + REGISTRATION_WINDOW).isoformat()
    request.session[REGISTRATION_NAME] = name


def registration_allowed(request: HttpRequest) -> bool:
    until = request.session.get(REGISTRATION_ALLOWED_UNTIL)
    return isinstance(until, str) and timezone.now().isoformat() < until


class RegistrationNotAllowed(exceptions.OTPWebAuthnApiError):
    status_code = 403
    default_code = "registration_not_allowed"
    default_detail = gettext_lazy("Enter a code from one of your MFA devices first, then add the passkey.")


class TooManyDevices(exceptions.OTPWebAuthnApiError):
    status_code = 403
    default_code = "too_many_devices"
    default_detail = gettext_lazy("You have the most MFA devices allowed: remove one before adding another.")


class PortalRegistrationMixin:
    request: HttpRequest

    def check_can_register(self) -> None:
        if not registration_allowed(self.request):
            raise RegistrationNotAllowed()
        user = self.request.user
        assert isinstance(user, User)
        if mfa_device_count(user) >= settings.PORTAL_MAX_MFA_DEVICES:
            raise TooManyDevices()


class BeginPasskeyRegistration(PortalRegistrationMixin, BeginCredentialRegistrationView):
    pass


class CompletePasskeyRegistration(PortalRegistrationMixin, CompleteCredentialRegistrationView):
    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().post(*args, **kwargs)
        user = self.request.user
        assert isinstance(user, User)
        self.request.session.pop(REGISTRATION_ALLOWED_UNTIL, None)
        chosen = self.request.session.pop(REGISTRATION_NAME, "")
        device = WebAuthnCredential.objects.filter(user=user).order_by("-pk").first()
        if device is not None and response.status_code == 200:
            # The name chosen with the code (still free? another device may have taken it meanwhile), else one offered.
            free = isinstance(chosen, str) and chosen and not device_name_problems(user, chosen)
            device.name = chosen if free else suggested_device_name(user, base=PASSKEY_NAME)
            device.save(update_fields=["name"])
            record_event(
                actor=Actor(account=user.account, origin=request_origin(self.request), user=user),
                action="mfa.passkey_add",
                target=user.display,
                details={"device": device.name},
            )
        return response


class ConfirmationPasskeyMixin:
    """A signed-in person's passkey confirms "it is you" for a form that asks for a code (accounts.views.passkeys):
    its fresh signature becomes a one-time code (PasskeyProof) that the page puts in the code field and sends."""

    request: HttpRequest
    passkey_code: str = ""

    def get_user(self) -> User | None:
        user = self.request.user
        return user if isinstance(user, User) and user.is_authenticated else None

    def check_can_authenticate(self) -> None:
        if self.get_user() is None:
            raise exceptions.NotAuthenticated(NO_ONE_SIGNED_IN)


class BeginPasskeyConfirmation(ConfirmationPasskeyMixin, BeginCredentialAuthenticationView):
    pass


class CompletePasskeyConfirmation(ConfirmationPasskeyMixin, CompleteCredentialAuthenticationView):
    def complete_auth(self, device: Any) -> None:
        user = self.get_user()
        if user is None or device.user_id != user.pk:
            raise exceptions.CredentialNotFound(NOT_THEIR_PASSKEY)
        self.passkey_code = issue_passkey_code(user=user, device=device)

    def get_success_url(self) -> str:
        return ""  # the page stays: its script puts the code in the form (portal.js)

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().post(*args, **kwargs)
        if self.passkey_code:
            response[PASSKEY_CODE_HEADER] = self.passkey_code
        return response


# Where the confirmation's one-time code travels to the page's script (the library's script reads the JSON body;
# a header leaves its answer as it expects it).
PASSKEY_CODE_HEADER = "X-Portal-Passkey-Code"


class SignInPasskeyMixin:
    """A passkey answers the verification step of a pending sign-in (accounts.sign_in_steps)."""

    request: HttpRequest

    def get_user(self) -> User | None:
        return pending_user_of(self.request)

    def check_can_authenticate(self) -> None:
        if self.get_user() is None:
            raise exceptions.NotAuthenticated(NO_ONE_SIGNED_IN)


class BeginPasskeySignIn(SignInPasskeyMixin, BeginCredentialAuthenticationView):
    pass


class CompletePasskeySignIn(SignInPasskeyMixin, CompleteCredentialAuthenticationView):
    def complete_auth(self, device: Any) -> None:
        if device.user_id != getattr(self.get_user(), "pk", None):
            raise exceptions.CredentialNotFound(NOT_THEIR_PASSKEY)
        passkey_step_done(self.request, device)

    def get_success_url(self) -> str:
        return reverse("accounts:sign-in-continue")


def passkey_configuration(request: HttpRequest, *, ceremony: str) -> dict[str, object]:
    """What the library's script reads from the page (its `otp_webauthn_config`): the portal's own endpoints of one
    ceremony ("register", "sign-in" or "confirm")."""
    authentication = {"sign-in": "passkey-sign-in", "confirm": "passkey-confirmation"}.get(ceremony)
    return {
        "autocompleteLoginFieldSelector": None,
        "nextFieldSelector": "input[name='next']",
        "csrfToken": csrf.get_token(request),
        "beginRegistrationUrl": reverse("accounts:begin-passkey-registration") if ceremony == "register" else "",
        "completeRegistrationUrl": reverse("accounts:complete-passkey-registration") if ceremony == "register" else "",
        "beginAuthenticationUrl": reverse(f"accounts:begin-{authentication}") if authentication else "",
        "completeAuthenticationUrl": reverse(f"accounts:complete-{authentication}") if authentication else "",
    }


def passkey_confirmation(request: HttpRequest) -> dict[str, object] | None:
    """What a page needs to offer "Use a passkey" beside its code fields (portal.js asks for it): the confirmation
    ceremony's configuration and the library's script, for a person who has a passkey usable on this host."""
    user = request.user
    if not isinstance(user, User) or not passkeys_possible(request) or not passkeys_of(user).exists():
        return None
    return {
        "configuration": passkey_configuration(request, ceremony="confirm"),
        "texts": reverse("accounts:passkey-script-texts"),
        "script": static("django_otp_webauthn/otp_webauthn_auth.js"),
    }
