from django.conf import settings


def portal(request):
    return {"portal_base_url": settings.PORTAL_BASE_URL, "portal_demo": settings.PORTAL_DEMO}
