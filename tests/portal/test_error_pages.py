"""The error pages are the portal's own, in its layout (issue 13): 400, 403, 404 and 500, and a refused form.

The 500 page is rendered without the request's context and so without the database, which may be what failed: its
test has no database at all (pytest-django refuses every query of a test without the `db` mark).
"""

import html
import re

import pytest
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path, reverse

import portal.urls
from portal.gates import public
from tests.conftest import signed_in

SKIP_LINK = '<a class="skip-link visually-hidden-focusable" href="#main-content">Skip to main content</a>'


@public
def database_down(request: HttpRequest) -> HttpResponse:
    raise OperationalError("could not connect to server: Connection refused")


# This module is also the URLconf of the 500 test: the portal's URLs and handlers, plus a view that fails.
urlpatterns = [path("test-only/database-down/", database_down), *portal.urls.urlpatterns]
handler400, handler403 = portal.urls.handler400, portal.urls.handler403
handler404, handler500 = portal.urls.handler404, portal.urls.handler500


def error_page(response, status: int, template: str) -> tuple[str, str]:
    """The page's <h1> and its whole text, after checking the status, the template and the portal's layout."""
    assert response.status_code == status
    names = [t.name for t in response.templates]
    assert names[:2] == [template, "base.html"], names
    page = html.unescape(response.content.decode())
    assert page.index(SKIP_LINK) < page.index("<nav")  # the layout: skip link, navigation, main content
    assert '<main class="container-xl pb-5" id="main-content" tabindex="-1">' in page
    assert f'data-status="{status}"' in page
    [heading] = re.findall(r"<h1[^>]*>(.*?)</h1>", page, flags=re.S)
    return heading, page


def test_the_handlers_are_djangos_views_of_the_portals_templates():
    assert portal.urls.handler400 == "django.views.defaults.bad_request"
    assert portal.urls.handler403 == "django.views.defaults.permission_denied"
    assert portal.urls.handler404 == "django.views.defaults.page_not_found"
    assert portal.urls.handler500 == "django.views.defaults.server_error"


def test_an_unknown_address_gets_the_portals_404_page_with_its_navigation(owner):
    heading, page = error_page(signed_in(owner).get("/no-such-page/"), 404, "404.html")
    assert heading == "Not found"
    assert "There is nothing here" in page
    assert reverse("accounts:user-list") in page  # the signed-in owner's navigation is there
    assert "Sign out" in page


def test_an_anonymous_visitor_gets_the_404_page_too_not_a_sign_in_redirect(db):
    heading, page = error_page(Client().get("/no-such-page/"), 404, "404.html")
    assert heading == "Not found"
    assert "Sign out" not in page


def test_another_accounts_user_gets_the_same_404_page(owner, other_ram_user):
    url = reverse("accounts:user-detail", args=[other_ram_user.ram_user.pk])
    heading, _ = error_page(signed_in(owner).get(url), 404, "404.html")
    assert heading == "Not found"


def test_a_page_the_user_may_not_open_gets_the_portals_403_page_saying_why(ram_user):
    response = signed_in(ram_user).get(reverse("accounts:create-account-access-key"))
    heading, page = error_page(response, 403, "403.html")
    assert heading == "Not allowed"
    assert "Only the owner manages the primary account's AccessKeys." in page
    assert reverse("accounts:my-credentials") in page  # the RAM user's own navigation


def test_a_nul_character_gets_the_portals_400_page(owner):
    heading, page = error_page(signed_in(owner).get("/users/?q=a%00b"), 400, "400.html")
    assert heading == "Bad request"
    assert "Nothing was changed." in page
    # Rendered without the request's context: no navigation, no user, whoever asked.
    assert "Sign out" not in page and owner.user.email not in page


def test_a_form_sent_without_its_csrf_token_gets_the_portals_expired_form_page(owner):
    response = Client(enforce_csrf_checks=True).post(
        reverse("accounts:owner-sign-in"), {"email": owner.user.email, "password": owner.password}
    )
    heading, page = error_page(response, 403, "403_csrf.html")
    assert heading == "The form has expired"
    assert "nothing was changed" in page
    assert "reload the page and send the form again" in page


@pytest.mark.urls(__name__)
def test_a_server_error_gets_the_portals_500_page_without_touching_the_database():
    # No `db` mark: any query while the page renders would fail this test.
    response = Client(raise_request_exception=False).get("/test-only/database-down/")
    heading, page = error_page(response, 500, "500.html")
    assert heading == "Something went wrong"
    assert "could not connect" not in page  # nothing of the error itself reaches the person
    assert "/static/portal/portal.css" in page  # in the portal's styles
