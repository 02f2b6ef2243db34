"""allauth's pages under /accounts/: the providers' login and callback views and the
two-factor pages. Its own password sign-in, sign-up and password reset are not offered:
they lead to our sign-in page (decision 0020), whose policy they would skip."""

from django.urls import include, path, re_path
from django.views.generic import RedirectView

_to_login = RedirectView.as_view(pattern_name="login", query_string=True)

urlpatterns = [
    re_path(r"^(login|signup|password/reset|password/change|password/set|email|"
            r"login/code|3rdparty/signup)/$", _to_login),
    path("", include("allauth.urls")),
]
