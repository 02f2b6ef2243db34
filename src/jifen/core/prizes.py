"""Mall items given as prizes: an auction's winning bid, a lottery's item prize.

Activities cannot import the mall (they are independent apps of one layer, DESIGN.md §2),
so the mall registers how a prize becomes an order (``register_prize_orders``) and the
activities call ``place_prize_order``. The order then follows the item's own fulfilment
(shipped, code, service, pick-up) on the order desk like any other."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from jifen.core import errors


@dataclass(frozen=True)
class PrizeOrder:
    employee_id: int
    item_id: int
    # What the winner pays: an auction's winning bid, 0 for a lottery prize.
    points: int
    # The ledger hold that pays for it (the winning bid's), captured as the order proceeds
    # and released if it is rejected or cancelled; None when nothing is paid.
    hold_txn_id: int | None
    # One order per key: placing the same prize again returns the first order's id.
    key: str
    # What the order came from, as "<app>.<model>:<id>" (e.g. "activities.auction:12").
    source: str
    # True when the activity reserved the item's stock beforehand (``reserve_prize_stock``
    # when it was published): the order then takes none of its own.
    stock_reserved: bool = False


PlacePrizeOrder = Callable[..., int]
MoveStock = Callable[[int, int], None]
_place: PlacePrizeOrder | None = None
_reserve: MoveStock | None = None
_give_back: MoveStock | None = None


def register_prize_orders(func: PlacePrizeOrder | None, *, reserve: MoveStock | None = None,
                          give_back: MoveStock | None = None) -> None:
    """The mall's ``func(prize, actor=…, now=…) -> order id`` and its stock moves
    ``reserve(item_id, quantity)`` / ``give_back(item_id, quantity)`` (called at start-up)."""
    global _place, _reserve, _give_back
    _place, _reserve, _give_back = func, reserve, give_back


def reserve_prize_stock(item_id: int, quantity: int = 1) -> None:
    """Set aside ``quantity`` of a mall item for prizes (an auction being published), in the
    caller's transaction, so that the winner's order cannot meet an empty shelf: 409
    ``out_of_stock`` when fewer are left. Give it back with ``return_prize_stock`` when no
    order will use it (cancelled, no winner)."""
    if _reserve is None:
        raise errors.Conflict(_("Prizes from the mall need the mall."),
                              code=errors.ErrorCode.NOT_AVAILABLE)
    _reserve(item_id, quantity)


def return_prize_stock(item_id: int, quantity: int = 1) -> None:
    """Put stock reserved by ``reserve_prize_stock`` back on the shelf."""
    if _give_back is None:
        raise errors.Conflict(_("Prizes from the mall need the mall."),
                              code=errors.ErrorCode.NOT_AVAILABLE)
    _give_back(item_id, quantity)


def place_prize_order(prize: PrizeOrder, *, actor: Any = None,
                      now: datetime | None = None) -> int:
    """Make the order for a prize in the caller's transaction; returns its id."""
    if _place is None:
        raise errors.Conflict(_("Prizes from the mall need the mall."),
                              code=errors.ErrorCode.NOT_AVAILABLE)
    return _place(prize, actor=actor, now=now)
