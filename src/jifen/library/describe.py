"""Purchases in words for the ledger's history (``jifen.ledger.hooks``)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from jifen.core.roles import Cap
from jifen.ledger.hooks import CauseInfo, register_cause_describer
from jifen.library.models import Purchase


def describe_purchases(ids: list[str], *, for_employee: bool) -> dict[str, CauseInfo]:
    pks = [int(i) for i in ids if i.isdigit()]
    found = {}
    for purchase in Purchase.objects.filter(pk__in=pks).select_related("resource"):
        found[str(purchase.pk)] = CauseInfo(
            label=_("Library: %(title)s") % {"title": purchase.resource.title},
            url_for_employee=reverse("portal:library_resource", args=[purchase.resource_id]),
            url_for_console=reverse("console:library_resource_edit",
                                    args=[purchase.resource_id]),
            console_cap=Cap.MANAGE_LIBRARY)
    return found


def register() -> None:
    register_cause_describer("library.purchase", describe_purchases)
