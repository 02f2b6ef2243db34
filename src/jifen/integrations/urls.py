"""API key pages; mounted under /console/ inside the ``console`` namespace by
``jifen.web_urls``."""

from django.urls import path

from jifen.integrations import views
from jifen.integrations.im import views as im_views
from jifen.integrations.suppliers.views import suppliers_page
from jifen.integrations.webhooks import views as webhook_views

console_urlpatterns = [
    path("api-keys/", views.api_keys, name="api_keys"),
    path("api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("im/", im_views.im_home, name="im"),
    path("im/robots/<int:pk>/", im_views.im_robot, name="im_robot"),
    path("im/robots/<int:pk>/test/", im_views.im_robot_test, name="im_robot_test"),
    path("im/robots/<int:pk>/delete/", im_views.im_robot_delete, name="im_robot_delete"),
    path("im/routes/", im_views.im_route_add, name="im_route_add"),
    path("im/routes/<int:pk>/delete/", im_views.im_route_delete, name="im_route_delete"),
    path("im/apps/<str:platform>/", im_views.im_app, name="im_app"),
    path("webhooks/", webhook_views.endpoints, name="webhooks"),
    path("webhooks/<int:pk>/", webhook_views.endpoint_detail, name="webhook"),
    path("webhooks/<int:pk>/<str:action>/", webhook_views.endpoint_action,
         name="webhook_action"),
    path("webhook-deliveries/<int:pk>/", webhook_views.delivery_detail,
         name="webhook_delivery"),
    path("suppliers/", suppliers_page, name="suppliers"),
]
