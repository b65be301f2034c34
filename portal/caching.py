"""How browsers may keep the portal's pages."""

from collections.abc import Callable
from functools import wraps
from typing import Concatenate

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers, patch_cache_control


def form_page_cache[R: HttpRequest, **P](
    view: Callable[Concatenate[R, P], HttpResponseBase],
) -> Callable[Concatenate[R, P], HttpResponseBase]:
    """A secret-issuing form: its empty page may be kept in the browser's own cache (never a shared one), so that
    the back button brings back the same form instance, whose token makes a resubmission do nothing new
    (accounts.services.reveals). What a submission answers is never kept."""

    @wraps(view)
    def wrapped(request: R, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if request.method == "GET" and response.status_code == 200:
            patch_cache_control(response, private=True, no_cache=True, max_age=0)
        else:
            add_never_cache_headers(response)
        return response

    return wrapped
