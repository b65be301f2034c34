import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import BadRequest
from django.core.handlers.exception import response_for_exception
from django.http import HttpRequest, HttpResponseBase
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from portal.requests import PortalRequest

GetResponse = Callable[[HttpRequest], HttpResponseBase]


class RequestIdMiddleware:
    """Gives every request an ID (RAM-style) that the audit trail and the response both carry."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: PortalRequest) -> HttpResponseBase:
        request.request_id = str(uuid.uuid4()).upper()
        response = self.get_response(request)
        response["X-Request-Id"] = request.request_id
        return response


class SignInRequiredMiddleware:
    """Deny by default: every view needs a completed sign-in unless it is marked public.

    A session only becomes authenticated at the end of the sign-in flow (password, code, forced steps),
    so an authenticated user here is a verified one.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponseBase | None:
        if getattr(view_func, "is_public", False):
            return None
        if request.path.startswith(settings.STATIC_URL):
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return None


class RejectNulMiddleware:
    """A NUL character is never valid input, and PostgreSQL refuses it with an error: answer 400 up front."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        # (The RAM API, answered before this, refuses NUL itself, in RAM's error shape.)
        values = [request.path, *(value for _, values in request.GET.lists() for value in values)]
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            values.extend(value for _, values in request.POST.lists() for value in values if isinstance(value, str))
        if any("\x00" in value for value in values):
            # The portal's 400 page, in the browser's language (the person's own is not known this early).
            with translation.override(translation.get_language_from_request(request)):
                return response_for_exception(request, BadRequest("A NUL character is never valid input."))
        return self.get_response(request)


class LanguageMiddleware(LocaleMiddleware):
    """The language of a page: the signed-in person's own (chosen with the language picker, or given by the
    administrator who created the RAM user), else the one this browser chose (its cookie), else the first the browser
    asks for that the portal speaks (Accept-Language), else English. Django's LocaleMiddleware adds Content-Language
    and Vary to the response."""

    def process_request(self, request: HttpRequest) -> None:
        user = request.user
        own = getattr(user, "language", "") if user.is_authenticated else ""
        language = own if own in dict(settings.LANGUAGES) else translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        answered = super().process_response(request, response)
        # The thread's next request may be the signed API's, answered before this middleware: in English, as RAM.
        translation.deactivate()
        return answered
