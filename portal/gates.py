"""Marks for views that the deny-by-default gate lets through without a completed sign-in."""


def public(view):
    """Anyone may open this view: sign-in pages, static files, signed API endpoints."""
    view.is_public = True
    return view
