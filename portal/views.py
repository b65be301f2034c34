from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache

from portal.gates import public


@public
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """A no-op for load balancers (and the baseline of the API benchmark)."""
    return HttpResponse("ok", content_type="text/plain")
