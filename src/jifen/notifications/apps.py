from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "jifen.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from jifen.notifications import notices  # noqa: F401 (registers the digest's kind)
