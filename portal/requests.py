"""The request as the portal's middleware leaves it, for type checking: what views and gates may rely on."""

from django.http import HttpRequest


class PortalRequest(HttpRequest):
    """Every request: `RequestIdMiddleware` gives it the RAM-style ID that the audit trail and the response carry."""

    request_id: str
