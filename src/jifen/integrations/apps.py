from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jifen.core.apiauth import register_authenticator


class IntegrationsConfig(AppConfig):
    name = "jifen.integrations"
    label = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        # Here, not at the top: these modules read models, and the app registry is not
        # ready when this one is imported.
        from jifen.core.signals import database_restored
        from jifen.integrations.auth import api_key_principal
        from jifen.integrations.receivers import count_api_keys_after_restore

        database_restored.connect(count_api_keys_after_restore,
                                  dispatch_uid="integrations.count_api_keys_after_restore")
        register_authenticator(api_key_principal)
        # IM channels: routed notifications become group messages; the IM channel's
        # direct-message sender (decision 0031).
        from django.db.models.signals import post_save

        from jifen.integrations.im.receivers import notification_saved
        from jifen.integrations.im.services import deliver_direct
        from jifen.notifications.channels import IM, register_sender
        from jifen.notifications.models import Notification

        post_save.connect(notification_saved, sender=Notification,
                          dispatch_uid="integrations.im.notification_saved")
        register_sender(IM, deliver_direct)
        # The audit log's words for this app's objects (their modules read models).
        from jifen.integrations import audit_words

        audit_words.register()
