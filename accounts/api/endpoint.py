"""The OpenAPI endpoint (RPC style) on "/", as the official SDKs call it: RAM (2015-05-01), IMS (2019-08-15) and STS
(2015-04-01).

A thin adapter: check the signature (first, whatever the product), find the key's holder, call the same services as
the web pages, and answer in RAM's JSON shapes with a RequestId on every response.
"""

from datetime import timedelta

from django.conf import settings as django_settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.utils import timezone

from accounts.actors import Actor
from accounts.api import ims, ram, sts  # noqa: F401 - registers each product's actions
from accounts.api.registry import PRODUCTS, ApiError, Params, ResponseFields
from accounts.gates import signed_request_actor
from accounts.models import AccessKey
from accounts.services.access_keys import open_secret
from portal.middleware import GetResponse
from portal.requests import PortalRequest
from portal.signing import (
    SignatureError,
    forget_nonce,
    nonce_goes_with_the_key,
    parse_signed_request,
    verify_signature,
)

HOST_ID = "ram.aliyuncs.com"
RATE_WINDOW = timedelta(seconds=1)  # PORTAL_API_CALLS_PER_SECOND counts a key's calls over the last one


def is_api_call(request: HttpRequest) -> bool:
    return request.path_info == "/" and ("Action" in request.GET or "x-acs-action" in request.headers)


class RamApiMiddleware:
    """Answers RAM OpenAPI calls on "/" (RAM's own host serves both) ahead of the browser's middleware.

    A signed call carries no cookie, session, form token or page: it authenticates by its signature alone,
    so sessions, CSRF, sign-in, messages and page security headers have nothing to do for it, and skipping
    them keeps a signed call close to the cost of a no-op page (SPEC §7). What every response needs (the
    security middleware's headers and HTTPS redirect, the request ID) runs before this one.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: PortalRequest) -> HttpResponseBase:
        if is_api_call(request):
            request.get_host()  # ALLOWED_HOSTS holds here too (CommonMiddleware, which checks it, comes later)
            return rpc_endpoint(request)
        return self.get_response(request)


def _params(request: HttpRequest) -> dict[str, str]:
    params = {key: request.GET[key] for key in request.GET}
    if request.content_type == "application/x-www-form-urlencoded":
        params.update({key: request.POST[key] for key in request.POST})
    return params


def _answer(request: PortalRequest, body: ResponseFields, status: int = 200) -> JsonResponse:
    response = JsonResponse({"RequestId": request.request_id, **body}, status=status)
    response["Cache-Control"] = "no-store"
    response["Content-Length"] = str(len(response.content))
    return response


def _error(
    request: PortalRequest, code: str, message: str, status: int, extra: ResponseFields | None = None
) -> JsonResponse:
    return _answer(request, {"HostId": HOST_ID, "Code": code, "Message": message, **(extra or {})}, status)


def _refusal(request: PortalRequest, error: ApiError, actor: Actor | None, service: str, name: str) -> JsonResponse:
    detail = None
    if error.code == "NoPermission" and actor is not None:
        detail = access_denied_detail(actor, service, name, error)
    response = _error(request, error.code, error.message, error.status, detail)
    if error.retry_after_ms:
        # The official SDKs wait x-acs-retry-after milliseconds before they retry a ThrottlingError; Retry-After
        # (whole seconds) is HTTP's own.
        response["x-acs-retry-after"] = str(error.retry_after_ms)
        response["Retry-After"] = str(-(-error.retry_after_ms // 1000))
    return response


def access_denied_detail(actor: Actor, service: str, action: str, error: ApiError) -> ResponseFields:
    """RAM's AccessDeniedDetail of a NoPermission answer: the action, the principal, and the policy it lacks."""
    person = actor.person
    return {
        "AccessDeniedDetail": {
            "AuthAction": f"{service}:{action}",
            "AuthPrincipalType": "Account" if person.is_owner else "SubUser",
            "AuthPrincipalOwnerId": actor.account.account_id,
            "AuthPrincipalDisplayName": person.principal,
            "NoPermissionType": "ImplicitDeny",
            "PolicyType": "AccountLevelIdentityBasedPolicy",
            "MissingPolicy": error.missing_policy,
        }
    }


def rpc_endpoint(request: PortalRequest) -> JsonResponse:
    params = _params(request)
    actor: Actor | None = None
    service, name = "ram", ""
    try:
        name = params.get("Action") or request.headers.get("x-acs-action", "")
        version = params.get("Version") or request.headers.get("x-acs-version", "")
        if any("\x00" in value for value in (*params.values(), *request.headers.values())):
            # No name, nonce, key ID or text holds a NUL, and PostgreSQL refuses one even in a query: refused
            # before any (parameters, and the headers that carry the ACS3 signature's fields).
            raise ApiError("InvalidParameter", "A parameter or header contains a NUL character.")
        service, product = PRODUCTS.get(version, ("ram", None))
        actor = authenticate(request, params, service=service)  # first: a wrong secret is told so, whatever it asks
        if product is None:
            raise ApiError("InvalidVersion", "Specified parameter Version is not valid.", 400)
        handler = product.get(name)
        if handler is None:
            raise ApiError(
                "InvalidAction.NotFound", "Specified api is not found, please check your url and method.", 404
            )
        return _answer(request, handler(actor, Params(params)))
    except SignatureError as error:
        return _error(request, error.code, error.message, error.status)
    except ApiError as error:
        return _refusal(request, error, actor, service, name)


def authenticate(request: PortalRequest, params: dict[str, str], *, service: str = "ram") -> Actor:
    """The actor a correctly signed request acts as; SignatureError or ApiError otherwise.

    Each AccessKey may make `PORTAL_API_CALLS_PER_SECOND` calls in any second (0: no limit); beyond, a correctly
    signed call gets `Throttling.User`, which the official SDKs retry after x-acs-retry-after. The calls are counted
    from the nonces the key's signed requests left (the last second's, in the key's own lookup): shared by every
    process on one database, and nothing to write. A throttled call takes its nonce back out, so it does not count
    and the same request may be sent again."""
    signed = parse_signed_request(request, params)
    noted: bool | None = None
    now = timezone.now()
    limit = django_settings.PORTAL_API_CALLS_PER_SECOND
    since = now - RATE_WINDOW
    if nonce_goes_with_the_key(signed, now):
        access_key, noted = AccessKey.objects.for_signature_noting_nonce(
            signed.access_key_id, signed.nonce, now, calls_since=since, calls_limit=limit
        )
    else:
        access_key = AccessKey.objects.for_signature(signed.access_key_id, calls_since=since, calls_limit=limit)
    if access_key is None:
        raise ApiError("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
    if not access_key.is_active:
        raise ApiError("InvalidAccessKeyId.Inactive", "Specified access key is disabled.", 400)
    query = {key: request.GET[key] for key in request.GET}
    try:
        verify_signature(request, signed, open_secret(access_key), query=query, params=params, nonce_noted=noted)
    except SignatureError:
        if noted:
            forget_nonce(signed.access_key_id, signed.nonce)
        raise
    if limit and access_key.recent_calls >= limit:
        forget_nonce(signed.access_key_id, signed.nonce)
        raise ApiError(
            "Throttling.User",
            "Request was denied due to user flow control.",
            400,
            retry_after_ms=int(RATE_WINDOW.total_seconds() * 1000),
        )
    return signed_request_actor(request, access_key, service=service)
