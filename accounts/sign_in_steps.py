"""The sign-in flow: password, then code, then the forced steps, then an authenticated session.

Who is signing in, and which steps are done, lives in the session under PENDING_KEY; the session
becomes authenticated only when every step is done.
"""

import time
from collections.abc import Callable
from functools import wraps
from typing import Concatenate, NotRequired, TypedDict, cast

from django.conf import settings
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.models import Device

from accounts.actors import Actor
from accounts.gates import request_origin
from accounts.models import Authenticator, User
from accounts.permissions import can_read_ram
from accounts.services.guessing import known_device_mark
from accounts.services.otp import MfaDevice, has_mfa_device
from accounts.services.password_step import identity_of, is_password_expired, record_sign_in
from portal.gates import public
from portal.requests import PortalRequest

PENDING_KEY = "pending_sign_in"
PENDING_MAX_AGE_SECONDS = 600
REMEMBER_MFA_COOKIE = "portal_mfa_remembered"
REMEMBER_MFA_SECONDS = 7 * 24 * 3600
# Marks of the identities that signed in in this browser (accounts.services.guessing): their attempts from here
# are not counted against the identity's lock on guessing.
KNOWN_DEVICE_COOKIE = "portal_known_device"
KNOWN_DEVICE_SECONDS = 180 * 24 * 3600
KNOWN_DEVICE_MARKS = 10


class PendingSignIn(TypedDict):
    """What the session keeps under PENDING_KEY while a sign-in is under way."""

    user_id: int
    auth_hash: str  # the user's session hash when the step was taken: a password changed meanwhile ends it
    started: float  # time.time()
    otp_passed: bool
    device: str | None  # the persistent ID of the device whose code was verified
    landing: NotRequired[str]  # where the completed sign-in goes, when not the person's usual first page


class SignInRequest(PortalRequest):
    """A request continuing a sign-in begun with a correct password (`pending_sign_in_required`)."""

    pending_user: User
    # Set in the request that verified a code or looked for devices, so that later steps need not look again.
    verified_device: MfaDevice
    has_mfa_device: bool


type SignInView[**P] = Callable[Concatenate[SignInRequest, P], HttpResponseBase]
type RequestView[**P] = Callable[Concatenate[HttpRequest, P], HttpResponseBase]


def known_devices(request: HttpRequest) -> frozenset[str]:
    # (With a default, a missing or tampered cookie reads as "": never None.)
    value = request.get_signed_cookie(
        KNOWN_DEVICE_COOKIE, default="", salt=KNOWN_DEVICE_COOKIE, max_age=KNOWN_DEVICE_SECONDS
    )
    return frozenset(mark for mark in (value or "").split(",") if mark)


def _remember_known_device(request: HttpRequest, response: HttpResponseBase, user: User) -> None:
    mark = known_device_mark(identity_of(user), user)
    marks = [mark, *(known for known in known_devices(request) if known != mark)]
    response.set_signed_cookie(
        KNOWN_DEVICE_COOKIE,
        ",".join(marks[:KNOWN_DEVICE_MARKS]),
        salt=KNOWN_DEVICE_COOKIE,
        max_age=KNOWN_DEVICE_SECONDS,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def begin_sign_in(
    request: HttpRequest, user: User, *, device: MfaDevice | None = None, landing: str | None = None
) -> HttpResponseRedirect:
    """After a correct password: the pending sign-in, and a redirect to its first due step (or, with none due,
    the completed sign-in). `device`: a code of it was verified with the password (past the guessing lock).
    `landing`: the page the completed sign-in opens (an accepted invitation's: My credentials)."""
    if request.session.session_key is not None:
        # A session that already exists (perhaps one planted by someone else) gets a new key; a new one is
        # made with a fresh key when it is first saved.
        request.session.cycle_key()
    pending: PendingSignIn = {
        "user_id": user.pk,
        "auth_hash": user.get_session_auth_hash(),
        "started": time.time(),
        "otp_passed": device is not None,
        "device": device.persistent_id if device is not None else None,
    }
    if landing:
        pending["landing"] = landing
    request.session[PENDING_KEY] = pending
    # From here on the request continues this sign-in: it gets what SignInRequest declares, just below.
    signing_in = cast(SignInRequest, request)
    signing_in.pending_user = user
    if device is not None:
        signing_in.verified_device = device
    return next_sign_in_step(signing_in)


def pending_sign_in_required[**P](view: SignInView[P]) -> RequestView[P]:
    """The view continues a sign-in begun with a correct password; else back to the start."""

    @public
    @wraps(view)
    def wrapped(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        user = pending_user_of(request)
        if user is None:
            return redirect("accounts:owner-sign-in")
        # The request continues this sign-in: it gets what SignInRequest declares, just below.
        signing_in = cast(SignInRequest, request)
        signing_in.pending_user = user
        return view(signing_in, *args, **kwargs)

    return wrapped


def pending_user_of(request: HttpRequest) -> User | None:
    """Who is signing in in this session, begun with a correct password and still current; None (and the pending
    sign-in dropped) otherwise."""
    state: PendingSignIn | None = request.session.get(PENDING_KEY)
    user = None
    if state and time.time() - state["started"] < PENDING_MAX_AGE_SECONDS:
        user = (
            User.objects.select_related("owned_account", "ram_user__account__security_settings")
            .filter(pk=state["user_id"], is_active=True)
            .first()
        )
    if user is None or state is None or user.get_session_auth_hash() != state["auth_hash"]:
        request.session.pop(PENDING_KEY, None)
        return None
    return user


def passkey_step_done(request: HttpRequest, device: Device) -> None:
    """A passkey of the pending person answered the verification step (accounts.passkeys): as a code would."""
    user = pending_user_of(request)
    if user is None or device.user_id != user.pk:
        raise PermissionDenied(_("There is no sign-in under way for this passkey."))
    signing_in = cast(SignInRequest, request)
    signing_in.pending_user = user
    if due_step(signing_in) != VERIFY:
        raise PermissionDenied(_("This sign-in does not ask for a passkey now."))
    note_step_done(signing_in, device=device)


def note_step_done(request: SignInRequest, *, device: MfaDevice | None = None) -> None:
    state: PendingSignIn = request.session[PENDING_KEY]
    if device is not None:
        state["device"] = device.persistent_id
        state["otp_passed"] = True
        request.verified_device = device  # the same row next_sign_in_step would load again
    state["auth_hash"] = request.pending_user.get_session_auth_hash()
    request.session[PENDING_KEY] = state


VERIFY, ENROL, CHANGE_PASSWORD = "accounts:sign-in-verify", "accounts:sign-in-enrol", "accounts:sign-in-change-password"


def due_step(request: SignInRequest) -> str | None:
    """The one step the pending user must take now (its URL name), or None when sign-in can complete.

    Every step's view checks that it is the due one: otherwise a correct password alone would let anyone
    jump to enrolment (replacing the real authenticator) or to the password change, skipping the code.
    """
    user = request.pending_user
    state: PendingSignIn = request.session[PENDING_KEY]
    # Asked again after a step in the same request: a device found stays found, while enrolment may add one.
    has_device = getattr(request, "has_mfa_device", False) or has_mfa_device(user)
    request.has_mfa_device = has_device
    if has_device and not state["otp_passed"]:
        if not is_mfa_remembered(request, user):
            return VERIFY
        state["otp_passed"] = True
        request.session[PENDING_KEY] = state
    if user.is_owner:
        return None if has_device else ENROL
    ram_user = user.ram_user
    if ram_user.must_reset_password or is_password_expired(user, ram_user.account):
        return CHANGE_PASSWORD
    if ram_user.must_bind_mfa and not has_device:
        return ENROL
    return None


def step_required[**P](step: str) -> Callable[[SignInView[P]], RequestView[P]]:
    """The view is the given sign-in step; when another step is due, the person is sent there."""

    def decorator(view: SignInView[P]) -> RequestView[P]:
        @pending_sign_in_required
        @wraps(view)
        def wrapped(request: SignInRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
            if due_step(request) != step:
                return next_sign_in_step(request)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def next_sign_in_step(request: SignInRequest) -> HttpResponseRedirect:
    """A redirect to the next step the pending user must take, or the completed sign-in."""
    user = request.pending_user
    step = due_step(request)
    if step is not None:
        return redirect(step)
    state: PendingSignIn = request.session[PENDING_KEY]
    device: MfaDevice | None = getattr(request, "verified_device", None)
    if device is None or device.persistent_id != state["device"]:
        device = Device.from_persistent_id(state["device"]) if state["device"] else None
    del request.session[PENDING_KEY]
    landing = state.get("landing") or landing_url(user)
    login(request, user)
    if device is not None:
        otp_login(request, device)
    if not user.is_owner:
        request.session.set_expiry(user.ram_user.account.security_settings.session_hours * 3600)
    record_sign_in(actor=Actor(account=user.account, origin=request_origin(request), user=user))
    response = redirect(landing)
    _remember_known_device(request, response, user)
    if device is not None and not user.is_owner and user.ram_user.account.security_settings.remember_mfa_for_7_days:
        response.set_signed_cookie(
            REMEMBER_MFA_COOKIE,
            _remembered_value(user),
            salt=REMEMBER_MFA_COOKIE,
            max_age=REMEMBER_MFA_SECONDS,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    return response


def _remembered_value(user: User) -> str:
    # Bound to the device and the session generation: a new device or "sign out everywhere" forgets it.
    device_ids = sorted(Authenticator.objects.filter(user=user, confirmed=True).values_list("pk", flat=True))
    return f"{user.pk}:{device_ids}:{user.session_generation}"


def is_mfa_remembered(request: HttpRequest, user: User) -> bool:
    """A RAM user's browser that passed MFA within 7 days skips the code, where the settings allow it."""
    if user.is_owner or not user.ram_user.account.security_settings.remember_mfa_for_7_days:
        return False
    value = request.get_signed_cookie(
        REMEMBER_MFA_COOKIE, default=None, salt=REMEMBER_MFA_COOKIE, max_age=REMEMBER_MFA_SECONDS
    )
    return value is not None and value == _remembered_value(user)


def landing_url(user: User) -> str:
    if user.is_owner or can_read_ram(user):
        return reverse("accounts:overview")
    return reverse("accounts:my-credentials")
