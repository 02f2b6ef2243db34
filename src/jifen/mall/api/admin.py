"""Mall administration twins of the console's catalogue pages: categories (list, create,
change) and an item's changes, status and restock. Each calls the service the console
page calls; writes need ``catalog:write``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Schema, UploadedFile

from jifen.core import errors
from jifen.core.apiauth import principal
from jifen.core.idempotency import idempotent
from jifen.core.schema_types import INT32_MAX, RowId, StrictBool, StrictInt, UrlRowId
from jifen.ledger.amounts import PointsIn
from jifen.mall import selectors, services
from jifen.mall.api import (
    ItemOut,
    MarketValue,
    OrderOut,
    _admin_step,
    _category,
    _item_out,
    router,
)
from jifen.mall.forms import ImageForm
from jifen.mall.models import Category, Item, RedemptionWindow

# --- categories ---------------------------------------------------------------------------


class CategoryOut(Schema):
    id: int
    name: str
    slug: str
    parent_id: int | None
    kind: str
    icon: str
    sort_order: int
    window_id: int | None
    depth: int = Field(0, description="0 for a top-level category.")


class CategoryIn(Schema):
    name: str = Field(min_length=1, max_length=60)
    parent_id: RowId | None = None
    kind: Literal["physical", "virtual", "service"] = "physical"
    icon: str = Field("", max_length=40, description="One of the category icons; empty "
                      "keeps the default.")
    sort_order: StrictInt = Field(0, ge=-INT32_MAX, le=INT32_MAX)
    window_id: RowId | None = Field(None, description="A redemption window overriding the "
                                    "mall's for this category.")
    slug: str = Field("", max_length=50)


class CategoryPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=60)
    parent_id: RowId | None = None
    kind: Literal["physical", "virtual", "service"] | None = None
    icon: str | None = Field(None, max_length=40)
    sort_order: StrictInt | None = Field(None, ge=-INT32_MAX, le=INT32_MAX)
    window_id: RowId | None = None


def _category_out(category: Category) -> dict[str, Any]:
    return {"id": category.pk, "name": category.name, "slug": category.slug,
            "parent_id": category.parent_id, "kind": category.kind, "icon": category.icon,
            "sort_order": category.sort_order, "window_id": category.window_id,
            "depth": getattr(category, "depth", 0)}


def _parent(parent_id: int | None) -> Category | None:
    if parent_id is None:
        return None
    found = selectors.category_by_id(parent_id)
    if found is None:
        raise errors.ValidationError(_("Unknown category %s.") % parent_id,
                                     code=errors.ErrorCode.UNKNOWN_CATEGORY,
                                     details={"field": "parent_id"})
    return found


def _window(window_id: int | None) -> RedemptionWindow | None:
    if window_id is None:
        return None
    found = selectors.window_by_id(window_id)
    if found is None:
        raise errors.ValidationError(_("Unknown redemption window."),
                                     details={"field": "window_id"})
    return found


@router.get("/categories", response=list[CategoryOut])
def list_categories(request: HttpRequest) -> list[dict]:
    """Every category, parents before their children (``depth`` tells the level)."""
    principal(request)
    return [_category_out(c) for c in selectors.category_tree()]


@router.post("/categories", response={201: CategoryOut})
def create_category(request: HttpRequest, payload: CategoryIn):
    """Add a category (scope ``catalog:write``), as the console's category page does.
    Send an ``Idempotency-Key`` header: a replay answers with the first category."""
    caller = principal(request)
    caller.require("catalog:write")

    def handle() -> tuple[int, Any]:
        category = services.save_category(
            actor=caller.actor, name=payload.name, parent=_parent(payload.parent_id),
            kind=payload.kind, icon=payload.icon, sort_order=payload.sort_order,
            window=_window(payload.window_id), slug=payload.slug)
        return 201, _category_out(category)

    return idempotent(request, caller.id, handle)


@router.delete("/categories/{category_id}", response={204: None})
def delete_category(request: HttpRequest, category_id: UrlRowId):
    """Delete an empty category. 409 ``category_in_use`` while items or sub-categories
    are in it."""
    caller = principal(request)
    caller.require("catalog:write")
    category = selectors.category_by_id(category_id)
    if category is None:
        raise errors.NotFound(_("Category not found."))
    services.delete_category(actor=caller.actor, category=category)
    return 204, None


@router.patch("/categories/{category_id}", response=CategoryOut)
def update_category(request: HttpRequest, category_id: UrlRowId,
                    payload: CategoryPatch) -> dict:
    """Change a category's name, parent, kind, icon, order or window (only the fields
    sent; ``null`` parent_id/window_id clears them). 422 ``category_cycle`` when the new
    parent sits inside it."""
    caller = principal(request)
    caller.require("catalog:write")
    category = selectors.category_by_id(category_id)
    if category is None:
        raise errors.NotFound(_("Category not found."))
    sent = payload.model_dump(exclude_unset=True)
    parent = (_parent(sent["parent_id"]) if "parent_id" in sent else category.parent)
    window = (_window(sent["window_id"]) if "window_id" in sent else category.window)
    saved = services.save_category(
        actor=caller.actor, category=category,
        name=sent.get("name") or category.name, parent=parent,
        kind=sent.get("kind") or category.kind,
        icon=sent["icon"] if sent.get("icon") is not None else category.icon,
        sort_order=(sent["sort_order"] if sent.get("sort_order") is not None
                    else category.sort_order),
        window=window)
    return _category_out(saved)


# --- items ----------------------------------------------------------------------------------


class ItemPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=120)
    category: str | None = Field(None, description="The category's slug, exact name or id.")
    points: PointsIn | None = None
    stock: StrictInt | None = Field(None, ge=0, le=INT32_MAX,
                                    description="Replaces the count; null means unlimited.")
    description: str | None = None
    fulfilment: Literal["shipped", "code", "service", "pickup"] | None = None
    per_employee_limit: StrictInt | None = Field(None, ge=1, le=INT32_MAX)
    limit_period: Literal["day", "week", "month", "year", "ever"] | None = None
    market_value: MarketValue | None = None
    low_stock_threshold: StrictInt | None = Field(None, ge=0, le=INT32_MAX)
    supplier: str | None = Field(None, max_length=100)
    tags: list[str] | None = None
    auto_approve: StrictBool | None = None


def _admin_item(request: HttpRequest, item_id: int) -> tuple[Any, Item]:
    caller = principal(request)
    caller.require("catalog:write")
    item = selectors.item_by_id(item_id)
    if item is None:
        raise errors.NotFound(_("Item not found."))
    return caller, item


def _item_answer(item: Item) -> dict:
    fresh = selectors.item_with_images(item.pk)
    return _item_out(fresh, selectors.price_of(fresh))


# Fields that take null as a value (unlimited stock, no limit); for the others a null is
# the same as leaving them out.
_NULLABLE = {"stock", "per_employee_limit"}


@router.patch("/items/{item_id}", response=ItemOut)
def update_item(request: HttpRequest, item_id: UrlRowId, payload: ItemPatch) -> dict:
    """Change an item (``catalog:write``): only the fields sent. ``stock`` replaces the
    count (``POST /items/{id}/restock`` adds to it); the status has its own call."""
    caller, item = _admin_item(request, item_id)
    sent = payload.model_dump(exclude_unset=True)
    changes = {k: v for k, v in sent.items() if v is not None or k in _NULLABLE}
    if "category" in changes:
        changes["category"] = _category(changes["category"])
    if "tags" in changes:
        changes["tags"] = ", ".join(changes["tags"])
    if "market_value" in changes:
        changes["market_value"] = Decimal(changes["market_value"])
    services.update_item(item=item, actor=caller.actor, **changes)
    return _item_answer(item)


class StatusIn(Schema):
    status: Literal["draft", "listed", "delisted"]


@router.post("/items/{item_id}/status", response=ItemOut)
def set_item_status(request: HttpRequest, item_id: UrlRowId, payload: StatusIn) -> dict:
    """List, delist or return an item to draft. Delisting tells the employees with open
    orders for it, who may switch or cancel."""
    caller, item = _admin_item(request, item_id)
    services.set_item_status(item=item, status=payload.status, actor=caller.actor)
    return _item_answer(item)


class RestockIn(Schema):
    quantity: StrictInt = Field(ge=1, le=INT32_MAX)


@router.post("/items/{item_id}/restock", response=ItemOut)
def restock_item(request: HttpRequest, item_id: UrlRowId, payload: RestockIn) -> dict:
    """Add to a limited item's stock. 409 ``unlimited_stock`` for an unlimited item."""
    caller, item = _admin_item(request, item_id)
    services.restock(item=item, quantity=payload.quantity, actor=caller.actor)
    return _item_answer(item)


# --- pictures ---------------------------------------------------------------------------------


class ImageOut(Schema):
    id: int
    url: str


@router.post("/items/{item_id}/images", response={201: ImageOut})
def add_item_image(request: HttpRequest, item_id: UrlRowId, image: File[UploadedFile]):
    """Add a picture (multipart field ``image``) with the console's checks: a picture
    file within the size limit that decodes, else a 422 naming ``image``. Send an
    ``Idempotency-Key`` header: a replay answers with the first picture."""
    caller, item = _admin_item(request, item_id)

    def handle() -> tuple[int, Any]:
        form = ImageForm(data={}, files={"image": image})
        if not form.is_valid():
            raise errors.ValidationError(" ".join(form.errors.get("image", [])),
                                         details={"field": "image"})
        added = services.add_item_image(item=item, upload=form.cleaned_data["image"],
                                        actor=caller.actor)
        return 201, {"id": added.pk, "url": added.image.url}

    return idempotent(request, caller.id, handle)


@router.delete("/items/{item_id}/images/{image_id}", response={204: None})
def remove_item_image(request: HttpRequest, item_id: UrlRowId, image_id: UrlRowId):
    """Remove one of the item's pictures."""
    caller, item = _admin_item(request, item_id)
    image = selectors.item_image(item, image_id)
    if image is None:
        raise errors.NotFound(_("Picture not found."))
    services.remove_item_image(image=image, actor=caller.actor)
    return 204, None


# --- the order desk -----------------------------------------------------------------------------


class BulkApproveIn(Schema):
    order_ids: list[RowId] = Field(min_length=1, max_length=500)


class BulkApproveOut(Schema):
    approved: int
    problems: list[str] = Field(description="One line per order that could not be "
                                "approved: its number and why.")


@router.post("/order-desk/approve", response=BulkApproveOut)
def bulk_approve_orders(request: HttpRequest, payload: BulkApproveIn) -> dict:
    """Approve many submitted orders at once (``orders:write``), like the order desk's
    bulk action: each in its own transaction, refusals listed, the rest approved. (Not
    under /orders/: that path's ``{order_id}`` would take "approve" for an id.)"""
    caller = principal(request)
    caller.require("orders:write")
    orders = selectors.orders_by_ids(payload.order_ids)
    if not orders:
        raise errors.NotFound(_("No such orders."))
    done, problems = services.bulk_approve(orders=orders, actor=caller.actor)
    return {"approved": done, "problems": problems}


# --- redemption codes -------------------------------------------------------------------------


class CodesIn(Schema):
    codes: list[str] = Field(min_length=1, max_length=10000,
                             description="The codes to add; blanks and codes the item already "
                             "has are skipped.")


class CodesOut(Schema):
    added: int
    skipped: int = Field(description="Blank, repeated or already in the pool.")
    stock: int | None


@router.post("/items/{item_id}/codes", response={201: CodesOut})
def import_item_codes(request: HttpRequest, item_id: UrlRowId, payload: CodesIn):
    """Add redemption codes to a code item's pool (``catalog:write``), the service behind
    the console's code import; the item's stock grows by the number added. 409
    ``not_a_code_item`` for any other item. Send an ``Idempotency-Key`` header."""
    caller, item = _admin_item(request, item_id)
    if any(len(code) > 200 for code in payload.codes):
        raise errors.ValidationError(_("A code is at most 200 characters long."),
                                     details={"field": "codes"})

    def handle() -> tuple[int, Any]:
        added = services.import_codes(item=item, codes=payload.codes, actor=caller.actor)
        stock = selectors.item_stock(item.pk)
        return 201, {"added": added, "skipped": len(payload.codes) - added, "stock": stock}

    return idempotent(request, caller.id, handle)


class DeskCancelIn(Schema):
    reason: str = Field("", max_length=300)


@router.post("/orders/{order_id}/desk-cancel", response=OrderOut)
def desk_cancel_order(request: HttpRequest, order_id: UrlRowId,
                      payload: DeskCancelIn | None = None) -> dict:
    """The order desk cancels an order (``orders:write``), with an optional reason: while
    submitted, or approved when its item was delisted; points and stock go back and the
    owner is told. (``POST /orders/{id}/cancel`` is the owner's own cancel.)"""
    return _admin_step(request, order_id, "cancel", reason=payload.reason if payload else "")
