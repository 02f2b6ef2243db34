from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _

from jifen.activities.signals import auction_closed, lottery_drawn
from jifen.core.apiauth import register_authenticator
from jifen.ledger import hooks
from jifen.mall.signals import order_changed
from jifen.people.signals import employee_left, employees_created


class IntegrationsConfig(AppConfig):
    name = "jifen.integrations"
    label = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        # Here, not at the top: these modules read models, and the app registry is not
        # ready when this one is imported.
        from jifen.core.signals import database_restored
        from jifen.integrations.auth import api_key_principal
        from jifen.integrations.receivers import count_api_keys_after_restore

        database_restored.connect(count_api_keys_after_restore,
                                  dispatch_uid="integrations.count_api_keys_after_restore")
        register_authenticator(api_key_principal)
        # IM channels (decision 0031): routed notifications become group messages, and
        # the IM channel's direct-message sender; its modules read models.
        from jifen.integrations.im.receivers import connect as connect_im

        connect_im()
        # The audit log's words for this app's objects (their modules read models).
        from jifen.integrations import audit_words

        audit_words.register()
        self._connect_webhooks()

    def _connect_webhooks(self) -> None:
        # The receivers read models: imported once the registry is ready.
        from jifen.integrations.webhooks import receivers

        hooks.register_posting_observer("integrations.webhooks", receivers.record_postings)
        post_save.connect(receivers.employee_saved, sender="people.Employee",
                          dispatch_uid="webhooks.employee_saved")
        employees_created.connect(receivers.employees_imported,
                                  dispatch_uid="webhooks.employees_imported")
        employee_left.connect(receivers.employee_left, dispatch_uid="webhooks.employee_left")
        order_changed.connect(receivers.order_changed, dispatch_uid="webhooks.order_changed")
        order_changed.connect(receivers.supplier_order_changed,
                              dispatch_uid="suppliers.order_changed")
        lottery_drawn.connect(receivers.lottery_drawn, dispatch_uid="webhooks.lottery_drawn")
        auction_closed.connect(receivers.auction_closed, dispatch_uid="webhooks.auction_closed")
