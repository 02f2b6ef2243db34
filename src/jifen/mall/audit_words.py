"""How the audit log names the mall's objects (registered from ``MallConfig.ready``; see
``jifen.core.describe``). Their snapshots' other codes are model choices, which core
names itself."""

from __future__ import annotations

from django.utils.translation import gettext as _

from jifen.core.describe import by_pk, register_object_describer
from jifen.core.roles import Cap
from jifen.mall.models import Campaign, Category, Item, Order, RedemptionWindow


def register() -> None:
    register_object_describer("mall.order", by_pk(
        Order, lambda o: _("Order %(number)s") % {"number": o.number},
        url_name="console:mall_order", capability=Cap.MANAGE_MALL, name=lambda o: o.number))
    register_object_describer("mall.item", by_pk(
        Item, lambda i: _("Item %(name)s") % {"name": i.name},
        url_name="console:mall_item_edit", capability=Cap.MANAGE_MALL, name=lambda i: i.name))
    register_object_describer("mall.category", by_pk(
        Category, lambda c: _("Category %(name)s") % {"name": c.name},
        url_name="console:mall_category_edit", capability=Cap.MANAGE_MALL,
        name=lambda c: c.name))
    register_object_describer("mall.redemptionwindow", by_pk(
        RedemptionWindow, lambda w: _("Redemption window %(name)s") % {"name": w.name},
        url_name="console:mall_windows", with_pk=False, capability=Cap.MANAGE_MALL,
        name=lambda w: w.name))
    register_object_describer("mall.campaign", by_pk(
        Campaign, lambda c: _("Discount campaign %(name)s") % {"name": c.name},
        url_name="console:mall_campaigns", with_pk=False, capability=Cap.MANAGE_MALL,
        name=lambda c: c.name))
