from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jifen.core.apiauth import register_authenticator


class PeopleConfig(AppConfig):
    name = "jifen.people"
    label = "people"
    verbose_name = _("People")

    def ready(self) -> None:
        # Here, not at the top: these modules read models, and the app registry is not
        # ready when this one is imported.
        from jifen.core.signals import database_restored
        from jifen.people.api import employee_token_principal
        from jifen.people.receivers import end_sign_ins_after_restore

        database_restored.connect(end_sign_ins_after_restore,
                                  dispatch_uid="people.end_sign_ins_after_restore")
        register_authenticator(employee_token_principal)
        # The audit log's words for this app's objects (their modules read models).
        from jifen.people import audit_words

        audit_words.register()
