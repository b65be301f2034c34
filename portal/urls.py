from django.urls import include, path

from portal.views import healthz, readyz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("", include("accounts.urls")),
    path("", include("projects.urls")),
]

# The portal's own error pages, in its layout: templates/400.html, 403.html, 404.html and 500.html (and 403_csrf.html
# for a refused form). Django's views render them, 400 and 500 without the request's context, so that those two need
# no session and no database. With DEBUG on Django shows its debug pages instead, which is why the demo runs with
# DEBUG off (portal/settings.py).
handler400 = "django.views.defaults.bad_request"
handler403 = "django.views.defaults.permission_denied"
handler404 = "django.views.defaults.page_not_found"
handler500 = "django.views.defaults.server_error"
