"""The expiry sweep: points past their date are posted to the expiry sink, and employees
hear in advance about points that will expire soon.

``run_daily_expiry`` is the daily job (``jifen.ledger.tasks.expire_points``, scheduled by
``jifen.core.periodic``; ``jifen ledger expire`` runs it by hand): expire the lots past
their date, then record and send the notices. The arithmetic of when points expire is in
``jifen.ledger.expiry_rules`` (re-exported here).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from jifen.ledger import notices as notice_kinds
from jifen.ledger.accounts import accounts_for, sink_spec
from jifen.ledger.amounts import format_points
from jifen.ledger.expiry_rules import (
    UNSET,
    ExpiryRule,
    add_months,
    compute_expires_at,
    end_of_year,
    is_tenure_exempt,
    lot_expires_at,
    spending_cutoff,
    tenure_years,
)
from jifen.ledger.locks import lock_accounts
from jifen.ledger.models import (
    AccountKind,
    ExpiryNotice,
    Lot,
    LotConsumption,
    Transaction,
    TransactionKind,
)
from jifen.ledger.posting import Move, new_transaction, replayed, write_posting
from jifen.ledger.selectors import ledger_policy
from jifen.notifications.services import notify
from jifen.people.models import Employee

__all__ = [
    "UNSET",
    "ExpiryRule",
    "add_months",
    "compute_expires_at",
    "end_of_year",
    "expire_lots",
    "is_tenure_exempt",
    "lot_expires_at",
    "record_expiry_notices",
    "run_daily_expiry",
    "spending_cutoff",
    "tenure_years",
]


def run_daily_expiry(*, now: datetime | None = None) -> dict[str, int]:
    """The daily expiry work, in its order: expire the lots past their date, then note and
    send the notices of points expiring within the notice period. Returns how many lots
    were ``expired`` and how many new notices there are (``noticed``). Safe to run
    repeatedly and by several workers at once."""
    return {"expired": expire_lots(now=now), "noticed": record_expiry_notices(now=now)}


def expire_lots(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Post an ``expire`` transaction (wallet → expiry sink) for every lot with points left
    past its ``expires_at``; returns how many were posted. Safe to run concurrently and
    repeatedly: each lot's expiry has its own idempotency key and is decided under the
    wallet's lock. Lots of employees whose tenure now exempts them lose their expiry
    instead."""
    now = now or timezone.now()
    posted, after = 0, 0
    while True:
        ids = list(Lot.objects.filter(remaining__gt=0, expires_at__lte=now, pk__gt=after)
                   .order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return posted
        for lot_id in ids:
            if _expire_lot(lot_id=lot_id, now=now) is not None:
                posted += 1
        after = ids[-1]


@transaction.atomic
def _expire_lot(*, lot_id: int, now: datetime) -> Transaction | None:
    lot = Lot.objects.select_related("wallet__employee").get(pk=lot_id)
    wallet = lot.wallet
    (sink,) = accounts_for(sink_spec(AccountKind.EXPIRY))
    lock_accounts([wallet.pk])
    remaining, expires_at = Lot.objects.filter(pk=lot_id).values_list(
        "remaining", "expires_at").get()
    if remaining == 0 or expires_at is None or expires_at > now:
        return None
    if is_tenure_exempt(ledger_policy(), wallet.employee.hire_date, now):
        Lot.objects.filter(wallet=wallet, expires_at__isnull=False).update(expires_at=None)
        return None
    earlier = LotConsumption.objects.filter(lot_id=lot_id,
                                            transaction__kind=TransactionKind.EXPIRE).count()
    key = f"expire:lot:{lot_id}" + (f":{earlier + 1}" if earlier else "")
    if (done := replayed(key, TransactionKind.EXPIRE)) is not None:
        return done
    txn = new_transaction(kind=TransactionKind.EXPIRE, key=key, amount=remaining, now=now,
                           # no words: the kind says it, in the reader's language
                           reason="", cause=("ledger.lot", lot_id))
    write_posting(txn, {wallet: -remaining, sink: remaining},
           moves=[Move(lot_id, remaining)])
    return txn


def record_expiry_notices(*, now: datetime | None = None, days: int | None = None) -> int:
    """Note, once per lot and expiry date, that its employee should hear about points
    expiring within ``days`` (the policy's notice period, 30 by default). Returns how many
    new notices there are. The notification centre will deliver them."""
    now = now or timezone.now()
    policy = ledger_policy()
    days = policy.notice_days if days is None else days
    horizon = now + timedelta(days=days)
    noticed = ExpiryNotice.objects.filter(lot=OuterRef("pk"), expires_at=OuterRef("expires_at"))
    lots = (Lot.objects.filter(remaining__gt=0, expires_at__gt=now, expires_at__lte=horizon)
            .exclude(Exists(noticed))
            .values_list("pk", "remaining", "expires_at", "wallet__employee_id",
                         "wallet__employee__hire_date"))
    notices = [
        ExpiryNotice(employee_id=employee_id, lot_id=lot_id, amount=remaining,
                     expires_at=expires_at, notified_at=now)
        for lot_id, remaining, expires_at, employee_id, hire_date in lots
        if not is_tenure_exempt(policy, hire_date, now)
    ]
    ExpiryNotice.objects.bulk_create(notices, ignore_conflicts=True)
    _tell_about_expiry(notices, now)
    return len(notices)


def _tell_about_expiry(notices: list[ExpiryNotice], now: datetime) -> None:
    """One in-app message per employee and day, however many lots it covers (a message per
    lot is the notification overload employees complain about)."""
    by_employee: dict[int, list[ExpiryNotice]] = {}
    for notice in notices:
        by_employee.setdefault(notice.employee_id, []).append(notice)
    users = dict(Employee.objects.filter(pk__in=by_employee, user__isnull=False)
                 .values_list("pk", "user"))
    today = timezone.localdate(now)
    for employee_id, items in by_employee.items():
        if employee_id not in users:
            continue
        soonest = timezone.localdate(min(n.expires_at for n in items))
        notify(
            recipient=get_user_model()(pk=users[employee_id]),
            kind=notice_kinds.POINTS_EXPIRING,
            params={"points": format_points(sum(n.amount for n in items)),
                    "date": soonest.isoformat()},
            url=reverse("portal:points"),
            dedupe_key=f"points-expiring:{employee_id}:{today.isoformat()}",
        )
