"""Supplier endpoints of /api/v1 (scope ``admin``): register a supplier (its signing secret
shown once), hand an item's fulfilment to it, read the calls that failed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from jifen.core import errors
from jifen.core.apiauth import principal
from jifen.core.idempotency import idempotent
from jifen.core.schema_types import UrlRowId
from jifen.integrations.suppliers import selectors, services

router = Router(tags=["suppliers"])


class SupplierIn(Schema):
    name: str = Field(max_length=100)
    url: str = Field(max_length=500, description="The supplier's fulfilment API.")


class SupplierOut(Schema):
    id: int
    name: str
    url: str
    is_active: bool


class SupplierListed(SupplierOut):
    item_ids: list[int] = Field(description="Items whose approved orders it fulfils.")


class SupplierPatch(Schema):
    name: str | None = Field(None, max_length=100)
    url: str | None = Field(None, max_length=500)
    is_active: bool | None = Field(None, description="false: no new orders go to it.")


class SupplierCreated(SupplierOut):
    secret: str = Field(description="whsec_… — the supplier verifies jifen's calls with it; "
                                    "shown only in this answer.")


class RequestOut(Schema):
    id: int
    order_id: int
    supplier_id: int
    status: str
    attempts: int
    last_answer: str
    next_attempt_at: datetime
    finished_at: datetime | None


@router.post("/suppliers", response={201: SupplierCreated})
def create_supplier(request: HttpRequest, payload: SupplierIn):
    caller = principal(request)
    caller.require("admin")

    def handle() -> tuple[int, Any]:
        supplier, secret = services.create_supplier(name=payload.name, url=payload.url,
                                                    actor=caller.actor)
        return 201, {**SupplierOut.from_orm(supplier).dict(), "secret": secret}

    return idempotent(request, caller.id, handle)


@router.put("/suppliers/{pk}/items/{item_id}", response={204: None})
def link_item(request: HttpRequest, pk: UrlRowId, item_id: UrlRowId):
    """Approved orders of this item are fulfilled by this supplier from now on."""
    caller = principal(request)
    caller.require("admin")
    supplier = get_object_or_404(selectors.suppliers(), pk=pk)
    item = get_object_or_404(selectors.items(), pk=item_id)
    services.link_item(supplier=supplier, item_id=item.pk, actor=caller.actor)
    return 204, None


@router.get("/supplier-requests", response=list[RequestOut])
def list_requests(request: HttpRequest, status: str = "failed"):
    """Supplier calls by status (``failed``: orders waiting on the desk)."""
    principal(request).require("admin")
    return list(selectors.requests(status=status)[:200])


@router.get("/suppliers", response=list[SupplierListed])
def list_suppliers(request: HttpRequest):
    """Every supplier with the items it fulfils."""
    principal(request).require("admin")
    return [{**SupplierOut.from_orm(supplier).dict(),
             "item_ids": list(selectors.linked_items(supplier).values_list("pk", flat=True))}
            for supplier in selectors.suppliers()]


@router.patch("/suppliers/{pk}", response=SupplierOut)
def update_supplier(request: HttpRequest, pk: UrlRowId, payload: SupplierPatch):
    """Rename it, move it to another URL (checked like a new one) or pause it."""
    caller = principal(request)
    caller.require("admin")
    supplier = get_object_or_404(selectors.suppliers(), pk=pk)
    return services.update_supplier(supplier=supplier, actor=caller.actor,
                                    **payload.dict(exclude_none=True))


@router.delete("/suppliers/{pk}/items/{item_id}", response={204: None})
def unlink_item(request: HttpRequest, pk: UrlRowId, item_id: UrlRowId):
    """Approved orders of this item are handled on the order desk again."""
    caller = principal(request)
    caller.require("admin")
    supplier = get_object_or_404(selectors.suppliers(), pk=pk)
    if not selectors.linked_items(supplier).filter(pk=item_id).exists():
        raise errors.NotFound(_("This supplier does not fulfil that item."))
    services.unlink_item(item_id=item_id, actor=caller.actor)
    return 204, None


@router.post("/supplier-requests/{pk}/retry", response=RequestOut)
def retry_request(request: HttpRequest, pk: UrlRowId):
    """Call the supplier again for a failed order (its retries start over). 409 when the
    order was handled by hand meanwhile or the call has not failed."""
    caller = principal(request)
    caller.require("admin")
    found = selectors.request_by_id(pk)
    if found is None:
        raise errors.NotFound(_("No supplier call with this id."))
    return services.retry_request(request=found, actor=caller.actor)
