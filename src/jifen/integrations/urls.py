"""API key pages; mounted under /console/ inside the ``console`` namespace by
``jifen.web_urls``."""

from django.urls import path

from jifen.integrations import views
from jifen.integrations.webhooks import views as webhook_views

console_urlpatterns = [
    path("api-keys/", views.api_keys, name="api_keys"),
    path("api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("webhooks/", webhook_views.endpoints, name="webhooks"),
    path("webhooks/<int:pk>/", webhook_views.endpoint_detail, name="webhook"),
    path("webhooks/<int:pk>/<str:action>/", webhook_views.endpoint_action,
         name="webhook_action"),
    path("webhook-deliveries/<int:pk>/", webhook_views.delivery_detail,
         name="webhook_delivery"),
]
