from django.urls import path

from jifen.notifications import views

portal_urlpatterns = [
    path("notifications/", views.inbox, name="notifications"),
    path("notifications/<int:pk>/", views.open_notification, name="notification_open"),
    path("notifications/read/", views.mark_all_read, name="notifications_read"),
    path("notifications/settings/", views.notification_settings,
         name="notification_settings"),
]

console_urlpatterns = [
    path("notifications/defaults/", views.notification_defaults,
         name="notification_defaults"),
]
