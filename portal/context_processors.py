from django.conf import settings
from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, object]:
    return {"portal_base_url": settings.PORTAL_BASE_URL, "portal_demo": settings.PORTAL_DEMO}
