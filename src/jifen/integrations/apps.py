from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jifen.core.apiauth import register_authenticator


class IntegrationsConfig(AppConfig):
    name = "jifen.integrations"
    label = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        # Here, not at the top: the module reads models, and the app registry is not ready
        # when this one is imported.
        from jifen.integrations.auth import api_key_principal

        register_authenticator(api_key_principal)
