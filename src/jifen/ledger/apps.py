from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _

from jifen.core.signals import database_restored
from jifen.people.signals import employee_left, employees_created


class LedgerConfig(AppConfig):
    name = "jifen.ledger"
    label = "ledger"
    verbose_name = _("Ledger")

    def ready(self) -> None:
        # Django app registry not ready before ready(): the receivers import the models.
        from jifen.ledger import notices  # noqa: F401 (registers its notification kinds)
        from jifen.ledger.receivers import (
            open_employee_accounts,
            open_imported_accounts,
            settle_leaver,
            verify_after_restore,
        )

        post_save.connect(open_employee_accounts, sender="people.Employee",
                          dispatch_uid="ledger.open_employee_accounts")
        employees_created.connect(open_imported_accounts,
                                  dispatch_uid="ledger.open_imported_accounts")
        employee_left.connect(settle_leaver, dispatch_uid="ledger.settle_leaver")
        database_restored.connect(verify_after_restore,
                                  dispatch_uid="ledger.verify_after_restore")
        # The audit log's words for this app's objects (their modules read models).
        from jifen.ledger import audit_words

        audit_words.register()
        # /metrics: ledger postings by kind.
        from jifen.core.observability import metrics
        from jifen.ledger import hooks

        hooks.register_posting_observer(
            "metrics", lambda postings: metrics.count_postings(p.kind for p in postings))
