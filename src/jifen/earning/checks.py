"""Earning's invariants, added to `jifen ledger verify`: what the awards say was credited
is what the ledger moved, and each event's points are the sum of its awards."""

from __future__ import annotations

from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Abs, Coalesce

from jifen.earning.models import Award, AwardStatus, Event
from jifen.ledger.models import TransactionKind

LIMIT = 50


def awards_match_the_ledger() -> list[str]:
    lines = []
    credited = Award.objects.filter(status=AwardStatus.CREDITED)
    for pk, points in credited.filter(transaction__isnull=True).exclude(points=0).values_list(
            "pk", "points")[:LIMIT]:
        lines.append(f"award #{pk} says {points} but posted nothing")
    wrong = (credited.filter(transaction__isnull=False)
             .exclude(transaction__amount=Abs(F("points")))
             .values_list("pk", "points", "transaction__amount"))
    lines += [f"award #{pk} says {points}, its transaction moved {amount}"
              for pk, points, amount in wrong[:LIMIT]]
    kind = credited.filter(Q(points__gt=0) & ~Q(transaction__kind=TransactionKind.EARN)
                           | Q(points__lt=0) & ~Q(transaction__kind=TransactionKind.PENALTY))
    lines += [f"award #{pk} posted the wrong kind of transaction"
              for pk in kind.values_list("pk", flat=True)[:LIMIT]]
    sums = (Award.objects.filter(event=OuterRef("pk"), status=AwardStatus.CREDITED)
            .values("event").annotate(total=Sum("points")).values("total"))
    events = (Event.objects.annotate(total=Coalesce(Subquery(sums), 0))
              .exclude(points=F("total")).values_list("pk", "points", "total"))
    lines += [f"event #{pk} says {points} points, its awards {total}"
              for pk, points, total in events[:LIMIT]]
    return lines
