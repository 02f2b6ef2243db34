from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EarningConfig(AppConfig):
    name = "jifen.earning"
    label = "earning"
    verbose_name = _("Earning")

    def ready(self) -> None:
        # Here, not at the top: models cannot be imported before the app registry is ready.
        from jifen.earning import notices  # noqa: F401 (registers its notification kinds)
        from jifen.earning.checks import awards_match_the_ledger
        from jifen.ledger.verify import register_check

        register_check(awards_match_the_ledger)
        # Facts other apps report (check-ins, comments, downloads) earn through the rules.
        from jifen.core.intake import register_intake
        from jifen.earning.services.intake import ingest_facts

        register_intake(ingest_facts)
        # The audit log's words for this app's objects (their modules read models).
        from jifen.earning import audit_words

        audit_words.register()
        from jifen.earning import describe  # its causes in words, for the ledger's history
        describe.register()
