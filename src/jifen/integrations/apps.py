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
        # IM channels (decision 0031): routed notifications become group messages, and
        # the IM channel's direct-message sender; its modules read models.
        from jifen.integrations.im.receivers import connect as connect_im

        connect_im()
        # The audit log's words for this app's objects (their modules read models).
        from jifen.integrations import audit_words

        audit_words.register()
