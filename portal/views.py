from django.core import checks
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache

from portal.gates import public


@public
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """A no-op for load balancers (and the baseline of the API benchmark): the process answers."""
    return HttpResponse("ok", content_type="text/plain")


@public
@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Ready to serve: the database answers, and the keyring opens the secrets stored in it (one of each key version,
    as at start-up). 503 with the reasons otherwise, which name no secret."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        return HttpResponse(f"database: not answering ({type(error).__name__})", content_type="text/plain", status=503)
    problems = [
        f"{message.id}: {message.msg}"
        for message in checks.run_checks(tags=[checks.Tags.security])
        if message.level >= checks.WARNING
    ]
    if problems:
        return HttpResponse("\n".join(problems), content_type="text/plain", status=503)
    return HttpResponse("ready: database ok, keyring ok", content_type="text/plain")
