import re

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, re_path
from django.views.static import serve

from jifen.api import api
from jifen.core.observability.views import metrics_view

urlpatterns = [
    # Prometheus, for a token or an allow-listed address (jifen.core.observability).
    path("metrics", metrics_view, name="metrics"),
    path("api/v1/", api.urls),
    path("scim/v2/", include("jifen.people.scim.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Single sign-on callbacks and two-factor pages (allauth; jifen.people.sso).
    path("accounts/", include("jifen.people.sso.urls")),
    path("", include("jifen.web_urls")),
]

if settings.DJANGO_ADMIN:
    # Only when the Django admin is served: its throttled sign-in comes with it.
    from jifen.people.admin_login import ThrottledAdminAuthenticationForm, admin_login

    admin.site.login_form = ThrottledAdminAuthenticationForm
    urlpatterns[2:2] = [
        # Its sign-in passes the same policy as every other (jifen.people.backends).
        path("django-admin/login/", admin_login),
        path("django-admin/", admin.site.urls),
    ]


def media(request: HttpRequest, path: str) -> HttpResponse:
    """Uploaded files (logos, item images), read from MEDIA_ROOT at request time."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


if settings.SERVE_MEDIA:
    # static() does nothing when DEBUG is off, so the route is spelled out here.
    urlpatterns.insert(0, re_path(
        rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$", media, name="media",
    ))
