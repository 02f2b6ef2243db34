from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "jifen.people"
    label = "people"
    verbose_name = _("People")

    def ready(self) -> None:
        # Django app registry not ready at module level: receivers import models.
        from jifen.core.signals import database_restored
        from jifen.people.receivers import end_sign_ins_after_restore

        database_restored.connect(end_sign_ins_after_restore,
                                  dispatch_uid="people.end_sign_ins_after_restore")
