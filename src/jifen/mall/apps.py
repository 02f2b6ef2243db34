from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MallConfig(AppConfig):
    name = "jifen.mall"
    label = "mall"
    verbose_name = _("Mall")

    def ready(self) -> None:
        # Imported here, not at the top: they import models, which the app registry must
        # have loaded first.
        from jifen.ledger.hooks import register_closed_spell
        from jifen.ledger.verify import register_check
        from jifen.mall import notices  # noqa: F401 (registers its notification kinds)
        from jifen.mall.checks import orders_match_the_ledger, stock_not_negative
        from jifen.mall.selectors import next_closed_spell

        register_check(stock_not_negative)
        register_check(orders_match_the_ledger)
        register_closed_spell(next_closed_spell)
        # The audit log's words for this app's objects (their modules read models).
        from jifen.mall import audit_words

        audit_words.register()
        from jifen.mall import describe  # orders in words, for the ledger's history
        describe.register()
        # How a prize (an auction won, a lottery's item) becomes an order.
        from jifen.core.prizes import register_prize_orders
        from jifen.mall.services import prizes

        register_prize_orders(prizes.place_prize_order, reserve=prizes.reserve_prize_stock,
                              give_back=prizes.return_prize_stock)
