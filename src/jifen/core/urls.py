"""The core pages of the console (site settings, audit log), mounted under /console/ in
the ``console`` namespace by ``jifen.web_urls``."""

from django.urls import path

from jifen.core import views

console_urlpatterns = [
    path("settings/", views.site_settings, name="settings"),
    path("audit/", views.audit_log, name="audit"),
]
