"""The notifications the mall sends (``jifen.notifications.kinds``)."""

from django.utils.translation import gettext_lazy as _

from jifen.core.roles import Cap
from jifen.notifications.kinds import EMAIL, IN_APP, NotificationKind, register

ITEM_DELISTED = register(NotificationKind("mall.item_delisted",
                                          _("An item you ordered is no longer offered")))
ORDER_FULFILLED = register(NotificationKind("mall.order_fulfilled", _("Order fulfilled")))
ORDER_REJECTED = register(NotificationKind("mall.order_rejected", _("Order rejected")))
ORDER_SHIPPED = register(NotificationKind("mall.order_shipped", _("Order shipped")))
# Mailed as well: whoever restocks may not be looking at the console.
LOW_STOCK = register(NotificationKind("mall.low_stock", _("Low stock"),
                                      channels=frozenset({IN_APP, EMAIL}),
                                      audience=Cap.MANAGE_MALL))
