from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "jifen.integrations"
    label = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        # Django app registry not ready at module level: receivers import models.
        from jifen.core.signals import database_restored
        from jifen.integrations.receivers import count_api_keys_after_restore

        database_restored.connect(count_api_keys_after_restore,
                                  dispatch_uid="integrations.count_api_keys_after_restore")
