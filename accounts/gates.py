"""Gates for views, and the Actor a request acts as."""

import ipaddress
from collections.abc import Callable
from functools import wraps
from typing import Concatenate

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from accounts.actors import Actor
from accounts.models import AccessKey, User
from accounts.permissions import can_read_ram, can_write_ram
from accounts.services.access_keys import record_access_key_use
from accounts.services.reveals import earlier_submission
from portal.audit import Origin
from portal.requests import PortalRequest


class SignedInRequest(PortalRequest):
    """A request past `SignInRequiredMiddleware` (every view not marked public): its user finished signing in."""

    user: User


# A view behind sign-in: its first argument is the signed-in request; the gates keep the rest of its signature.
type SignedInView[**P, R: HttpResponseBase] = Callable[Concatenate[SignedInRequest, P], R]


def client_ip(request: HttpRequest) -> str:
    """The client's address: the peer's, or behind a TLS proxy (BEHIND_TLS_PROXY) the one the proxy saw. The proxy's
    X-Forwarded-For counts only when the peer is a trusted proxy, and is read from the right: the last address that
    is not a trusted proxy is the client (whatever a client wrote to the left of it is its own claim)."""
    address = str(request.META.get("REMOTE_ADDR") or "0.0.0.0")
    if not settings.BEHIND_TLS_PROXY or not _is_trusted_proxy(address):
        return address
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    for listed in reversed(forwarded.split(",")):
        hop = listed.strip()
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return address  # a malformed header: the peer is all that is known
        if not _is_trusted_proxy(hop):
            return hop
    return address


def _is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(proxy, strict=False) for proxy in settings.TRUSTED_PROXIES)


def request_origin(request: HttpRequest) -> Origin:
    return Origin(channel="console", source_ip=client_ip(request), request_id=getattr(request, "request_id", ""))


def own_page(user: User) -> str:
    """The signed-in person's own page: My account (the owner) or My credentials (a RAM user)."""
    return reverse("accounts:my-account" if user.is_owner else "accounts:my-credentials")


def actor_of(request: SignedInRequest) -> Actor:
    return Actor(account=request.user.account, origin=request_origin(request), user=request.user)


def signed_request_actor(request: PortalRequest, access_key: AccessKey, *, service: str) -> Actor:
    """The actor of a request whose signature `access_key` has verified (either API); its use is recorded."""
    record_access_key_use(access_key=access_key, channel="api", service=service)
    user = access_key.user
    origin = Origin(channel="api", source_ip=client_ip(request), request_id=request.request_id)
    return Actor(account=user.account, origin=origin, user=user)


def _gate[**P, R: HttpResponseBase](
    check: Callable[[User], bool], message: StrOrPromise
) -> Callable[[SignedInView[P, R]], SignedInView[P, R]]:
    def decorator(view: SignedInView[P, R]) -> SignedInView[P, R]:
        @wraps(view)
        def wrapped(request: SignedInRequest, /, *args: P.args, **kwargs: P.kwargs) -> R:
            if not check(request.user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


ram_reader_required = _gate(can_read_ram, gettext_lazy("You are not allowed to view RAM users."))
ram_writer_required = _gate(can_write_ram, gettext_lazy("You are not allowed to change RAM users."))
owner_required = _gate(lambda user: user.is_owner, gettext_lazy("Only the primary account's owner can do this."))
ram_user_required = _gate(lambda user: not user.is_owner, gettext_lazy("This page is for RAM users."))


def repeats_go_to_their_page[**P, R: HttpResponseBase](
    view: SignedInView[P, R],
) -> SignedInView[P, R | HttpResponseRedirect]:
    """A repeated submission of a secret-issuing form (its token claimed before) goes straight to the one-time page of
    the first, before the form is looked at: whatever the form would now say of itself (a used code, a device bound
    meanwhile, a password field the browser left empty) must not stand in the way of the secrets or hide them."""

    @wraps(view)
    def wrapped(request: SignedInRequest, /, *args: P.args, **kwargs: P.kwargs) -> R | HttpResponseRedirect:
        if request.method == "POST" and request.user.is_authenticated:
            earlier = earlier_submission(user=request.user, form_token=request.POST.get("form_token", ""))
            if earlier is not None:
                return redirect(earlier)
        return view(request, *args, **kwargs)

    return wrapped
