"""Mall endpoints of /api/v1: items (create, list, get), orders (create, mine, get,
cancel) and the order desk's transitions. An employee never sees another's order: it is
a 404, exactly like an order that does not exist."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from jifen.core import errors
from jifen.core.apiauth import Principal, principal
from jifen.core.idempotency import idempotent, ledger_key
from jifen.core.pagination import paginate
from jifen.core.schema_types import (
    INT32_MAX,
    ApiDecimal,
    RowId,
    StrictBool,
    StrictInt,
    UrlInt,
    UrlRowId,
)
from jifen.ledger import selectors as ledger_selectors
from jifen.ledger.amounts import PointsIn, PointsOut, PointsQuery
from jifen.mall import selectors, services
from jifen.mall.models import (
    Category,
    Fulfilment,
    Item,
    ItemStatus,
    Order,
)

router = Router(tags=["mall"])


# --- items -----------------------------------------------------------------------------


# CNY with fen, as the column holds it.
MarketValue = ApiDecimal(max_digits=10, decimal_places=2, ge=0)


class ItemIn(Schema):
    name: str = Field(min_length=1, max_length=120)
    category: str = Field(description="The category's slug, exact name or id.",
                          examples=["gifts"])
    points: PointsIn = Field(examples=[100])
    # Bounded by their columns (32-bit integers): a bigger number is a 422 on its field,
    # not an overflow in the database driver.
    stock: StrictInt | None = Field(None, ge=0, le=INT32_MAX,
                                    description="null means unlimited.")
    description: str = ""
    fulfilment: Literal["shipped", "code", "service", "pickup"] = "shipped"
    per_employee_limit: StrictInt | None = Field(None, ge=1, le=INT32_MAX)
    limit_period: Literal["day", "week", "month", "year", "ever"] = "month"
    market_value: MarketValue = Field(Decimal(0), json_schema_extra={"default": 0})
    low_stock_threshold: StrictInt = Field(0, ge=0, le=INT32_MAX)
    status: Literal["draft", "listed", "delisted"] = "listed"
    supplier: str = Field("", max_length=100)
    tags: list[str] = []
    auto_approve: StrictBool = False


class DiscountOut(Schema):
    campaign: str
    ends_at: datetime


class ItemOut(Schema):
    id: int
    name: str
    category: str
    category_name: str
    points: PointsOut = Field(description="What it costs now (after any discount).")
    original_points: PointsOut
    discount: DiscountOut | None
    market_value: Decimal
    stock: int | None
    in_stock: bool
    fulfilment: str
    status: str
    per_employee_limit: int | None
    limit_period: str
    description: str
    supplier: str
    tags: list[str]
    images: list[str]
    redeemed: int
    created_at: datetime


def _item_out(item: Item, price: selectors.Price) -> dict[str, Any]:
    return {
        "id": item.pk, "name": item.name, "category": item.category.slug,
        "category_name": item.category.name, "points": price.points,
        "original_points": price.original,
        "discount": ({"campaign": price.campaign.name, "ends_at": price.ends_at}
                     if price.discounted else None),
        "market_value": item.market_value, "stock": item.stock,
        "in_stock": item.stock is None or item.stock > 0, "fulfilment": item.fulfilment,
        "status": item.status, "per_employee_limit": item.per_employee_limit,
        "limit_period": item.limit_period, "description": item.description,
        "supplier": item.supplier, "tags": item.tag_list,
        "images": [i.image.url for i in item.images.all()], "redeemed": item.sold_count,
        "created_at": item.created_at,
    }


def _category(ref: str) -> Category:
    found = selectors.category_by_ref(ref)
    if found is None:
        ref = ref.strip()
        raise errors.ValidationError(_("Unknown category %s.") % ref,
                                     code=errors.ErrorCode.UNKNOWN_CATEGORY,
                                     details={"category": ref})
    return found


@router.post("/items", response={201: ItemOut})
def create_item(request: HttpRequest, payload: ItemIn):
    """Add an item to the catalogue (scope ``catalog:write``); listed at once unless
    ``status`` says otherwise. Code items start with no stock: import their codes."""
    caller = principal(request)
    caller.require("catalog:write")
    fields = payload.model_dump(exclude={"name", "category", "points", "tags"})
    item = services.create_item(actor=caller.actor, name=payload.name,
                                category=_category(payload.category), points=payload.points,
                                tags=", ".join(payload.tags), **fields)
    item = selectors.item_with_images(item.pk)
    return 201, _item_out(item, selectors.price_of(item))


class ItemFilters(Schema):
    category: str | None = None
    min_points: PointsQuery | None = None
    max_points: PointsQuery | None = None
    q: str = Field("", max_length=100)
    affordable: bool = False
    in_stock: bool = False
    sort: Literal["popular", "new", "points_asc", "points_desc"] = "popular"
    cursor: str | None = None
    limit: UrlInt = Field(20, ge=1, le=100)


class ItemPage(Schema):
    items: list[ItemOut]
    next_cursor: str | None


def _spendable(caller: Principal) -> int:
    return ledger_selectors.balance(employee=caller.require_employee()).spendable


@router.get("/items", response=ItemPage)
def list_items(request: HttpRequest, filters: Query[ItemFilters]) -> dict:
    """Listed items, filtered and sorted; ``affordable`` keeps what the signed-in employee
    can pay for now (discounts included). Cursor pagination."""
    caller = principal(request)
    chosen = selectors.ItemFilters(
        q=filters.q, category=_category(filters.category) if filters.category else None,
        min_points=filters.min_points, max_points=filters.max_points,
        affordable_for=_spendable(caller) if filters.affordable else None,
        in_stock=filters.in_stock, sort=filters.sort,
    )
    rows, next_cursor = selectors.page_of_items(
        selectors.listed_items(chosen), sort=filters.sort, cursor=filters.cursor,
        limit=filters.limit)
    prices = selectors.prices_for(rows)
    return {"items": [_item_out(i, prices[i.pk]) for i in rows], "next_cursor": next_cursor}


@router.get("/items/{item_id}", response=ItemOut)
def get_item(request: HttpRequest, item_id: UrlRowId) -> dict:
    """One item. Drafts and delisted items are visible only with ``catalog:write``."""
    caller = principal(request)
    item = selectors.item_with_images(item_id)
    if item is None or (item.status != ItemStatus.LISTED and not caller.can("catalog:write")):
        raise errors.NotFound(_("Item not found."))
    employee = getattr(caller.user, "employee", None) if caller.kind == "employee" else None
    if employee is not None and item.status == ItemStatus.LISTED:
        services.record_item_view(employee=employee, item=item)  # what recommendations read
    return _item_out(item, selectors.price_of(item))


# --- orders ----------------------------------------------------------------------------


class OrderIn(Schema):
    item_id: RowId
    quantity: StrictInt = Field(1, ge=1, le=services.MAX_QUANTITY)
    address_id: RowId | None = None


class OrderEventOut(Schema):
    action: str
    from_status: str
    to_status: str
    actor: str
    note: str = Field(description="The step's note in words: as typed, else note_code's words.")
    note_code: str = Field(description="Why, when nobody typed a note: `auto_approved`, "
                           "`cancelled_by_employee`, `cancelled_by_mall`, `switched`, or empty.")
    at: datetime


class OrderOut(Schema):
    id: int
    number: str
    status: str
    item_id: int
    item_name: str
    quantity: int
    points: PointsOut
    original_points: PointsOut
    fulfilment: str
    employee_no: str
    address: dict | None
    carrier: str
    tracking_no: str
    reason: str = Field(description="Why it was rejected or cancelled, in words: as typed, "
                        "else reason_code's words in the caller's language.")
    reason_code: str = Field(description="Why, when nobody typed a reason: "
                             "`cancelled_by_employee`, `cancelled_by_mall`, `switched`, or empty.")
    code: str | None = Field(description="The redemption code; shown only to its owner.")
    source: str = Field("", description="What placed it when it is a prize: "
                        "`activities.auction:<id>` or `activities.lottery:<id>`; empty for "
                        "a mall order.")
    needs_address: bool = Field(False, description="A shipped prize waiting for its "
                                "winner's address (POST /orders/{id}/address).")
    created_at: datetime
    updated_at: datetime
    events: list[OrderEventOut]


def _order_out(order: Order, *, viewer_employee_id: int | None) -> dict[str, Any]:
    code = getattr(order, "code", None) if order.fulfilment == Fulfilment.CODE else None
    return {
        "id": order.pk, "number": order.number, "status": order.status,
        "item_id": order.item_id, "item_name": order.item_name, "quantity": order.quantity,
        "points": order.points, "original_points": order.original_points,
        "fulfilment": order.fulfilment, "employee_no": order.employee.employee_no,
        "address": order.address, "carrier": order.carrier, "tracking_no": order.tracking_no,
        "reason": order.reason_words, "reason_code": order.reason_code,
        "code": code.code if code is not None and viewer_employee_id == order.employee_id
        else None,
        "source": order.source, "needs_address": order.needs_address,
        "created_at": order.created_at, "updated_at": order.updated_at,
        "events": [{"action": e.action, "from_status": e.from_status, "to_status": e.to_status,
                    "actor": e.actor_label, "note": e.note_words, "note_code": e.note_code,
                    "at": e.created_at}
                   for e in order.events.all()],
    }


@router.post("/orders", response={201: OrderOut})
def create_order(request: HttpRequest, payload: OrderIn):
    """Redeem an item for the signed-in employee: points are held and stock reserved at
    once. 409 ``insufficient_points``, ``out_of_stock`` (``details.available``: how many
    are left, 0 when sold out), ``window_closed``, ``limit_reached`` or ``not_eligible``.
    Send an ``Idempotency-Key`` header: a replay answers with the first order."""
    caller = principal(request)
    employee = caller.require_employee()

    def handler(store: Callable[[int, Any], Any]) -> tuple[int, dict]:
        address = None
        if payload.address_id is not None:
            address = selectors.address_of(employee, payload.address_id)
            if address is None:
                raise errors.ValidationError(_("Unknown address."),
                                             code=errors.ErrorCode.UNKNOWN_ADDRESS)
        # The service reads the item itself (404 when there is none) together with its
        # window, eligibility and campaigns, and hands back an order that already holds
        # every field and its timeline, so nothing is read back here.
        key = ledger_key(caller.id, request)
        answer: list[Any] = []

        def placed(order: Order) -> None:
            # Stored before the stock row of a limited item is locked (on PostgreSQL).
            answer.append(store(201, OrderOut(**_order_out(
                order, viewer_employee_id=employee.pk)).model_dump()))

        services.create_order(
            employee=employee, item=Item(pk=payload.item_id), quantity=payload.quantity,
            address=address, idempotency_key=key, actor=caller.actor, on_placed=placed,
            # With a key, every order placed here is stored with its answer in this very
            # transaction: a replay (the order's key refused, or a refusal such as sold
            # out since) rolls back and gets the stored answer from ``idempotent``.
            replays_by_caller=bool(key))
        return 201, answer[0]

    # The order's own key makes a second run harmless, so a replay may run the handler: no
    # look-up of the key ahead of every order.
    return idempotent(request, caller.id, handler, look_first=False, stores_itself=True)


class OrderFilters(Schema):
    status: str | None = None
    cursor: str | None = None
    limit: UrlInt = Field(20, ge=1, le=100)


class OrderPage(Schema):
    items: list[OrderOut]
    next_cursor: str | None


@router.get("/me/orders", response=OrderPage, tags=["me"])
def my_orders(request: HttpRequest, filters: Query[OrderFilters]) -> dict:
    """The signed-in employee's orders, newest first."""
    employee = principal(request).require_employee()
    orders = selectors.orders_with_timeline_of(employee, status=filters.status or "")
    page = paginate(orders, cursor=filters.cursor, limit=filters.limit, descending=True)
    return {"items": [_order_out(o, viewer_employee_id=employee.pk) for o in page["items"]],
            "next_cursor": page["next_cursor"]}


@router.get("/orders/{order_id}", response=OrderOut)
def get_order(request: HttpRequest, order_id: UrlRowId) -> dict:
    """One order with its timeline: the caller's own, or any with ``orders:read``."""
    caller = principal(request)
    return _order_out(selectors.order_visible_to(caller, order_id),
                      viewer_employee_id=selectors.viewer_employee_id(caller))


@router.post("/orders/{order_id}/cancel", response=OrderOut)
def cancel_order(request: HttpRequest, order_id: UrlRowId) -> dict:
    """Cancel one's own order while it is submitted (or approved, when its item was
    delisted); the points and the stock come back. Another's order is a 404."""
    caller = principal(request)
    employee = caller.require_employee()
    order = selectors.order_visible_to(caller, order_id, scope=None, timeline=False)
    services.cancel_order(order=order, actor=caller.actor)
    return _order_out(selectors.order_with_timeline(order.pk), viewer_employee_id=employee.pk)


class AddressIn(Schema):
    address_id: RowId


@router.post("/orders/{order_id}/address", response=OrderOut)
def set_order_address(request: HttpRequest, order_id: UrlRowId, payload: AddressIn) -> dict:
    """Give one's own open shipped order (a prize placed before one had an address) the
    shipping address to send it to. 422 ``unknown_address``; 409 ``invalid_transition``
    once it has left submitted/approved."""
    caller = principal(request)
    employee = caller.require_employee()
    order = selectors.order_visible_to(caller, order_id, scope=None, timeline=False)
    address = selectors.address_of(employee, payload.address_id)
    if address is None:
        raise errors.ValidationError(_("Unknown address."),
                                     code=errors.ErrorCode.UNKNOWN_ADDRESS)
    services.set_order_address(order=order, address=address, actor=caller.actor)
    return _order_out(selectors.order_with_timeline(order.pk), viewer_employee_id=employee.pk)


class OrderRejectIn(Schema):
    reason: str = Field(min_length=1, max_length=300)


class ShipIn(Schema):
    carrier: str = Field(min_length=1, max_length=60)
    tracking_no: str = Field(min_length=1, max_length=60)


class FulfilIn(Schema):
    note: str = Field("", max_length=300)


def _admin_step(request: HttpRequest, order_id: int, action: str, **data: Any) -> dict:
    caller = principal(request)
    caller.require("orders:write")
    order = selectors.order_visible_to(caller, order_id, scope="orders:write", timeline=False)
    services.perform(order=order, action=action, actor=caller.actor, **data)
    return _order_out(selectors.order_with_timeline(order.pk),
                      viewer_employee_id=selectors.viewer_employee_id(caller))


@router.post("/orders/{order_id}/approve", response=OrderOut)
def approve_order(request: HttpRequest, order_id: UrlRowId) -> dict:
    """Approve a submitted order (``orders:write``): its points are captured."""
    return _admin_step(request, order_id, "approve")


@router.post("/orders/{order_id}/reject", response=OrderOut)
def reject_order(request: HttpRequest, order_id: UrlRowId, payload: OrderRejectIn) -> dict:
    """Reject a submitted order with a reason; points and stock go back."""
    return _admin_step(request, order_id, "reject", reason=payload.reason)


@router.post("/orders/{order_id}/ship", response=OrderOut)
def ship_order(request: HttpRequest, order_id: UrlRowId, payload: ShipIn) -> dict:
    """Mark an approved shipped-goods order as sent."""
    return _admin_step(request, order_id, "ship", carrier=payload.carrier,
                       tracking_no=payload.tracking_no)


@router.post("/orders/{order_id}/deliver", response=OrderOut)
def deliver_order(request: HttpRequest, order_id: UrlRowId) -> dict:
    """Record that a shipped order arrived."""
    return _admin_step(request, order_id, "deliver")


@router.post("/orders/{order_id}/fulfil", response=OrderOut)
def fulfil_order(request: HttpRequest, order_id: UrlRowId,
                 payload: FulfilIn | None = None) -> dict:
    """Fulfil an approved code, service or pick-up order (a code item gets its code)."""
    return _admin_step(request, order_id, "fulfil", note=payload.note if payload else "")


@router.post("/orders/{order_id}/complete", response=OrderOut)
def complete_order(request: HttpRequest, order_id: UrlRowId) -> dict:
    """Close a delivered or fulfilled order: its owner confirms receipt, or an admin."""
    caller = principal(request)
    order = selectors.order_visible_to(caller, order_id, scope="orders:write", timeline=False)
    services.complete_order(order=order, actor=caller.actor)
    return _order_out(selectors.order_with_timeline(order.pk),
                      viewer_employee_id=selectors.viewer_employee_id(caller))



# The routes of the package's other modules join the same router (imported last: they use
# the schemas above).
from jifen.mall.api import addresses, admin, promotions  # noqa: E402, F401
