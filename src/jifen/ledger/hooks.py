"""Slots the apps above the ledger fill in, so the ledger can ask them without importing
them (DESIGN.md §2: a lower layer never imports a higher one). Each app registers in its
``AppConfig.ready()``; an empty slot answers as if that app had nothing to say."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class ClosedSpell(Protocol):
    """A time the mall is closed: from ``closes_at`` (None: closed already) until
    ``opens_at`` (None: no opening planned)."""

    @property
    def closes_at(self) -> datetime | None: ...

    @property
    def opens_at(self) -> datetime | None: ...


_closed_spell: Callable[[datetime], ClosedSpell | None] | None = None


def register_closed_spell(finder: Callable[[datetime], ClosedSpell | None] | None) -> None:
    """The mall's "current or next closed spell at this time" (``mall.selectors``); None
    empties the slot."""
    global _closed_spell
    _closed_spell = finder


def next_closed_spell(now: datetime) -> ClosedSpell | None:
    """When the mall is next closed, or None (no mall, or it never closes)."""
    return _closed_spell(now) if _closed_spell is not None else None


# --- what caused a movement, in words ----------------------------------------------------


@dataclass(frozen=True)
class CauseInfo:
    """A transaction's cause as its reader should see it. ``label`` names it ("Order
    M000171 午睡毯", "Award: Full attendance"); ``status_label`` says what it is now
    ("Completed"); ``return_label`` names points coming back from it ("Refund of order
    M000171 (cancelled by you)"); the links lead to its page in the portal and the console
    (empty: no page), ``console_cap`` is what opening the console page needs."""

    label: str
    status_label: str = ""
    return_label: str = ""
    url_for_employee: str = ""
    url_for_console: str = ""
    console_cap: str = ""


class CauseDescriber(Protocol):
    """Words for many causes of one type at once (no query per cause): ``ids`` are the
    transactions' ``cause_id`` values; ``for_employee`` is True when the employee whose
    points moved reads them ("cancelled by you"), False in the console. Ids it does not
    know are left out of the answer."""

    def __call__(self, ids: list[str], *, for_employee: bool) -> dict[str, CauseInfo]: ...


_cause_describers: dict[str, CauseDescriber] = {}


def register_cause_describer(cause_type: str, describer: CauseDescriber | None) -> None:
    """Who puts causes of ``cause_type`` ("mall.order") into words; None empties the slot."""
    if describer is None:
        _cause_describers.pop(cause_type, None)
    else:
        _cause_describers[cause_type] = describer


def describe_causes(causes: Iterable[tuple[str, str]], *,
                    for_employee: bool) -> dict[tuple[str, str], CauseInfo]:
    """Words for each (cause type, cause id): one call of each type's describer; causes of a
    type nobody describes are left out."""
    by_type: dict[str, set[str]] = {}
    for cause_type, cause_id in causes:
        if cause_type in _cause_describers and cause_id:
            by_type.setdefault(cause_type, set()).add(cause_id)
    found: dict[tuple[str, str], CauseInfo] = {}
    for cause_type, ids in by_type.items():
        answers = _cause_describers[cause_type](sorted(ids), for_employee=for_employee)
        found.update({(cause_type, cause_id): info for cause_id, info in answers.items()})
    return found


# --- what moved, for the apps that keep figures or tell other systems --------------------


@dataclass(frozen=True)
class Leg:
    account_id: int
    account_kind: str  # AccountKind value
    employee_id: int | None  # the employee whose wallet or hold this is, else None
    amount: int  # signed: + into the account


@dataclass(frozen=True)
class Posting:
    """One written transaction, as the observers see it."""

    transaction_id: int
    kind: str  # TransactionKind value
    category: str
    created_at: datetime
    cause_type: str
    cause_id: str
    legs: tuple[Leg, ...]

    def employee_change(self) -> dict[int, int]:
        """Per employee, the net change of what they own (wallet + hold): a hold or a
        release moves nothing here, a capture spends."""
        net: dict[int, int] = {}
        for leg in self.legs:
            if leg.employee_id is not None and leg.account_kind in ("wallet", "hold"):
                net[leg.employee_id] = net.get(leg.employee_id, 0) + leg.amount
        return {employee: amount for employee, amount in net.items() if amount}


PostingObserver = Callable[[list[Posting]], None]
_posting_observers: dict[str, PostingObserver] = {}


def register_posting_observer(name: str, observer: PostingObserver | None) -> None:
    """``observer(postings)`` runs inside the posting's own database transaction, after
    its entries are written (so a rolled-back posting leaves nothing behind and a
    committed one is never missed). It must only insert rows — never lock a shared row or
    post — because it runs on every posting. None empties the slot."""
    if observer is None:
        _posting_observers.pop(name, None)
    else:
        _posting_observers[name] = observer


def tell_posting_observers(postings: list[Posting]) -> None:
    if postings:
        for observer in list(_posting_observers.values()):
            observer(postings)
