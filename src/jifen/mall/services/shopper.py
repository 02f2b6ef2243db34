"""The shopper's own things: favourites (the wish list), shipping addresses and the items
they looked at."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.mall.models import Favourite, Item, ItemView, ShippingAddress
from jifen.people.models import Employee

VIEWS_KEPT_DAYS = 90


def record_item_view(*, employee: Employee, item: Item, day: date | None = None) -> None:
    """Note that the employee looked at the item today: one insert that a second look the
    same day leaves alone (no read first, no lock)."""
    ItemView.objects.bulk_create(
        [ItemView(employee=employee, item=item, day=day or timezone.localdate())],
        ignore_conflicts=True)


@transaction.atomic
def prune_item_views(*, today: date | None = None) -> int:
    """Forget looks older than ``VIEWS_KEPT_DAYS``; how many rows went."""
    since = (today or timezone.localdate()) - timedelta(days=VIEWS_KEPT_DAYS)
    deleted, _detail = ItemView.objects.filter(day__lt=since).delete()
    return deleted


@transaction.atomic
def toggle_favourite(*, employee: Employee, item: Item) -> bool:
    """Add the item to the employee's wish list, or remove it; True when it is now there."""
    deleted, _detail = Favourite.objects.filter(employee=employee, item=item).delete()
    if deleted:
        return False
    Favourite.objects.get_or_create(employee=employee, item=item)
    return True


@transaction.atomic
def add_address(*, employee: Employee, recipient: str, phone: str, address: str, region: str = "",
                is_default: bool = False) -> ShippingAddress:
    recipient, phone, address = recipient.strip(), phone.strip(), address.strip()
    if not (recipient and phone and address):
        raise errors.ValidationError(_("Recipient, phone and address are all needed."),
                                     code=errors.ErrorCode.ADDRESS_INCOMPLETE)
    first = not ShippingAddress.objects.filter(employee=employee).exists()
    if is_default or first:
        ShippingAddress.objects.filter(employee=employee).update(is_default=False)
    return ShippingAddress.objects.create(employee=employee, recipient=recipient, phone=phone,
                                          region=region.strip(), address=address,
                                          is_default=is_default or first)


@transaction.atomic
def remove_address(*, employee: Employee, address_id: int) -> None:
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
def make_default_address(*, employee: Employee, address_id: int) -> None:
    if not ShippingAddress.objects.filter(pk=address_id, employee=employee).exists():
        raise errors.NotFound(_("Unknown address."))
    ShippingAddress.objects.filter(employee=employee).exclude(pk=address_id).update(
        is_default=False)
    ShippingAddress.objects.filter(pk=address_id).update(is_default=True)


@transaction.atomic
def update_address(*, employee: Employee, address_id: int, **changes: str) -> ShippingAddress:
    """Change one of the employee's addresses (orders placed with it keep their own copy).
    ``changes`` holds any of recipient, phone, region and address."""
    address = (ShippingAddress.objects.select_for_update()
               .filter(pk=address_id, employee=employee).first())
    if address is None:
        raise errors.NotFound(_("Unknown address."))
    for field in ("recipient", "phone", "region", "address"):
        if field in changes:
            setattr(address, field, (changes[field] or "").strip())
    if not (address.recipient and address.phone and address.address):
        raise errors.ValidationError(_("Recipient, phone and address are all needed."),
                                     code=errors.ErrorCode.ADDRESS_INCOMPLETE)
    address.save(update_fields=["recipient", "phone", "region", "address"])
    return address
