"""Share links that earn: a sharer's link to a resource or item; when a colleague opens it
the sharer earns through HR's "share" rule. The sharer's own visits and a colleague's
repeat visits are not recorded and earn nothing; the rule's day cap limits the rest."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from jifen.core.intake import Fact, report_facts
from jifen.library.models import ShareLink, ShareVisit
from jifen.library.services.engagement import SOURCE, _require_active, company_day
from jifen.library.targets import require_target

CODE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: codes get read aloud
CODE_LENGTH = 10


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@transaction.atomic
def create_share_link(*, employee: Any, kind: str, target_id: Any) -> ShareLink:
    """The employee's share link for a target they may see — the same link every time."""
    _require_active(employee)
    target = require_target(kind, target_id, employee)
    existing = ShareLink.objects.filter(sharer=employee, target_kind=target.kind,
                                        target_id=target.id).first()
    if existing is not None:
        return existing
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return ShareLink.objects.create(code=_new_code(), sharer=employee,
                                                target_kind=target.kind, target_id=target.id)
        except IntegrityError:
            # The same sharer's concurrent first tap won, or (rarely) the code is taken.
            existing = ShareLink.objects.filter(sharer=employee, target_kind=target.kind,
                                                target_id=target.id).first()
            if existing is not None:
                return existing
    raise RuntimeError("no free share code after 5 tries")  # pragma: no cover


@dataclass(frozen=True)
class VisitResult:
    counted: bool  # a colleague's first visit
    earned: int  # what the sharer earned (0 when capped or no rule)


@transaction.atomic
def record_share_visit(*, link: ShareLink, visitor: Any,
                       now: datetime | None = None) -> VisitResult:
    """A colleague opened ``link``. Counts once per colleague and link; the sharer's own
    visit never counts. The fact ("share-visit:<link>:<visitor>") earns the sharer what
    the rule says, within its caps."""
    if visitor is None or visitor.pk == link.sharer_id:
        return VisitResult(counted=False, earned=0)
    now = now or timezone.now()
    try:
        with transaction.atomic():
            ShareVisit.objects.create(link=link, visitor=visitor, day=company_day(now),
                                      created_at=now)
    except IntegrityError:
        return VisitResult(counted=False, earned=0)
    sharer = link.sharer
    if sharer.status != "active":
        return VisitResult(counted=True, earned=0)
    (result,) = report_facts([Fact(
        source=SOURCE, id=f"share-visit:{link.pk}:{visitor.pk}", type="share",
        employee_no=sharer.employee_no, occurred_at=now,
        payload={"target": f"{link.target_kind}:{link.target_id}"})], received_by="library")
    return VisitResult(counted=True, earned=result.points if result.status == "credited" else 0)
