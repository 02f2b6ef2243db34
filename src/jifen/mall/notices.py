"""The notifications the mall sends (``jifen.notifications.kinds``): stored as kind and
parameters, worded in the reader's language."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from jifen.core.roles import Cap
from jifen.notifications.kinds import EMAIL, IN_APP, NotificationKind, register

ITEM_DELISTED = register(NotificationKind(
    "mall.item_delisted", _("An item you ordered is no longer offered"),
    title=_("%(item)s is no longer offered"),
    body=_("Your order %(number)s is kept. You may switch it to another item or cancel it "
           "and get all %(points)s points back.")))
ORDER_FULFILLED = register(NotificationKind(
    "mall.order_fulfilled", _("Order fulfilled"),
    title=_("Your order %(number)s is ready"),
    body={"": "", "code": _("Your code is waiting on the order page.")}))
ORDER_REJECTED = register(NotificationKind(
    "mall.order_rejected", _("Order rejected"),
    title=_("Order %(number)s was rejected"),
    body=_("%(reason)s Your %(points)s points are back.")))
ORDER_SHIPPED = register(NotificationKind(
    "mall.order_shipped", _("Order shipped"),
    title=_("Order %(number)s is on its way"), body="%(carrier)s %(tracking_no)s"))
# Mailed as well: whoever restocks may not be looking at the console.
LOW_STOCK = register(NotificationKind(
    "mall.low_stock", _("Low stock"), channels=frozenset({IN_APP, EMAIL}),
    audience=Cap.MANAGE_MALL,
    title=_("Low stock: %(item)s"), body=_("%(stock)s left (threshold %(threshold)s).")))
# The daily reminder to those who run the order desk; params count, submitted, approved,
# days (the oldest order's age); variant "today" when it came in today.
ORDERS_WAITING = register(NotificationKind(
    "mall.orders_waiting", _("Daily reminder of orders waiting"),
    channels=frozenset({IN_APP, EMAIL}), audience=Cap.MANAGE_MALL,
    title=ngettext_lazy("%(count)s order waits at the order desk",
                        "%(count)s orders wait at the order desk", "count"),
    body={"": ngettext_lazy(
              "%(submitted)s to approve, %(approved)s to ship or fulfil; the oldest has "
              "waited %(days)s day.",
              "%(submitted)s to approve, %(approved)s to ship or fulfil; the oldest has "
              "waited %(days)s days.", "days"),
          "today": _("%(submitted)s to approve, %(approved)s to ship or fulfil; the oldest "
                     "came in today.")}))
