"""Activities API: the lottery part — create, change, publish, cancel and draw (those who
run activities), list and read (everyone signed in), enter (employees, Idempotency-Key),
and the public draw proof anyone signed in can check the draw with."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from jifen.activities.models import ActivityStatus, Entry, Lottery
from jifen.activities.selectors import lottery as selectors
from jifen.activities.services import lottery as services
from jifen.core import errors
from jifen.core.apiauth import Principal, principal
from jifen.core.idempotency import idempotent, ledger_key
from jifen.core.pagination import paginate
from jifen.core.roles import Cap, user_can
from jifen.core.schema_types import RowId, SiteDateTime, StrictInt, UrlInt, UrlRowId
from jifen.ledger.amounts import PointsIn, PointsOut

router = Router(tags=["activities"])


def _is_admin(caller: Principal) -> bool:
    """Who runs activities: employees with the capability, systems with the admin scope."""
    if caller.kind == "system":
        return caller.can("admin")
    return user_can(caller.user, Cap.MANAGE_ACTIVITIES)


def _require_admin(caller: Principal) -> None:
    if not _is_admin(caller):
        raise errors.PermissionDenied(
            _("Only those who run activities may do this."), code=errors.ErrorCode.FORBIDDEN,
            details={"required_scope": "admin"})


def _lottery(caller: Principal, lottery_id: int, *, draw: bool = True) -> Lottery:
    """The lottery (drawn first when its time has come); drafts only for admins."""
    lottery = selectors.lottery_by_id(lottery_id)
    if lottery is None or (lottery.status == ActivityStatus.DRAFT and not _is_admin(caller)):
        raise errors.NotFound(_("Lottery not found."), code=errors.ErrorCode.NOT_FOUND)
    return services.draw_if_due(lottery) if draw else lottery


class TierIn(Schema):
    name: str = Field(min_length=1, max_length=80, examples=["一等奖"])
    kind: Literal["points", "item", "custom"] = "custom"
    quantity: StrictInt = Field(1, ge=1, le=services.MAX_QUANTITY)
    points: PointsIn | None = Field(None, description="For a points prize.")
    item_id: RowId | None = Field(None, description="For a mall item prize.")


class LotteryIn(Schema):
    title: str = Field(min_length=1, max_length=120)
    description: str = Field("", max_length=5000)
    starts_at: SiteDateTime
    ends_at: SiteDateTime
    draw_at: SiteDateTime | None = Field(None, description="Scheduled mode; defaults to "
                                                           "ends_at.")
    mode: Literal["scheduled", "instant"] = "scheduled"
    entry_cost: PointsIn = Field(0, description="0 means free.")
    entry_limit: StrictInt = Field(1, ge=1, le=services.MAX_ENTRY_LIMIT)
    entry_slots: StrictInt | None = Field(None, ge=1, le=10_000_000,
                                          description="null means no limit; needed for "
                                                      "instant mode.")
    min_balance: PointsIn = 0
    eligible_grades: str = Field("", max_length=200)
    min_tenure_days: StrictInt = Field(0, ge=0, le=100_000)
    tiers: list[TierIn] = Field(min_length=1, max_length=services.MAX_TIERS)
    publish: bool = Field(False, description="Publish at once (the seed's commitment).")


class TierOut(Schema):
    id: int
    rank: int
    name: str
    kind: str
    quantity: int
    remaining: int
    points: PointsOut | None
    item_id: int | None


class LotteryOut(Schema):
    id: int
    title: str
    description: str
    status: str
    phase: str
    mode: str
    starts_at: datetime
    ends_at: datetime
    draw_at: datetime | None
    entry_cost: PointsOut
    entry_limit: int
    entry_slots: int | None
    entries_count: int
    min_balance: PointsOut
    algorithm: str
    commitment: str
    committed_at: datetime | None
    snapshot_hash: str
    drawn_at: datetime | None
    tiers: list[TierOut]
    my_entries: int | None = Field(None, description="The calling employee's entries.")


def _lottery_out(lottery: Lottery, caller: Principal) -> dict[str, Any]:
    employee = getattr(caller.user, "employee", None) if caller.kind == "employee" else None
    return {
        "id": lottery.pk, "title": lottery.title, "description": lottery.description,
        "status": lottery.status, "phase": lottery.phase, "mode": lottery.mode,
        "starts_at": lottery.starts_at, "ends_at": lottery.ends_at,
        "draw_at": lottery.draw_at, "entry_cost": lottery.entry_cost,
        "entry_limit": lottery.entry_limit, "entry_slots": lottery.entry_slots,
        "entries_count": lottery.entries_count, "min_balance": lottery.min_balance,
        "algorithm": lottery.algorithm, "commitment": lottery.commitment,
        "committed_at": lottery.committed_at, "snapshot_hash": lottery.snapshot_hash,
        "drawn_at": lottery.drawn_at,
        "tiers": [{"id": t.pk, "rank": t.rank, "name": t.name, "kind": t.kind,
                   "quantity": t.quantity, "remaining": t.remaining, "points": t.points,
                   "item_id": t.item_id} for t in lottery.tiers.all()],
        "my_entries": (selectors.active_entries_of(lottery, employee)
                       if employee is not None else None),
    }


def _save(caller: Principal, payload: LotteryIn, lottery: Lottery | None) -> Lottery:
    data = payload.model_dump(exclude={"tiers", "publish"})
    saved = services.save_lottery(actor=caller.actor, data=data, lottery=lottery,
                                  tiers=[t.model_dump() for t in payload.tiers])
    if payload.publish:
        saved = services.publish_lottery(lottery=saved, actor=caller.actor)
    return saved


@router.post("/lotteries", response={201: LotteryOut})
def create_lottery(request: HttpRequest, payload: LotteryIn):
    """Create a lottery (a draft, or published at once with ``publish``). Needs the right
    to run activities (employees) or the ``admin`` scope (systems)."""
    caller = principal(request)
    _require_admin(caller)

    def handler() -> tuple[int, dict]:
        return 201, LotteryOut(**_lottery_out(_save(caller, payload, None), caller)).model_dump()

    return idempotent(request, caller.id, handler)


@router.put("/lotteries/{lottery_id}", response=LotteryOut)
def update_lottery(request: HttpRequest, lottery_id: UrlRowId, payload: LotteryIn) -> dict:
    """Change a draft (409 ``invalid_transition`` once published)."""
    caller = principal(request)
    _require_admin(caller)
    return _lottery_out(_save(caller, payload, _lottery(caller, lottery_id, draw=False)),
                        caller)


class LotteryFilters(Schema):
    status: str | None = None
    cursor: str | None = None
    limit: UrlInt = Field(20, ge=1, le=100)


class LotteryPage(Schema):
    items: list[LotteryOut]
    next_cursor: str | None


@router.get("/lotteries", response=LotteryPage)
def list_lotteries(request: HttpRequest, filters: Query[LotteryFilters]) -> dict:
    """Lotteries, newest first (drafts only for those who run activities)."""
    caller = principal(request)
    found = selectors.lotteries() if _is_admin(caller) else selectors.visible_lotteries()
    if filters.status:
        found = found.filter(status=filters.status)
    page = paginate(found, cursor=filters.cursor, limit=filters.limit, descending=True)
    return {"items": [_lottery_out(services.draw_if_due(lottery), caller)
                      for lottery in page["items"]],
            "next_cursor": page["next_cursor"]}


@router.get("/lotteries/{lottery_id}", response=LotteryOut)
def get_lottery(request: HttpRequest, lottery_id: UrlRowId) -> dict:
    """One lottery; reading it past its draw time draws it."""
    caller = principal(request)
    return _lottery_out(_lottery(caller, lottery_id), caller)


@router.post("/lotteries/{lottery_id}/publish", response=LotteryOut)
def publish_lottery(request: HttpRequest, lottery_id: UrlRowId) -> dict:
    """Publish a draft: ``commitment`` = sha256(seed) and ``committed_at`` are fixed."""
    caller = principal(request)
    _require_admin(caller)
    lottery = services.publish_lottery(lottery=_lottery(caller, lottery_id, draw=False),
                                       actor=caller.actor)
    return _lottery_out(lottery, caller)


class CancelIn(Schema):
    reason: str = Field("", max_length=200)


@router.post("/lotteries/{lottery_id}/cancel", response=LotteryOut)
def cancel_lottery(request: HttpRequest, lottery_id: UrlRowId, payload: CancelIn) -> dict:
    """Cancel a lottery not yet drawn: every entry's points come back."""
    caller = principal(request)
    _require_admin(caller)
    lottery = services.cancel_lottery(lottery=_lottery(caller, lottery_id, draw=False),
                                      actor=caller.actor, reason=payload.reason)
    return _lottery_out(lottery, caller)


@router.post("/lotteries/{lottery_id}/draw", response=LotteryOut)
def draw_lottery(request: HttpRequest, lottery_id: UrlRowId) -> dict:
    """Draw now: entries close at once and the winners are drawn."""
    caller = principal(request)
    _require_admin(caller)
    lottery = services.draw_lottery(lottery=_lottery(caller, lottery_id, draw=False),
                                    actor=caller.actor, force=True)
    return _lottery_out(lottery, caller)


class EntryOut(Schema):
    id: int
    lottery_id: int
    weight: int
    status: str
    cost: PointsOut
    created_at: datetime
    won: str | None = Field(None, description="Instant win: the prize won at once.")


def _entry_out(entry: Entry, lottery: Lottery) -> dict[str, Any]:
    win = getattr(entry, "win", None) if entry.pk else None
    return {"id": entry.pk, "lottery_id": lottery.pk, "weight": entry.weight,
            "status": entry.status, "cost": lottery.entry_cost if entry.hold_txn_id else 0,
            "created_at": entry.created_at, "won": win.tier.name if win else None}


@router.post("/lotteries/{lottery_id}/entries", response={201: EntryOut})
def enter_lottery(request: HttpRequest, lottery_id: UrlRowId):
    """Enter the lottery as the signed-in employee; the entry cost is held at once. 409
    ``activity_not_open``, ``activity_closed``, ``not_eligible``, ``entry_limit_reached``,
    ``entries_full``, ``insufficient_points``. Send an ``Idempotency-Key``: a replay
    answers with the first entry and charges once."""
    caller = principal(request)
    employee = caller.require_employee()
    lottery = _lottery(caller, lottery_id, draw=False)

    def handler() -> tuple[int, dict]:
        entry = services.enter_lottery(lottery=lottery, employee=employee,
                                       idempotency_key=ledger_key(caller.id, request),
                                       actor=caller.actor)
        entry = selectors.entry_with_win(entry.pk)
        return 201, EntryOut(**_entry_out(entry, lottery)).model_dump()

    return idempotent(request, caller.id, handler, look_first=False)


class ProofEntryOut(Schema):
    id: int
    weight: int
    mine: bool


class ProofTierOut(Schema):
    id: int
    rank: int
    name: str
    quantity: int


class ProofWinnerOut(Schema):
    draw_index: int = Field(description="k (scheduled) or the entry's position n (instant).")
    entry_id: int
    tier_id: int
    tier: str
    value: str = Field(description="The accepted HMAC-SHA256, hex.")
    mine: bool


class ProofOut(Schema):
    lottery_id: int
    title: str
    status: str
    mode: str
    algorithm: str
    commitment: str
    committed_at: datetime | None
    entry_slots: int | None
    snapshot_hash: str
    snapshot_at: datetime | None
    entries: list[ProofEntryOut]
    tiers: list[ProofTierOut]
    seed: str | None = Field(description="Revealed after the draw (or a cancellation).")
    revealed_at: datetime | None
    drawn_at: datetime | None
    winners: list[ProofWinnerOut]


@router.get("/lotteries/{lottery_id}/proof", response=ProofOut)
def lottery_proof(request: HttpRequest, lottery_id: UrlRowId) -> dict:
    """The draw proof (docs/decisions/0019-provably-fair-draws.md): check that
    ``sha256(seed) == commitment``, that the entries hash to ``snapshot_hash`` and that a
    fresh draw picks the same winners (``jifen lottery verify ID`` does all three)."""
    caller = principal(request)
    employee = getattr(caller.user, "employee", None) if caller.kind == "employee" else None
    return selectors.proof(_lottery(caller, lottery_id), employee=employee)


class WinnerOut(Schema):
    draw_index: int
    prize: str
    name: str
    department: str
    entry_id: int


@router.get("/lotteries/{lottery_id}/results", response=list[WinnerOut])
def lottery_results(request: HttpRequest, lottery_id: UrlRowId) -> list[dict]:
    """The winners, in draw order, with their names and departments."""
    caller = principal(request)
    lottery = _lottery(caller, lottery_id)
    return [{"draw_index": w.draw_index, "prize": w.tier.name, "name": w.entry.employee.name,
             "department": w.entry.employee.department.name, "entry_id": w.entry_id}
            for w in selectors.winners(lottery)]
