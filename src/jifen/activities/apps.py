from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "jifen.activities"
    label = "activities"
    verbose_name = _("Activities")

    def ready(self) -> None:
        # Here, not at the top: these modules read models, and the app registry is not
        # ready when this one is imported.
        from jifen.activities import (
            audit_words,
            describe,
            notices,  # noqa: F401  (registers the kinds)
        )

        audit_words.register()  # the audit log's words for lotteries
        describe.register()  # entries and prizes in the ledger's history
        __import__("jifen.activities.auction_words", fromlist=["register"]).register()
