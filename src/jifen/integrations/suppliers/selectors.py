"""Supplier reads."""

from __future__ import annotations

from django.db.models import QuerySet

from jifen.integrations.models import Supplier, SupplierItem, SupplierRequest
from jifen.mall.models import Fulfilment, Item


def suppliers() -> QuerySet[Supplier]:
    return Supplier.objects.order_by("name", "pk")


def linked_items(supplier: Supplier) -> QuerySet[Item]:
    """The items whose approved orders this supplier fulfils."""
    return Item.objects.filter(pk__in=SupplierItem.objects.filter(supplier=supplier)
                               .values("item_id")).order_by("name", "pk")


def linkable_items() -> QuerySet[Item]:
    """Items a supplier can fulfil: a service (answered with a code) or a shipped one
    (answered with a tracking number)."""
    return Item.objects.filter(fulfilment__in=[Fulfilment.SERVICE, Fulfilment.SHIPPED]
                               ).order_by("name", "pk")


def request_by_id(pk: int) -> SupplierRequest | None:
    return SupplierRequest.objects.select_related("supplier").filter(pk=pk).first()


def items() -> QuerySet[Item]:
    return Item.objects.all()


def requests(*, status: str = "") -> QuerySet[SupplierRequest]:
    rows = SupplierRequest.objects.order_by("-pk")
    return rows.filter(status=status) if status else rows
