from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jifen.core.apiauth import register_authenticator


class PeopleConfig(AppConfig):
    name = "jifen.people"
    label = "people"
    verbose_name = _("People")

    def ready(self) -> None:
        # Here, not at the top: the module reads models, and the app registry is not ready
        # when this one is imported.
        from jifen.people.api import employee_token_principal

        register_authenticator(employee_token_principal)
