"""API key pages; mounted under /console/api-keys/ inside the ``console`` namespace by
``jifen.core.urls``."""

from django.urls import path

from jifen.integrations import views

urlpatterns = [
    path("", views.api_keys, name="api_keys"),
    path("<int:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
]
