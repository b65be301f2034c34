from django.urls import include, path

from portal.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("accounts.urls")),
    path("", include("projects.urls")),
]
