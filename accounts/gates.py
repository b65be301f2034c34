"""Gates for views, and the Actor a request acts as."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

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


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"


def request_origin(request) -> Origin:
    return Origin(channel="console", source_ip=client_ip(request), request_id=getattr(request, "request_id", ""))


def actor_of(request) -> Actor:
    return Actor(account=request.user.account, origin=request_origin(request), user=request.user)


def signed_request_actor(request, access_key: AccessKey, *, service: str) -> Actor:
    """The actor of a request whose signature `access_key` has verified (either API); its use is recorded."""
    record_access_key_use(access_key=access_key, channel="api", service=service)
    user = access_key.user
    origin = Origin(channel="api", source_ip=client_ip(request), request_id=request.request_id)
    return Actor(account=user.account, origin=origin, user=user)


def _gate(check, message):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


ram_reader_required = _gate(can_read_ram, "You are not allowed to view RAM users.")
ram_writer_required = _gate(can_write_ram, "You are not allowed to change RAM users.")
owner_required = _gate(lambda user: user.is_owner, "Only the primary account's owner can do this.")
ram_user_required = _gate(lambda user: not user.is_owner, "This page is for RAM users.")


def repeats_go_to_their_page(view):
    """A repeated submission of a secret-issuing form (its token claimed before) goes straight to the one-time page of
    the first, before the form is looked at: whatever the form would now say of itself (a used code, a device bound
    meanwhile, a password field the browser left empty) must not stand in the way of the secrets or hide them."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "POST" and request.user.is_authenticated:
            earlier = earlier_submission(user=request.user, form_token=request.POST.get("form_token", ""))
            if earlier is not None:
                return redirect(earlier)
        return view(request, *args, **kwargs)

    return wrapped
