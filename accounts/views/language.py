"""The language picker on every page: the browser remembers the choice (Django's language cookie), and a signed-in
person's account does too, so that it follows them to another browser and into what the portal sends them."""

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from accounts.models import User
from portal.gates import public


@public
@require_POST
def choose_language(request: HttpRequest) -> HttpResponseBase:
    response = set_language(request)  # the cookie, and back to the page (`next`, checked to be this site's)
    language = request.POST.get("language", "")
    if language in dict(settings.LANGUAGES) and isinstance(request.user, User):
        User.objects.filter(pk=request.user.pk).update(language=language)
    return response
