"""Spreadsheet imports of the order desk: tracking numbers (bulk ship) and redemption
codes (code pools). The mechanism — preview, per-row errors, all-or-nothing commit — is
``jifen.core.imports``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jifen.core.imports import Importer, ImportField, Problem, RowResult, cell_text, register
from jifen.core.models import ImportJob
from jifen.mall import selectors, services
from jifen.mall.models import Fulfilment, Item, Order, OrderStatus


@register
class TrackingImporter(Importer):
    kind = "mall.tracking"
    scope = "orders:write"
    verbose_name = gettext_lazy("tracking numbers")
    fields = (
        ImportField("order", gettext_lazy("Order number"),
                    ("订单号", "订单编号", "订单", "order no", "order number"), required=True),
        ImportField("carrier", gettext_lazy("Carrier"),
                    ("快递公司", "物流公司", "承运商", "快递"), required=True),
        ImportField("tracking_no", gettext_lazy("Tracking number"),
                    ("快递单号", "运单号", "物流单号", "单号", "tracking"), required=True),
    )
    example_row = {"order": "M000042", "carrier": "顺丰速运", "tracking_no": "SF1234567890"}

    def parse(self, values: dict[str, Any], context: Any) -> tuple[dict, list[Problem]]:
        text = {name: cell_text(value) for name, value in values.items()}
        problems: list[Problem] = []
        pk = selectors.order_pk_from_number(text.get("order", ""))
        if pk is None:
            problems.append(("order", _("%s is not an order number.") % text.get("order", "")))
        for name in ("carrier", "tracking_no"):
            if not text.get(name):
                problems.append((name, _("This cell is empty.")))
        return {"pk": pk, **text}, problems

    def check_batch(self, results: list[RowResult], context: Any) -> None:
        ids = [r.item["pk"] for r in results if r.item and r.item["pk"] is not None]
        orders = {o.pk: o for o in Order.objects.filter(pk__in=ids)}
        seen: set[int] = set()
        for r in results:
            pk = r.item["pk"] if r.item else None
            if pk is None:
                continue
            order = orders.get(pk)
            if order is None:
                r.add("order", _("There is no order %s.") % r.item["order"])
            elif order.fulfilment != Fulfilment.SHIPPED:
                r.add("order", _("Order %s is not shipped goods.") % order.number)
            elif order.status != OrderStatus.APPROVED:
                r.add("order", _("Order %(number)s is %(status)s, not approved.")
                      % {"number": order.number, "status": order.get_status_display()})
            elif pk in seen:
                r.add("order", _("Order %s appears twice in the sheet.") % order.number)
            seen.add(pk)

    def commit(self, items: list[dict], *, actor: Any, job: ImportJob,
               progress: Any) -> dict[str, int]:
        for count, row in enumerate(items, 1):
            services.ship_order(order=Order.objects.get(pk=row["pk"]), actor=actor,
                                carrier=row["carrier"], tracking_no=row["tracking_no"])
            progress(count)
        return {"imported": len(items)}


@register
class CodeImporter(Importer):
    kind = "mall.codes"
    scope = "catalog:write"
    verbose_name = gettext_lazy("redemption codes")
    fields = (
        ImportField("item", gettext_lazy("Item"), ("商品", "商品编号", "商品名称", "item id"),
                    required=True, help_text=gettext_lazy("The item number or its exact name.")),
        ImportField("code", gettext_lazy("Code"), ("兑换码", "卡密", "券码", "码"),
                    required=True),
    )
    example_row = {"item": "12", "code": "JD-8F3K-22QX-91LM"}

    def begin(self) -> dict[str, Item]:
        lookup: dict[str, Item] = {}
        for item in Item.objects.filter(fulfilment=Fulfilment.CODE):
            lookup[str(item.pk)] = item
            lookup.setdefault(item.name.strip(), item)
        return lookup

    def parse(self, values: dict[str, Any], context: dict[str, Item],
              ) -> tuple[dict, list[Problem]]:
        ref, code = cell_text(values.get("item")), cell_text(values.get("code"))
        problems: list[Problem] = []
        item = context.get(ref)
        if item is None:
            problems.append(("item", _("No code item is called or numbered %s.") % ref))
        if not code:
            problems.append(("code", _("This cell is empty.")))
        return {"item_id": item.pk if item else None, "code": code}, problems

    def commit(self, items: list[dict], *, actor: Any, job: ImportJob,
               progress: Any) -> dict[str, int]:
        by_item: dict[int, list[str]] = {}
        for row in items:
            by_item.setdefault(row["item_id"], []).append(row["code"])
        added = 0
        for item_id, codes in by_item.items():
            added += services.import_codes(item=Item.objects.get(pk=item_id), codes=codes,
                                           actor=actor)
        progress(len(items))
        return {"created": added, "unchanged": len(items) - added}
