"""The portal's lists, a page at a time: each list's size is one named setting (PORTAL_PAGE_SIZES)."""

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Model, QuerySet
from django.http import HttpRequest


def page_of[M: Model](items: QuerySet[M], request: HttpRequest, *, list_name: str) -> Page[M]:
    """The page the request asks for (the last one past the end, the first one for anything not a number)."""
    return Paginator(items, settings.PORTAL_PAGE_SIZES[list_name]).get_page(request.GET.get("page"))
