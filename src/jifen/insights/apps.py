from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jifen.core import suggestions


class InsightsConfig(AppConfig):
    name = "jifen.insights"
    label = "insights"
    verbose_name = _("Insights")

    def ready(self) -> None:
        # The models exist only now: the observer, the check and the rows read them.
        from jifen.insights.selectors import recommend
        from jifen.insights.services import rollups
        from jifen.ledger import hooks, verify

        hooks.register_posting_observer("insights.rollups", rollups.record_postings)
        verify.register_check(rollups.rollups_match_ledger)
        suggestions.offer(suggestions.MALL_HOME, recommend.mall_home_row)
        suggestions.offer(suggestions.MALL_ITEM, recommend.item_row)
        suggestions.offer(suggestions.LIBRARY_HOME, recommend.library_row)
        suggestions.offer(suggestions.DIGEST, recommend.digest_row)
