"""Supplier reads."""

from __future__ import annotations

from django.db.models import QuerySet

from jifen.integrations.models import Supplier, SupplierRequest
from jifen.mall.models import Item


def suppliers() -> QuerySet[Supplier]:
    return Supplier.objects.order_by("name", "pk")


def items() -> QuerySet[Item]:
    return Item.objects.all()


def requests(*, status: str = "") -> QuerySet[SupplierRequest]:
    rows = SupplierRequest.objects.order_by("-pk")
    return rows.filter(status=status) if status else rows
