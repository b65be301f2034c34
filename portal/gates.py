"""Marks for views that the deny-by-default gate lets through without a completed sign-in."""

from collections.abc import Callable

from django.http import HttpResponseBase


def public[V: Callable[..., HttpResponseBase]](view: V) -> V:
    """Anyone may open this view: sign-in pages, static files, signed API endpoints."""
    view.is_public = True  # type: ignore[attr-defined]  # a mark on the function, read by the middleware
    return view
