"""The signed-in employee's shipping addresses (/me/addresses), twins of the portal's
address book; ``POST /orders`` takes one of them as ``address_id``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Schema

from jifen.core import errors
from jifen.core.apiauth import principal
from jifen.core.idempotency import idempotent
from jifen.core.schema_types import UrlRowId
from jifen.mall import selectors, services
from jifen.mall.api import router
from jifen.mall.models import ShippingAddress


class ShippingAddressOut(Schema):
    id: int
    recipient: str
    phone: str
    region: str
    address: str
    is_default: bool
    created_at: datetime


class ShippingAddressIn(Schema):
    recipient: str = Field(min_length=1, max_length=60)
    phone: str = Field(min_length=1, max_length=30)
    region: str = Field("", max_length=100)
    address: str = Field(min_length=1, max_length=300)
    is_default: bool = Field(False, description="The first address is the default anyway.")


class ShippingAddressPatch(Schema):
    recipient: str | None = Field(None, min_length=1, max_length=60)
    phone: str | None = Field(None, min_length=1, max_length=30)
    region: str | None = Field(None, max_length=100)
    address: str | None = Field(None, min_length=1, max_length=300)
    is_default: bool | None = Field(None, description="true makes it the default.")


def _out(address: ShippingAddress | None) -> dict[str, Any]:
    if address is None:  # deleted by a concurrent call since the service found it
        raise errors.NotFound(_("Unknown address."))
    return {"id": address.pk, "recipient": address.recipient, "phone": address.phone,
            "region": address.region, "address": address.address,
            "is_default": address.is_default, "created_at": address.created_at}


@router.get("/me/addresses", response=list[ShippingAddressOut], tags=["me"])
def my_addresses(request: HttpRequest) -> list[dict]:
    """The signed-in employee's addresses, the default first."""
    employee = principal(request).require_employee()
    return [_out(a) for a in selectors.addresses_of(employee)]


@router.post("/me/addresses", response={201: ShippingAddressOut}, tags=["me"])
def add_my_address(request: HttpRequest, payload: ShippingAddressIn):
    """Add an address. 422 ``address_incomplete`` when recipient, phone or address is
    blank. Send an ``Idempotency-Key`` header: a replay answers with the first address."""
    caller = principal(request)
    employee = caller.require_employee()

    def handle() -> tuple[int, Any]:
        address = services.add_address(employee=employee, **payload.model_dump())
        return 201, _out(address)

    return idempotent(request, caller.id, handle)


@router.patch("/me/addresses/{address_id}", response=ShippingAddressOut, tags=["me"])
def update_my_address(request: HttpRequest, address_id: UrlRowId,
                      payload: ShippingAddressPatch) -> dict:
    """Change one of one's addresses (only the fields sent); ``is_default: true`` makes it
    the default. Another employee's address is a 404."""
    employee = principal(request).require_employee()
    sent = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    make_default = sent.pop("is_default", False)
    services.update_address(employee=employee, address_id=address_id, **sent)
    if make_default:
        services.make_default_address(employee=employee, address_id=address_id)
    return _out(selectors.address_of(employee, address_id))


@router.post("/me/addresses/{address_id}/default", response=ShippingAddressOut, tags=["me"])
def make_my_default_address(request: HttpRequest, address_id: UrlRowId) -> dict:
    """Make this address the default one."""
    employee = principal(request).require_employee()
    services.make_default_address(employee=employee, address_id=address_id)
    return _out(selectors.address_of(employee, address_id))


@router.delete("/me/addresses/{address_id}", response={204: None}, tags=["me"])
def delete_my_address(request: HttpRequest, address_id: UrlRowId):
    """Delete one of one's addresses (orders keep their own copy); when it was the
    default, the newest other address becomes the default."""
    employee = principal(request).require_employee()
    services.remove_address(employee=employee, address_id=address_id)
    return 204, None
