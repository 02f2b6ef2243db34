"""The core pages of the console (site settings, audit log, system status), mounted under
/console/ in the ``console`` namespace by ``jifen.web_urls``."""

from django.urls import path

from jifen.core import views
from jifen.core.observability import views as observability_views

console_urlpatterns = [
    path("settings/", views.site_settings, name="settings"),
    path("audit/", views.audit_log, name="audit"),
    path("system/", observability_views.system_status, name="system_status"),
]
