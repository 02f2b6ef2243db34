from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "jifen.ledger"
    label = "ledger"
    verbose_name = _("Ledger")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from jifen.ledger.receivers import open_employee_accounts

        post_save.connect(open_employee_accounts, sender="people.Employee",
                          dispatch_uid="ledger.open_employee_accounts")
