"""Mall writers: the catalogue, stock, code pools, windows, campaigns, favourites,
addresses and the order lifecycle.

Points move only through the ledger (``jifen.ledger.services``): confirming an order is a
``hold``, approving it a ``capture``, rejecting or cancelling it a ``release`` (or a
``refund`` once captured). Stock and per-employee purchase counts move only by conditional
updates (``UPDATE … SET stock = stock - q WHERE id = … AND stock >= q``), never by writing
back a number computed in Python, so no item is oversold with many processes on PostgreSQL
or MariaDB, nor on SQLite.

Lock order, the same in every service so two orders never deadlock: the order row (for a
transition), then the purchase counter, then the ledger's accounts (the ledger locks those
in id order itself), with the item's stock row last on PostgreSQL and first on MariaDB
(see ``_stock_last``).
"""

from __future__ import annotations

import io
import random
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, OperationalError, connection, models, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.db import insert_instance, is_transient_db_error, statement
from jifen.core.images import MAX_IMAGE_PIXELS, picture_too_large
from jifen.core.services import record_audit, snapshot
from jifen.ledger import services as ledger
from jifen.ledger.models import Transaction
from jifen.mall import selectors
from jifen.mall.models import (
    OPEN_STATUSES,
    Campaign,
    Category,
    Code,
    DiscountKind,
    Favourite,
    Fulfilment,
    Item,
    ItemImage,
    ItemStatus,
    LimitPeriod,
    Order,
    OrderEvent,
    OrderStatus,
    PurchaseCounter,
    RedemptionWindow,
    ShippingAddress,
    WindowMode,
    WindowPeriod,
)
from jifen.mall.search import item_search_text
from jifen.notifications.services import notify

MAX_QUANTITY = 99
THUMBNAIL_SIZE = (480, 480)
# Pictures of more pixels are refused before decoding: 40 MP is a 7300 × 5500 photo, ~160 MB
# once decoded as RGBA.
ITEM_FIELDS = (
    "name", "category", "description", "points", "market_value", "stock",
    "low_stock_threshold", "per_employee_limit", "limit_period", "eligible_grades",
    "min_tenure_years", "fulfilment", "status", "supplier", "tags", "auto_approve",
)


def _actor_fields(actor: Any) -> dict[str, Any]:
    label = ""
    if actor is not None:
        label = getattr(actor, "audit_label", None) or getattr(actor, "username", "") or str(actor)
    user = actor if isinstance(actor, models.Model) and getattr(actor, "pk", None) else None
    return {"actor": user, "actor_label": label[:150]}


# --- catalogue -------------------------------------------------------------------------


@transaction.atomic
def save_category(*, actor: Any, name: str, parent: Category | None = None,
                  kind: str = "physical", icon: str = "", sort_order: int = 0,
                  window: RedemptionWindow | None = None, slug: str = "",
                  category: Category | None = None) -> Category:
    """Create a category (or change ``category``). A category cannot be its own ancestor."""
    name = (name or "").strip()
    if not name:
        raise errors.ValidationError(_("Give the category a name."), code="name_required")
    if category is not None and parent is not None and any(
            c.pk == category.pk for c in selectors.category_ancestors(parent)):
        raise errors.ValidationError(_("A category cannot sit inside itself."),
                                     code="category_cycle")
    fields = ("name", "parent", "kind", "icon", "sort_order", "window")
    before = snapshot(category, fields) if category is not None else None
    obj = category or Category()
    obj.name, obj.parent, obj.kind, obj.sort_order, obj.window = (
        name, parent, kind, sort_order, window)
    obj.icon = icon or obj.icon or "ti-gift"
    if not obj.slug:
        base = slug or slugify(name, allow_unicode=False) or "c"
        candidate, n = base[:50], 1
        while Category.objects.filter(slug=candidate).exclude(pk=obj.pk).exists():
            n += 1
            candidate = f"{base[:45]}-{n}"
        obj.slug = candidate
    obj.save()
    if category is not None:
        for item in Item.objects.filter(category__in=selectors.category_and_descendants(obj)):
            Item.objects.filter(pk=item.pk).update(search_text=item_search_text(item))
    record_audit(actor=actor, action="mall.category.save", obj=obj, before=before,
                 after=snapshot(obj, fields))
    return obj


def _invalid(message: str, code: str, field: str) -> errors.ValidationError:
    """A refusal of one item field, naming it (the API answers 422 with ``details.field``
    and the usual ``details.errors`` list, so a client can mark the field)."""
    return errors.ValidationError(message, code=code, details={
        "field": field, "errors": [{"field": field, "in": "body", "message": message}]})


def _clean_item_fields(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - set(ITEM_FIELDS) - {"eligible_departments"}
    if unknown:
        raise errors.ValidationError(_("Unknown item fields: %s") % ", ".join(sorted(unknown)))
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip()
        if not changes["name"]:
            raise _invalid(_("Give the item a name."), "name_required", "name")
    if "points" in changes:
        points = changes["points"]
        if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
            raise _invalid(_("The points price must be a positive number."),
                           "invalid_points", "points")
    stock = changes.get("stock")
    if stock is not None and (not isinstance(stock, int) or stock < 0):
        raise _invalid(_("Stock cannot be negative."), "invalid_stock", "stock")
    if changes.get("fulfilment", Fulfilment.SHIPPED) not in Fulfilment.values:
        raise _invalid(_("Unknown fulfilment type."), "invalid_fulfilment", "fulfilment")
    if changes.get("status", ItemStatus.DRAFT) not in ItemStatus.values:
        raise _invalid(_("Unknown item status."), "invalid_status", "status")
    if changes.get("limit_period", LimitPeriod.MONTH) not in LimitPeriod.values:
        raise _invalid(_("Unknown limit period."), "invalid_limit_period", "limit_period")
    limit = changes.get("per_employee_limit")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise _invalid(_("The limit per employee must be at least 1."), "invalid_limit",
                       "per_employee_limit")
    if "market_value" in changes:
        changes["market_value"] = Decimal(str(changes["market_value"] or 0))
    return changes


@transaction.atomic
def create_item(*, actor: Any, name: str, category: Category, points: int,
                **fields: Any) -> Item:
    """Add an item to the catalogue (a draft unless ``status`` says otherwise). Code-pool
    items start with no stock: importing codes adds it. Audited."""
    changes = _clean_item_fields({"name": name, "category": category, "points": points,
                                  **fields})
    departments = changes.pop("eligible_departments", None)
    if changes.get("fulfilment") == Fulfilment.CODE:
        changes["stock"] = 0
    item = Item(**changes)
    item.search_text = item_search_text(item)
    item.save()
    if departments:
        item.eligible_departments.set(departments)
    record_audit(actor=actor, action="mall.item.create", obj=item,
                 after=snapshot(item, ITEM_FIELDS))
    return item


@transaction.atomic
def update_item(*, item: Item, actor: Any, **changes: Any) -> Item:
    """Change an item. Stock set here replaces the count (use ``restock`` to add); the
    status goes through ``set_item_status`` so delisting notifies open orders. Audited."""
    changes = _clean_item_fields(changes)
    status = changes.pop("status", None)
    departments = changes.pop("eligible_departments", None)
    item = Item.objects.select_for_update().get(pk=item.pk)
    before = snapshot(item, ITEM_FIELDS)
    if changes.get("fulfilment", item.fulfilment) == Fulfilment.CODE:
        # A code item's stock is its count of unused codes, whatever it was before.
        changes["stock"] = selectors.remaining_codes(item)
    for name, value in changes.items():
        setattr(item, name, value)
    item.search_text = item_search_text(item)
    if item.stock is None or item.stock > item.low_stock_threshold:
        item.low_stock_alerted = False
    item.save()
    if departments is not None:
        item.eligible_departments.set(departments)
    record_audit(actor=actor, action="mall.item.update", obj=item, before=before,
                 after=snapshot(item, ITEM_FIELDS))
    if status is not None and status != item.status:
        item = set_item_status(item=item, status=status, actor=actor)
    return item


@transaction.atomic
def set_item_status(*, item: Item, status: str, actor: Any) -> Item:
    """List, delist or return an item to draft. Delisting an item with open orders tells
    each of those employees, who may then switch to another item or cancel for a full
    refund (``switch_order_item`` / ``cancel_order``)."""
    if status not in ItemStatus.values:
        raise errors.ValidationError(_("Unknown item status."), code="invalid_status")
    item = Item.objects.select_for_update().get(pk=item.pk)
    before = item.status
    if before == status:
        return item
    Item.objects.filter(pk=item.pk).update(status=status)
    item.status = status
    record_audit(actor=actor, action="mall.item.status", obj=item, before={"status": before},
                 after={"status": status})
    if status == ItemStatus.DELISTED:
        for order in selectors.open_orders_for_item(item):
            notify(
                recipient=order.employee.user, kind="mall.item_delisted",
                title=_("%(item)s is no longer offered") % {"item": item.name},
                body=_("Your order %(number)s is kept. You may switch it to another item or "
                       "cancel it and get all %(points)s points back.")
                % {"number": order.number, "points": order.points},
                url=reverse("portal:order_detail", args=[order.pk]),
                dedupe_key=f"mall:delisted:{order.pk}",
            )
    return item


@transaction.atomic
def restock(*, item: Item, quantity: int, actor: Any) -> Item:
    """Add ``quantity`` to a limited item's stock; an item back above its threshold will
    alert again the next time it falls to it."""
    if not isinstance(quantity, int) or quantity <= 0:
        raise errors.ValidationError(_("Restock by a positive number."), code="invalid_quantity")
    if item.stock is None:
        raise errors.Conflict(_("This item has unlimited stock."), code="unlimited_stock")
    if item.fulfilment == Fulfilment.CODE:
        raise errors.Conflict(_("Import codes to add stock to a code item."),
                              code="stock_is_codes")
    Item.objects.filter(pk=item.pk).update(stock=F("stock") + quantity)
    Item.objects.filter(pk=item.pk, stock__gt=F("low_stock_threshold")).update(
        low_stock_alerted=False)
    item.refresh_from_db()
    record_audit(actor=actor, action="mall.item.restock", obj=item,
                 before={"stock": item.stock - quantity}, after={"stock": item.stock})
    return item


def _make_thumbnail(upload: Any) -> ContentFile:
    from PIL import Image, ImageOps, UnidentifiedImageError

    unreadable = errors.ValidationError(_("This file is not an image we can read."),
                                        code="invalid_image")
    try:
        upload.seek(0)
        img = Image.open(upload)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own limit (far above ours): past it Pillow warns, past twice it refuses.
        raise picture_too_large() from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise unreadable from exc
    try:
        with img:
            # Opening read only the header. A small file can decode to gigabytes (a
            # decompression bomb): refuse it by its size before any pixel is decoded.
            width, height = img.size
            if width * height > MAX_IMAGE_PIXELS:
                raise picture_too_large()
            img = ImageOps.exif_transpose(img)
            img.thumbnail(THUMBNAIL_SIZE)
            if img.mode not in ("RGB", "L"):
                img = img.convert("RGB")
            out = io.BytesIO()
            img.save(out, format="JPEG", quality=82)
    except (UnidentifiedImageError, OSError) as exc:
        raise unreadable from exc
    upload.seek(0)
    return ContentFile(out.getvalue())


@transaction.atomic
def add_item_image(*, item: Item, upload: Any, actor: Any) -> ItemImage:
    """Store an uploaded picture of an item with a JPEG thumbnail (at most 480×480)."""
    thumb = _make_thumbnail(upload)
    image = ItemImage(item=item, sort_order=item.images.count())
    name = getattr(upload, "name", "image") or "image"
    image.image.save(name, upload, save=False)
    image.thumbnail.save(f"{name.rsplit('.', 1)[0]}.jpg", thumb, save=False)
    image.save()
    record_audit(actor=actor, action="mall.item.image_add", obj=item,
                 after={"image": image.image.name})
    return image


@transaction.atomic
def remove_item_image(*, image: ItemImage, actor: Any) -> None:
    item = image.item
    record_audit(actor=actor, action="mall.item.image_remove", obj=item,
                 before={"image": image.image.name})
    image.delete()


@transaction.atomic
def import_codes(*, item: Item, codes: list[str], actor: Any) -> int:
    """Add codes to a code item's pool, skipping blanks and codes it already has; its
    stock grows by the number added. Returns that number."""
    if item.fulfilment != Fulfilment.CODE:
        raise errors.Conflict(_("Only code items have a code pool."), code="not_a_code_item")
    wanted = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    existing = set(Code.objects.filter(item=item, code__in=wanted).values_list("code",
                                                                                flat=True))
    new = [Code(item=item, code=c[:200]) for c in wanted if c not in existing]
    Code.objects.bulk_create(new)
    if new:
        Item.objects.filter(pk=item.pk, stock__isnull=True).update(stock=0)
        Item.objects.filter(pk=item.pk).update(stock=F("stock") + len(new))
        Item.objects.filter(pk=item.pk, stock__gt=F("low_stock_threshold")).update(
            low_stock_alerted=False)
    record_audit(actor=actor, action="mall.codes.import", obj=item,
                 after={"added": len(new), "skipped": len(wanted) - len(new)})
    return len(new)


# --- windows and campaigns -------------------------------------------------------------


@transaction.atomic
def save_window(*, actor: Any, name: str, mode: str, day_from: int | None = None,
                day_to: int | None = None, is_default: bool = False,
                periods: list[tuple[datetime, datetime]] | None = None,
                window: RedemptionWindow | None = None) -> RedemptionWindow:
    """Create or change a redemption window. Only one window is the mall's default."""
    if mode not in WindowMode.values:
        raise errors.ValidationError(_("Unknown window mode."), code="invalid_mode")
    if mode == WindowMode.MONTHLY and not (
            day_from and day_to and 1 <= day_from <= 31 and 1 <= day_to <= 31):
        raise errors.ValidationError(_("Give the first and last day (1–31)."),
                                     code="invalid_days")
    for start, end in periods or []:
        if end <= start:
            raise errors.ValidationError(_("A period must end after it starts."),
                                         code="invalid_period")
    fields = ("name", "mode", "day_from", "day_to", "is_default")
    before = snapshot(window, fields) if window is not None else None
    obj = window or RedemptionWindow()
    obj.name, obj.mode, obj.day_from, obj.day_to, obj.is_default = (
        name.strip() or _("Window"), mode, day_from, day_to, is_default)
    obj.save()
    if is_default:
        RedemptionWindow.objects.exclude(pk=obj.pk).update(is_default=False)
    if periods is not None:
        obj.periods.all().delete()
        WindowPeriod.objects.bulk_create(
            [WindowPeriod(window=obj, starts_at=s, ends_at=e) for s, e in periods])
    record_audit(actor=actor, action="mall.window.save", obj=obj, before=before,
                 after=snapshot(obj, fields))
    return obj


@transaction.atomic
def save_campaign(*, actor: Any, name: str, kind: str, value: int, starts_at: datetime,
                  ends_at: datetime, items: list[Item] | None = None,
                  categories: list[Category] | None = None, is_active: bool = True,
                  campaign: Campaign | None = None) -> Campaign:
    """Create or change a discount campaign on items and/or categories."""
    if kind not in DiscountKind.values:
        raise errors.ValidationError(_("Unknown discount kind."), code="invalid_kind")
    if kind == DiscountKind.PERCENT and not 1 <= value <= 99:
        raise errors.ValidationError(_("A percentage discount is 1–99."), code="invalid_value")
    if value <= 0:
        raise errors.ValidationError(_("The discount must be positive."), code="invalid_value")
    if ends_at <= starts_at:
        raise errors.ValidationError(_("The campaign must end after it starts."),
                                     code="invalid_period")
    if not items and not categories:
        raise errors.ValidationError(_("Choose items or categories for the campaign."),
                                     code="empty_campaign")
    fields = ("name", "kind", "value", "starts_at", "ends_at", "is_active")
    before = snapshot(campaign, fields) if campaign is not None else None
    obj = campaign or Campaign()
    obj.name, obj.kind, obj.value = name.strip() or _("Campaign"), kind, value
    obj.starts_at, obj.ends_at, obj.is_active = starts_at, ends_at, is_active
    obj.save()
    obj.items.set(items or [])
    obj.categories.set(categories or [])
    record_audit(actor=actor, action="mall.campaign.save", obj=obj, before=before,
                 after=snapshot(obj, fields))
    return obj


# --- favourites and addresses ------------------------------------------------------------


@transaction.atomic
def toggle_favourite(*, employee: Any, item: Item) -> bool:
    """Add the item to the employee's wish list, or remove it; True when it is now there."""
    deleted, _detail = Favourite.objects.filter(employee=employee, item=item).delete()
    if deleted:
        return False
    Favourite.objects.get_or_create(employee=employee, item=item)
    return True


@transaction.atomic
def add_address(*, employee: Any, recipient: str, phone: str, address: str, region: str = "",
                is_default: bool = False) -> ShippingAddress:
    recipient, phone, address = recipient.strip(), phone.strip(), address.strip()
    if not (recipient and phone and address):
        raise errors.ValidationError(_("Recipient, phone and address are all needed."),
                                     code="address_incomplete")
    first = not ShippingAddress.objects.filter(employee=employee).exists()
    if is_default or first:
        ShippingAddress.objects.filter(employee=employee).update(is_default=False)
    return ShippingAddress.objects.create(employee=employee, recipient=recipient, phone=phone,
                                          region=region.strip(), address=address,
                                          is_default=is_default or first)


@transaction.atomic
def remove_address(*, employee: Any, address_id: int) -> None:
    """Delete one of the employee's addresses (orders keep their own copy); another
    address becomes the default if this one was."""
    address = ShippingAddress.objects.filter(pk=address_id, employee=employee).first()
    if address is None:
        raise errors.NotFound(_("Unknown address."))
    was_default = address.is_default
    address.delete()
    if was_default:
        ShippingAddress.objects.filter(
            pk=ShippingAddress.objects.filter(employee=employee).order_by("-pk")
            .values("pk")[:1]).update(is_default=True)


@transaction.atomic
def make_default_address(*, employee: Any, address_id: int) -> None:
    if not ShippingAddress.objects.filter(pk=address_id, employee=employee).exists():
        raise errors.NotFound(_("Unknown address."))
    ShippingAddress.objects.filter(employee=employee).exclude(pk=address_id).update(
        is_default=False)
    ShippingAddress.objects.filter(pk=address_id).update(is_default=True)


# --- orders: creation ------------------------------------------------------------------


def _event(order: Order, *, action: str, from_status: str, to_status: str, actor: Any,
           note: str = "", now: datetime | None = None) -> OrderEvent:
    return insert_instance(OrderEvent(
        order=order, action=action, from_status=from_status, to_status=to_status,
        note=note[:300], created_at=now or timezone.now(), **_actor_fields(actor)))


def _low_stock_check(item_id: int) -> None:
    """Alert mall admins once when stock falls to the threshold (the flag flips back
    only when stock rises above it again)."""
    crossed = Item.objects.filter(
        pk=item_id, low_stock_alerted=False, stock__isnull=False, low_stock_threshold__gt=0,
        stock__lte=F("low_stock_threshold"),
    ).update(low_stock_alerted=True)
    if not crossed:
        return
    item = Item.objects.get(pk=item_id)
    for user in selectors.mall_admin_users():
        notify(recipient=user, kind="mall.low_stock",
               title=_("Low stock: %(item)s") % {"item": item.name},
               body=_("%(stock)s left (threshold %(threshold)s).")
               % {"stock": item.stock, "threshold": item.low_stock_threshold},
               url=reverse("console:mall_item_edit", args=[item.pk]), email=True)


def _stock_last() -> bool:
    """Where in an order's transaction the item's stock row is locked.

    The stock row is what a flash sale fights over, so the shorter it stays locked the
    better: on PostgreSQL the decrement comes last, just before commit (the order insert's
    foreign-key check takes ``FOR KEY SHARE``, which does not block the decrement). On
    MariaDB/MySQL that check takes a shared lock that would deadlock concurrent buyers
    upgrading it, so there the decrement comes first. Releasing follows the same order
    (purchase counter, ledger, stock — or stock first on MariaDB) so that two
    transactions never wait on each other in opposite orders."""
    return connection.vendor == "postgresql"


def _returning_update() -> bool:
    """Whether UPDATE … RETURNING exists here (PostgreSQL, SQLite ≥ 3.35; not MySQL)."""
    if connection.vendor == "postgresql":
        return True
    import sqlite3

    return connection.vendor == "sqlite" and sqlite3.sqlite_version_info >= (3, 35)


def _take_limited_stock(item_id: int, quantity: int) -> tuple[int, int, bool] | None:
    """The conditional decrement, answering the row's stock, low-stock threshold and alert
    flag after it (None: not enough stock) — so the low-stock check needs no statement of
    its own unless the threshold is reached. Only where UPDATE … RETURNING exists."""

    def build() -> str:
        qn = connection.ops.quote_name
        stock, sold = qn("stock"), qn("sold_count")
        return (f"UPDATE {qn(Item._meta.db_table)} SET {stock} = {stock} - %s, "
                f"{sold} = {sold} + %s WHERE {qn('id')} = %s AND {stock} >= %s "
                f"RETURNING {stock}, {qn('low_stock_threshold')}, {qn('low_stock_alerted')}")

    with connection.cursor() as cursor:
        cursor.execute(statement(("take-stock",), build),
                       [quantity, quantity, item_id, quantity])
        row = cursor.fetchone()
    return (row[0], row[1], bool(row[2])) if row is not None else None


def _count_sold(item_id: int, quantity: int) -> None:
    def build() -> str:
        qn = connection.ops.quote_name
        return (f"UPDATE {qn(Item._meta.db_table)} SET {qn('sold_count')} = "
                f"{qn('sold_count')} + %s WHERE {qn('id')} = %s")

    with connection.cursor() as cursor:
        cursor.execute(statement(("count-sold",), build), [quantity, item_id])


def _take_stock(item: Item, quantity: int) -> None:
    if item.stock is None:
        _count_sold(item.pk, quantity)
        return
    if _returning_update():
        after = _take_limited_stock(item.pk, quantity)
        if after is None:
            raise _out_of_stock(item)
        stock, threshold, alerted = after
        # The row stays locked by the decrement: nobody can cross the threshold meanwhile.
        if threshold > 0 and not alerted and stock <= threshold:
            _low_stock_check(item.pk)
        return
    taken = Item.objects.filter(pk=item.pk, stock__gte=quantity).update(
        stock=F("stock") - quantity, sold_count=F("sold_count") + quantity)
    if not taken:
        raise _out_of_stock(item)
    _low_stock_check(item.pk)


def _out_of_stock(item: Item) -> errors.Conflict:
    """The refusal of an order for more than the stock left. It says how many are left
    when some are: "sold out" while 8 remain sends the employee away from a smaller order
    that would succeed. Read afresh (on the refusal path only), as other orders may have
    taken stock since the item was read."""
    available = Item.objects.filter(pk=item.pk).values_list("stock", flat=True).first() or 0
    if available > 0:
        message = _("Sorry, only %(available)s of %(item)s left: order %(available)s or "
                    "fewer.") % {"available": available, "item": item.name}
    else:
        message = _("Sorry, %(item)s is out of stock.") % {"item": item.name}
    return errors.Conflict(message, code="out_of_stock",
                           details={"item_id": item.pk, "available": max(0, available)})


def _return_stock(order: Order) -> None:
    item = order.item
    if Item.objects.filter(pk=item.pk, stock__isnull=True).exists():
        Item.objects.filter(pk=item.pk, sold_count__gte=order.quantity).update(
            sold_count=F("sold_count") - order.quantity)
        return
    Item.objects.filter(pk=item.pk).update(stock=F("stock") + order.quantity)
    Item.objects.filter(pk=item.pk, sold_count__gte=order.quantity).update(
        sold_count=F("sold_count") - order.quantity)
    Item.objects.filter(pk=item.pk, stock__gt=F("low_stock_threshold")).update(
        low_stock_alerted=False)


def _count_purchase(item: Item, employee: Any, quantity: int, now: datetime) -> str:
    if not item.per_employee_limit:
        return ""
    key = selectors.limit_period_key(item.limit_period, now)
    PurchaseCounter.objects.get_or_create(employee=employee, item=item, period_key=key)
    counted = PurchaseCounter.objects.filter(
        employee=employee, item=item, period_key=key,
        quantity__lte=item.per_employee_limit - quantity,
    ).update(quantity=F("quantity") + quantity)
    if not counted:
        raise errors.Conflict(
            _("You can redeem at most %(limit)s of this item %(period)s.")
            % {"limit": item.per_employee_limit, "period": item.get_limit_period_display()},
            code="limit_reached",
            details={"limit": item.per_employee_limit, "period": item.limit_period},
        )
    return key


def _uncount_purchase(order: Order) -> None:
    if order.limit_key:
        PurchaseCounter.objects.filter(
            employee_id=order.employee_id, item_id=order.item_id, period_key=order.limit_key,
            quantity__gte=order.quantity,
        ).update(quantity=F("quantity") - order.quantity)


def check_can_order(*, employee: Any, item: Item, now: datetime | None = None) -> None:
    """Raise the Conflict an order for this item would meet before touching stock or
    points: not listed, window closed, not eligible."""
    now = now or timezone.now()
    _check_can_order(employee=employee, item=item, now=now,
                     window=selectors.window_for(item.category), restricted=True)


def _check_can_order(*, employee: Any, item: Item, now: datetime,
                     window: RedemptionWindow | None, restricted: bool) -> None:
    if item.status != ItemStatus.LISTED:
        raise errors.Conflict(_("This item is not on offer."), code="not_available")
    state = selectors.window_state(window, now)
    if not state.open:
        opens = state.next_opens_at
        message = (_("The mall is closed for redemptions; it opens again on %(when)s.")
                   % {"when": timezone.localtime(opens).strftime("%Y-%m-%d %H:%M")}
                   if opens else _("The mall is closed for redemptions."))
        opens_at = timezone.localtime(opens).isoformat() if opens else None
        raise errors.Conflict(message, code="window_closed",
                              details={"next_opens_at": opens_at})
    problem = selectors.eligibility_problem(item, employee, timezone.localdate(now),
                                            restricted=restricted)
    if problem:
        raise errors.Conflict(problem, code="not_eligible")


def create_order(
    *,
    employee: Any,
    item: Item,
    idempotency_key: str = "",
    quantity: int = 1,
    address: ShippingAddress | None = None,
    actor: Any = None,
    now: datetime | None = None,
    replays_by_caller: bool = False,
    on_placed: Callable[[Order], None] | None = None,
) -> Order:
    """Redeem ``quantity`` of ``item`` for the employee, in one transaction: check the
    window (409 ``window_closed``), eligibility (``not_eligible``), the per-employee limit
    (``limit_reached``), take the stock by a conditional update (``out_of_stock``), hold the
    points (``insufficient_points``) and record the order as ``submitted`` — or approve it
    at once when the item auto-approves. Any refusal leaves nothing changed. The same
    ``idempotency_key`` returns the first order instead of a second one.

    ``on_placed(order)`` runs once in the order's transaction when the order is complete,
    for the caller's own writes that must commit with it (the API's idempotency record) —
    on PostgreSQL before the stock row is locked, so they do not lengthen that lock.

    ``replays_by_caller=True``, inside the caller's transaction only, leaves that last
    part to the caller: the order gets no savepoint of its own, so a key used before
    (IntegrityError) or any refusal aborts the caller's transaction, which must roll back
    and answer the replay itself — as the API does from its idempotency record, written in
    the same transaction as every order it places."""
    if not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise errors.ValidationError(_("Order between 1 and %s at a time.") % MAX_QUANTITY,
                                     code="invalid_quantity")
    key = (idempotency_key or "").strip()[:200]
    # No look-up of the key ahead of every order: the order's unique key refuses a second
    # one (IntegrityError), and a refusal of a key already used (sold out since, limit
    # reached by that very order …) is checked afterwards — both answer with the first order.
    replayable = bool(key)
    key = key or uuid.uuid4().hex

    def place() -> Order:
        return _create_order(employee=employee, item_id=item.pk, key=key, quantity=quantity,
                             address=address,
                             actor=actor if actor is not None else employee.user,
                             now=now or timezone.now(), on_placed=on_placed)

    if replays_by_caller:
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("replays_by_caller needs the caller's transaction")
        with transaction.atomic(savepoint=False):
            return place()
    # Outside a caller's transaction a deadlock (the database already rolled everything
    # back) is retried; inside one it propagates, as only the caller can start over.
    attempts = 1 if transaction.get_connection().in_atomic_block else 3
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                return place()
        except IntegrityError:
            # The key was used before, or a concurrent call with it committed first:
            # answer with its order.
            if (done := _replay(key, employee)) is not None:
                return done
            raise
        except errors.JifenError:
            if replayable and (done := _replay(key, employee)) is not None:
                return done
            raise
        except OperationalError as exc:
            if attempt == attempts or not is_transient_db_error(exc):
                raise
            time.sleep(random.uniform(0, 0.02 * attempt))
    raise AssertionError("unreachable")  # pragma: no cover


def _replay(key: str, employee: Any) -> Order | None:
    order = Order.objects.filter(idempotency_key=key).first()
    if order is not None and order.employee_id != employee.pk:
        raise errors.Conflict(_("This idempotency key was already used."),
                              code="idempotency_key_reused")
    return order


def _set_hold_sql() -> str:
    qn = connection.ops.quote_name
    return (f"UPDATE {qn(Order._meta.db_table)} SET {qn('hold_txn_id')} = %s "
            f"WHERE {qn('id')} = %s")


def _create_order(*, employee: Any, item_id: int, key: str, quantity: int,
                  address: ShippingAddress | None, actor: Any, now: datetime,
                  on_placed: Callable[[Order], None] | None = None) -> Order:
    context = selectors.order_context(item_id, now)
    if context is None:
        raise errors.NotFound(_("Item not found."), code="not_found")
    item = context.item
    _check_can_order(employee=employee, item=item, now=now, window=context.window,
                     restricted=context.restricted)
    if item.fulfilment == Fulfilment.CODE and quantity != 1:
        # One order reveals one code; several codes are several orders.
        raise errors.ValidationError(_("Codes are redeemed one per order."),
                                     code="invalid_quantity")
    address_data = None
    if item.fulfilment == Fulfilment.SHIPPED:
        if address is None:
            address = ShippingAddress.objects.filter(employee=employee).first()
        if address is None or address.employee_id != employee.pk:
            raise errors.ValidationError(_("Add a shipping address first."),
                                         code="address_required")
        address_data = address.snapshot()
    price = (selectors.price_of(item, now) if context.campaigns_running
             else selectors.Price(points=item.points, original=item.points))
    stock_last = _stock_last()
    if not stock_last:
        _take_stock(item, quantity)
    limit_key = _count_purchase(item, employee, quantity, now)
    # Written by hand-built statements, as the ledger's postings are: on this path the
    # ORM's query building cost more than the database's work (docs/decisions/0006).
    order = insert_instance(Order(
        employee=employee, item=item, item_name=item.name, quantity=quantity,
        unit_points=price.points, original_points=price.original * quantity,
        points=price.points * quantity, campaign=price.campaign, fulfilment=item.fulfilment,
        address=address_data, limit_key=limit_key, idempotency_key=key, created_at=now,
    ))
    hold = ledger.hold_for_new_cause(
        employee=employee, amount=order.points, idempotency_key=f"mall:order:{order.pk}:hold",
        cause=order, reason=_("Order %(number)s: %(item)s") % {"number": order.number,
                                                               "item": item.name},
        actor=actor, now=now)
    with connection.cursor() as cursor:
        cursor.execute(statement(("order-hold",), _set_hold_sql),
                       [hold.pk, order.pk])
    order.hold_txn_id = hold.pk
    submitted = _event(order, action="submit", from_status="",
                       to_status=OrderStatus.SUBMITTED, actor=actor, now=now)
    if not item.auto_approve:
        # The timeline is this one event: callers showing the order need not read it back.
        events = order.events.all()
        events._result_cache, events._prefetch_done = [submitted], True
        order._prefetched_objects_cache = {"events": events}
        if stock_last and on_placed is not None:
            # Taking the stock changes nothing on the order (it succeeds, or everything
            # rolls back): the caller writes its own rows now, before the row a flash sale
            # fights over is locked, so that lock is held only until COMMIT.
            on_placed(order)
            on_placed = None
    if stock_last:
        _take_stock(item, quantity)
    if item.auto_approve:
        order = _approve(order, actor=None, note=_("Approved automatically"), now=now)
        if item.fulfilment == Fulfilment.CODE:
            order = _fulfil(order, actor=None, note="", now=now)
    if on_placed is not None:
        on_placed(order)
    return order


# --- orders: transitions ---------------------------------------------------------------

# action → (statuses it may start from, status it leads to). Fulfilment-specific rules
# (only shipped items ship; shipped items are not "fulfilled") are checked in _move.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "approve": ((OrderStatus.SUBMITTED,), OrderStatus.APPROVED),
    "reject": ((OrderStatus.SUBMITTED,), OrderStatus.REJECTED),
    "cancel": ((OrderStatus.SUBMITTED, OrderStatus.APPROVED), OrderStatus.CANCELLED),
    "ship": ((OrderStatus.APPROVED,), OrderStatus.SHIPPED),
    "deliver": ((OrderStatus.SHIPPED,), OrderStatus.DELIVERED),
    "fulfil": ((OrderStatus.APPROVED,), OrderStatus.FULFILLED),
    "complete": ((OrderStatus.DELIVERED, OrderStatus.FULFILLED), OrderStatus.COMPLETED),
}


def allowed_actions(order: Order) -> list[str]:
    """The actions an admin could take on the order now."""
    actions = [a for a, (sources, _to) in TRANSITIONS.items() if order.status in sources]
    if order.fulfilment == Fulfilment.SHIPPED:
        actions = [a for a in actions if a != "fulfil"]
    else:
        actions = [a for a in actions if a not in ("ship", "deliver")]
    if order.status == OrderStatus.APPROVED and order.item.status != ItemStatus.DELISTED:
        actions = [a for a in actions if a != "cancel"]
    return actions


def _refuse(order: Order, action: str) -> errors.Conflict:
    return errors.Conflict(
        _("An order that is %(status)s cannot be %(action)s.")
        % {"status": OrderStatus(order.status).label.lower(), "action": _ACTION_PAST[action]},
        code="invalid_transition",
        details={"status": order.status, "action": action},
    )


_ACTION_PAST = {
    "approve": _("approved"), "reject": _("rejected"), "cancel": _("cancelled"),
    "ship": _("shipped"), "deliver": _("marked delivered"), "fulfil": _("fulfilled"),
    "complete": _("completed"),
}


def _move(order: Order, action: str, *, actor: Any, note: str = "",
          now: datetime | None = None, **fields: Any) -> Order:
    """Move the order by ``action`` if its current status allows it. The status changes
    by a conditional update, so two admins acting at once cannot both succeed."""
    sources, target = TRANSITIONS[action]
    now = now or timezone.now()
    current = Order.objects.select_related("item").get(pk=order.pk)
    wrong_kind = ((action == "ship" and current.fulfilment != Fulfilment.SHIPPED)
                  or (action == "fulfil" and current.fulfilment == Fulfilment.SHIPPED))
    # Checked again on this fresh read: an approval may have landed since the caller looked.
    approved_but_listed = (action == "cancel" and current.status == OrderStatus.APPROVED
                           and current.item.status != ItemStatus.DELISTED)
    if current.status not in sources or wrong_kind or approved_but_listed:
        raise _refuse(current, action)
    moved = Order.objects.filter(pk=order.pk, status=current.status).update(
        status=target, updated_at=now, **fields)
    if not moved:
        current.refresh_from_db()
        raise _refuse(current, action)
    _event(current, action=action, from_status=current.status, to_status=target,
           actor=actor, note=note, now=now)
    from_status = current.status
    current.status, current.updated_at = target, now
    for name, value in fields.items():
        setattr(current, name, value)
    current._from_status = from_status  # type: ignore[attr-defined]
    return current


def _hold_of(order: Order) -> Transaction:
    return Transaction.objects.get(pk=order.hold_txn_id)


def _approve(order: Order, *, actor: Any, note: str = "", now: datetime | None = None) -> Order:
    order = _move(order, "approve", actor=actor, note=note, now=now)
    capture = ledger.capture(hold=_hold_of(order),
                             idempotency_key=f"mall:order:{order.pk}:capture",
                             reason=_("Order %s approved") % order.number, actor=actor, now=now)
    Order.objects.filter(pk=order.pk).update(capture_txn_id=capture.pk)
    order.capture_txn_id = capture.pk
    return order


def _fulfil(order: Order, *, actor: Any, note: str, now: datetime | None = None) -> Order:
    # The state moves first (a conditional update), then the code is handed out: an order
    # that may not be fulfilled (already fulfilled, completed, cancelled …) is refused
    # before it touches the pool. Run inside the caller's transaction, so an empty pool
    # rolls the move back.
    order = _move(order, "fulfil", actor=actor, note=note, now=now)
    if order.fulfilment == Fulfilment.CODE:
        code = None
        for _attempt in range(10):
            candidate = (Code.objects.filter(item_id=order.item_id, order__isnull=True)
                         .order_by("pk").values_list("pk", flat=True).first())
            if candidate is None:
                break
            if Code.objects.filter(pk=candidate, order__isnull=True).update(
                    order=order, assigned_at=now or timezone.now()):
                code = candidate
                break
        if code is None:
            raise errors.Conflict(_("The code pool of this item is empty; import codes first."),
                                  code="code_pool_empty")
    notify(recipient=order.employee.user, kind="mall.order_fulfilled",
           title=_("Your order %(number)s is ready") % {"number": order.number},
           body=(_("Your code is waiting on the order page.")
                 if order.fulfilment == Fulfilment.CODE else ""),
           url=reverse("portal:order_detail", args=[order.pk]))
    return order


@transaction.atomic
def approve_order(*, order: Order, actor: Any, now: datetime | None = None) -> Order:
    """Approve a submitted order: its held points are captured (spent for good). Code items
    are fulfilled at once with the next unused code. 409 ``invalid_transition`` otherwise."""
    order = _approve(order, actor=actor, now=now)
    record_audit(actor=actor, action="mall.order.approve", obj=order,
                 before={"status": OrderStatus.SUBMITTED}, after={"status": order.status})
    if order.fulfilment == Fulfilment.CODE:
        order = _fulfil(order, actor=actor, note="", now=now)
    return order


def _release(order: Order, *, action: str, actor: Any, reason: str,
             now: datetime | None) -> Order:
    """Reject or cancel: points go back (release, or refund if already captured), stock
    and the purchase count return."""
    order = _move(order, action, actor=actor, note=reason, now=now, reason=reason[:300])
    stock_last = _stock_last()
    if not stock_last:
        _return_stock(order)
    _uncount_purchase(order)
    if order.capture_txn_id:
        settle = ledger.refund(capture=Transaction.objects.get(pk=order.capture_txn_id),
                               idempotency_key=f"mall:order:{order.pk}:refund",
                               reason=reason or _("Order %s cancelled") % order.number,
                               actor=actor, now=now)
    else:
        settle = ledger.release(hold=_hold_of(order),
                                idempotency_key=f"mall:order:{order.pk}:release",
                                reason=reason or _("Order %s cancelled") % order.number,
                                actor=actor, now=now)
    Order.objects.filter(pk=order.pk).update(settle_txn_id=settle.pk)
    order.settle_txn_id = settle.pk
    if stock_last:
        _return_stock(order)
    return order


@transaction.atomic
def reject_order(*, order: Order, actor: Any, reason: str, now: datetime | None = None) -> Order:
    """Reject a submitted order with a reason: the points are released to the wallet and
    the stock returns. The employee is told why."""
    reason = (reason or "").strip()
    if not reason:
        raise errors.ValidationError(_("Say why the order is rejected."),
                                     code="reason_required")
    order = _release(order, action="reject", actor=actor, reason=reason, now=now)
    record_audit(actor=actor, action="mall.order.reject", obj=order,
                 before={"status": OrderStatus.SUBMITTED},
                 after={"status": order.status, "reason": reason})
    notify(recipient=order.employee.user, kind="mall.order_rejected",
           title=_("Order %(number)s was rejected") % {"number": order.number},
           body=_("%(reason)s Your %(points)s points are back.")
           % {"reason": reason, "points": order.points},
           url=reverse("portal:order_detail", args=[order.pk]))
    return order


@transaction.atomic
def cancel_order(*, order: Order, actor: Any, by_owner: bool = True, reason: str = "",
                 now: datetime | None = None) -> Order:
    """Cancel an order while it is still submitted (points released), or — when its item
    has been delisted — while approved (points refunded). Stock returns either way. Owners
    may cancel only their own orders (others' are a 404)."""
    current = Order.objects.select_related("item", "employee").get(pk=order.pk)
    if by_owner and getattr(getattr(actor, "employee", None), "pk", None) != current.employee_id:
        raise errors.NotFound(_("Order not found."))
    if current.status == OrderStatus.APPROVED and current.item.status != ItemStatus.DELISTED:
        raise _refuse(current, "cancel")
    reason = (reason or "").strip() or (_("Cancelled by the employee") if by_owner
                                         else _("Cancelled by the mall"))
    order = _release(current, action="cancel", actor=actor, reason=reason, now=now)
    if not by_owner:
        record_audit(actor=actor, action="mall.order.cancel", obj=order,
                     before={"status": order._from_status},  # type: ignore[attr-defined]
                     after={"status": order.status, "reason": reason})
    return order


@transaction.atomic
def ship_order(*, order: Order, actor: Any, carrier: str, tracking_no: str,
               now: datetime | None = None) -> Order:
    """Mark an approved shipped-goods order as sent with the carrier and tracking number."""
    carrier, tracking_no = (carrier or "").strip(), (tracking_no or "").strip()
    if not carrier or not tracking_no:
        raise errors.ValidationError(_("Give the carrier and the tracking number."),
                                     code="tracking_required")
    order = _move(order, "ship", actor=actor, note=f"{carrier} {tracking_no}", now=now,
                  carrier=carrier[:60], tracking_no=tracking_no[:60])
    record_audit(actor=actor, action="mall.order.ship", obj=order,
                 before={"status": OrderStatus.APPROVED},
                 after={"status": order.status, "carrier": carrier, "tracking_no": tracking_no})
    notify(recipient=order.employee.user, kind="mall.order_shipped",
           title=_("Order %(number)s is on its way") % {"number": order.number},
           body=f"{carrier} {tracking_no}",
           url=reverse("portal:order_detail", args=[order.pk]))
    return order


@transaction.atomic
def deliver_order(*, order: Order, actor: Any, now: datetime | None = None) -> Order:
    """Record that a shipped order arrived."""
    order = _move(order, "deliver", actor=actor, now=now)
    record_audit(actor=actor, action="mall.order.deliver", obj=order,
                 before={"status": OrderStatus.SHIPPED}, after={"status": order.status})
    return order


@transaction.atomic
def fulfil_order(*, order: Order, actor: Any, note: str = "",
                 now: datetime | None = None) -> Order:
    """Fulfil an approved code, service or pick-up order. A code item gets the next unused
    code of its pool (409 ``code_pool_empty`` when none is left); only its owner sees it."""
    order = _fulfil(order, actor=actor, note=note, now=now)
    record_audit(actor=actor, action="mall.order.fulfil", obj=order,
                 before={"status": OrderStatus.APPROVED}, after={"status": order.status})
    return order


@transaction.atomic
def complete_order(*, order: Order, actor: Any, now: datetime | None = None) -> Order:
    """Close a delivered or fulfilled order (the employee confirms receipt, or an admin —
    which goes to the audit log)."""
    order = _move(order, "complete", actor=actor, now=now)
    if getattr(getattr(actor, "employee", None), "pk", None) != order.employee_id:
        record_audit(actor=actor, action="mall.order.complete", obj=order,
                     before={"status": order._from_status},  # type: ignore[attr-defined]
                     after={"status": order.status})
    return order


@transaction.atomic
def switch_order_item(*, order: Order, new_item: Item, actor: Any,
                      now: datetime | None = None) -> Order:
    """For an open order whose item was delisted: cancel it (points back) and order
    ``new_item`` instead, all or nothing. Returns the new order."""
    current = Order.objects.select_related("item").get(pk=order.pk)
    if current.item.status != ItemStatus.DELISTED or current.status not in OPEN_STATUSES:
        raise errors.Conflict(_("Only open orders of a delisted item can be switched."),
                              code="invalid_transition")
    cancel_order(order=current, actor=actor, reason=_("Switched to %s") % new_item.name,
                 now=now)
    address = None
    if current.address and new_item.fulfilment == Fulfilment.SHIPPED:
        address = ShippingAddress.objects.filter(employee=current.employee).first()
    return create_order(employee=current.employee, item=new_item,
                        idempotency_key=f"switch:{current.pk}", quantity=current.quantity,
                        address=address, actor=actor, now=now)


def perform(*, order: Order, action: str, actor: Any, **data: Any) -> Order:
    """Run one admin action by name (the API and the order desk share this)."""
    if action == "approve":
        return approve_order(order=order, actor=actor)
    if action == "reject":
        return reject_order(order=order, actor=actor, reason=data.get("reason", ""))
    if action == "ship":
        return ship_order(order=order, actor=actor, carrier=data.get("carrier", ""),
                          tracking_no=data.get("tracking_no", ""))
    if action == "deliver":
        return deliver_order(order=order, actor=actor)
    if action == "fulfil":
        return fulfil_order(order=order, actor=actor, note=data.get("note", ""))
    if action == "complete":
        return complete_order(order=order, actor=actor)
    if action == "cancel":
        return cancel_order(order=order, actor=actor, by_owner=False,
                            reason=data.get("reason", ""))
    raise errors.ValidationError(_("Unknown action."), code="unknown_action")


def bulk_approve(*, orders: list[Order], actor: Any) -> tuple[int, list[str]]:
    """Approve many orders, each in its own transaction; returns how many succeeded and
    a message per refusal."""
    done, problems = 0, []
    for order in orders:
        try:
            approve_order(order=order, actor=actor)
            done += 1
        except errors.JifenError as exc:
            problems.append(f"{order.number}: {exc.message}")
    return done, problems
