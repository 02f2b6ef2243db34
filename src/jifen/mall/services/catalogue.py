"""Catalogue writers: categories, items (fields, status, stock, pictures) and code pools.

Delisting an item with open orders tells those employees, who may then switch to another
item or cancel for a full refund (``jifen.mall.services.fulfilment``).
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.images import MAX_IMAGE_PIXELS, picture_too_large
from jifen.core.services import record_audit, snapshot
from jifen.mall import notices, selectors
from jifen.mall.models import (
    CATEGORY_ICON_NAMES,
    Category,
    Code,
    Fulfilment,
    Item,
    ItemImage,
    ItemStatus,
    LimitPeriod,
    RedemptionWindow,
)
from jifen.mall.search import item_search_text
from jifen.notifications.services import notify

THUMBNAIL_SIZE = (480, 480)
ITEM_FIELDS = (
    "name", "category", "description", "points", "market_value", "stock",
    "low_stock_threshold", "per_employee_limit", "limit_period", "eligible_grades",
    "min_tenure_years", "fulfilment", "status", "supplier", "tags", "auto_approve",
)


@transaction.atomic
def delete_category(*, actor: Actor, category: Category) -> None:
    """Delete a category no item and no sub-category uses (409 ``category_in_use``
    otherwise: move them first, so no item is left without a shelf)."""
    category = Category.objects.select_for_update().get(pk=category.pk)
    if category.items.exists() or Category.objects.filter(parent=category).exists():
        raise errors.Conflict(
            _("%(name)s still holds items or sub-categories; move them first.")
            % {"name": category.name}, code=errors.ErrorCode.CATEGORY_IN_USE)
    record_audit(actor=actor, action="mall.category.delete", obj=category,
                 before={"name": category.name, "slug": category.slug})
    category.delete()


def save_category(*, actor: Actor, name: str, parent: Category | None = None,
                  kind: str = "physical", icon: str = "", sort_order: int = 0,
                  window: RedemptionWindow | None = None, slug: str = "",
                  category: Category | None = None) -> Category:
    """Create a category (or change ``category``). A category cannot be its own ancestor."""
    name = (name or "").strip()
    if not name:
        raise errors.ValidationError(_("Give the category a name."),
                                     code=errors.ErrorCode.NAME_REQUIRED)
    if category is not None and parent is not None and any(
            c.pk == category.pk for c in selectors.category_ancestors(parent)):
        raise errors.ValidationError(_("A category cannot sit inside itself."),
                                     code=errors.ErrorCode.CATEGORY_CYCLE)
    if icon and icon not in CATEGORY_ICON_NAMES:
        raise errors.ValidationError(_("Choose one of the category icons."),
                                     details={"field": "icon", "icon": icon})
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


def _invalid(message: str, code: errors.ErrorCode, field: str) -> errors.ValidationError:
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
            raise _invalid(_("Give the item a name."), errors.ErrorCode.NAME_REQUIRED, "name")
    if "points" in changes:
        points = changes["points"]
        if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
            raise _invalid(_("The points price must be a positive number."),
                           errors.ErrorCode.INVALID_POINTS, "points")
    stock = changes.get("stock")
    if stock is not None and (not isinstance(stock, int) or stock < 0):
        raise _invalid(_("Stock cannot be negative."), errors.ErrorCode.INVALID_STOCK, "stock")
    if changes.get("fulfilment", Fulfilment.SHIPPED) not in Fulfilment.values:
        raise _invalid(_("Unknown fulfilment type."),
                       errors.ErrorCode.INVALID_FULFILMENT, "fulfilment")
    if changes.get("status", ItemStatus.DRAFT) not in ItemStatus.values:
        raise _invalid(_("Unknown item status."), errors.ErrorCode.INVALID_STATUS, "status")
    if changes.get("limit_period", LimitPeriod.MONTH) not in LimitPeriod.values:
        raise _invalid(_("Unknown limit period."),
                       errors.ErrorCode.INVALID_LIMIT_PERIOD, "limit_period")
    limit = changes.get("per_employee_limit")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise _invalid(_("The limit per employee must be at least 1."),
                       errors.ErrorCode.INVALID_LIMIT, "per_employee_limit")
    if "market_value" in changes:
        changes["market_value"] = Decimal(str(changes["market_value"] or 0))
    return changes


@transaction.atomic
def create_item(*, actor: Actor, name: str, category: Category, points: int,
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
def update_item(*, item: Item, actor: Actor, **changes: Any) -> Item:
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
def set_item_status(*, item: Item, status: str, actor: Actor) -> Item:
    """List, delist or return an item to draft. Delisting an item with open orders tells
    each of those employees, who may then switch to another item or cancel for a full
    refund (``switch_order_item`` / ``cancel_order``)."""
    if status not in ItemStatus.values:
        raise errors.ValidationError(_("Unknown item status."),
                                     code=errors.ErrorCode.INVALID_STATUS)
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
                recipient=order.employee.user, kind=notices.ITEM_DELISTED,
                params={"item": item.name, "number": order.number, "points": order.points},
                url=reverse("portal:order_detail", args=[order.pk]),
                dedupe_key=f"mall:delisted:{order.pk}",
            )
    return item


@transaction.atomic
def restock(*, item: Item, quantity: int, actor: Actor) -> Item:
    """Add ``quantity`` to a limited item's stock; an item back above its threshold will
    alert again the next time it falls to it."""
    if not isinstance(quantity, int) or quantity <= 0:
        raise errors.ValidationError(_("Restock by a positive number."),
                                     code=errors.ErrorCode.INVALID_QUANTITY)
    if item.stock is None:
        raise errors.Conflict(_("This item has unlimited stock."),
                              code=errors.ErrorCode.UNLIMITED_STOCK)
    if item.fulfilment == Fulfilment.CODE:
        raise errors.Conflict(_("Import codes to add stock to a code item."),
                              code=errors.ErrorCode.STOCK_IS_CODES)
    Item.objects.filter(pk=item.pk).update(stock=F("stock") + quantity)
    Item.objects.filter(pk=item.pk, stock__gt=F("low_stock_threshold")).update(
        low_stock_alerted=False)
    item.refresh_from_db()
    record_audit(actor=actor, action="mall.item.restock", obj=item,
                 before={"stock": item.stock - quantity}, after={"stock": item.stock})
    return item


def _make_thumbnail(upload: Any) -> ContentFile:
    unreadable = errors.ValidationError(_("This file is not an image we can read."),
                                        code=errors.ErrorCode.INVALID_IMAGE)
    try:
        upload.seek(0)
        img: Image.Image = Image.open(upload)
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
def add_item_image(*, item: Item, upload: Any, actor: Actor) -> ItemImage:
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
def remove_item_image(*, image: ItemImage, actor: Actor) -> None:
    item = image.item
    record_audit(actor=actor, action="mall.item.image_remove", obj=item,
                 before={"image": image.image.name})
    image.delete()


@transaction.atomic
def import_codes(*, item: Item, codes: list[str], actor: Actor) -> int:
    """Add codes to a code item's pool, skipping blanks and codes it already has; its
    stock grows by the number added. Returns that number."""
    if item.fulfilment != Fulfilment.CODE:
        raise errors.Conflict(_("Only code items have a code pool."),
                              code=errors.ErrorCode.NOT_A_CODE_ITEM)
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
