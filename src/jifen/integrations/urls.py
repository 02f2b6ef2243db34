"""API key pages; mounted under /console/ inside the ``console`` namespace by
``jifen.web_urls``."""

from django.urls import path

from jifen.integrations import views

console_urlpatterns = [
    path("api-keys/", views.api_keys, name="api_keys"),
    path("api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
]
