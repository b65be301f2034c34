import uuid

from django.conf import settings
from django.contrib.auth.views import redirect_to_login


class RequestIdMiddleware:
    """Gives every request an ID (RAM-style) that the audit trail and the response both carry."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = str(uuid.uuid4()).upper()
        response = self.get_response(request)
        response["X-Request-Id"] = request.request_id
        return response


class SignInRequiredMiddleware:
    """Deny by default: every view needs a completed sign-in unless it is marked public.

    A session only becomes authenticated at the end of the sign-in flow (password, code, forced steps),
    so an authenticated user here is a verified one.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "is_public", False):
            return None
        if request.path.startswith(settings.STATIC_URL):
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return None
