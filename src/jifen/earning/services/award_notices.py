"""Telling people about awards: approvers of the awards that now wait for them, employees
of the points the rules credited them, and the daily reminder of what still waits.

Intake tells after each batch of events is scored, with a few statements per batch
however many events: one message per approver and hour that counts up
(``notify_tally``), one message per employee and batch written in multi-row inserts
(``notify_bulk``). The reminder is a daily job (``jifen.core.periodic``)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from jifen.earning import notices, selectors
from jifen.earning.models import AwardStatus
from jifen.ledger.amounts import format_points
from jifen.notifications.ages import days_waited
from jifen.notifications.services import Message, notify, notify_bulk, notify_tally
from jifen.people.models import User

if TYPE_CHECKING:  # selectors import the rule services, which import this module
    from jifen.earning.selectors import AwardToTell


def tell_about_awards(event_ids: list[int], *, credited: bool = True,
                      now: datetime | None = None) -> None:
    """After these events were scored: the approvers of their pending awards hear of them
    (once per approver and hour, counting up), and, unless ``credited`` is False (history
    back-filled), each employee hears of the points credited to them (one message for
    the batch)."""
    if not event_ids:
        return
    awards = selectors.awards_to_tell(event_ids)
    with transaction.atomic():
        _tell_approvers([a for a in awards if a.status == AwardStatus.PENDING], now)
        if credited:
            _tell_employees([a for a in awards
                             if a.status == AwardStatus.CREDITED and a.points > 0])


def _tell_approvers(pending: list[AwardToTell], now: datetime | None) -> None:
    if not pending:
        return
    hour = timezone.localtime(now or timezone.now()).strftime("%Y-%m-%dT%H")
    by_user = selectors.approvers_of(pending)
    url = reverse("console:approvals")
    for user in User.objects.filter(pk__in=by_user).order_by("pk"):
        notify_tally(recipient=user, kind=notices.AWARDS_WAITING, count=len(by_user[user.pk]),
                     url=url, dedupe_key=f"earning:awards-waiting:{hour}")


def _tell_employees(credited: list[AwardToTell]) -> None:
    by_employee: dict[int, list[AwardToTell]] = {}
    for award in credited:
        if award.user_id:
            by_employee.setdefault(award.user_id, []).append(award)
    url = reverse("portal:points")
    messages = []
    for user_id, awards in by_employee.items():
        points = format_points(sum(a.points for a in awards))
        params: dict[str, object] = (
            {"variant": "one", "points": points, "rule": awards[0].rule_name}
            if len(awards) == 1 else {"variant": "many", "points": points, "count": len(awards)})
        messages.append(Message(recipient_id=user_id, params=params, url=url,
                                dedupe_key=f"earning:credited:{awards[0].pk}"))
    notify_bulk(kind=notices.AWARD_CREDITED, messages=messages)


def remind_approvers(*, now: datetime | None = None) -> int:
    """The daily reminder: each approver with awards waiting hears how many and how long
    the oldest has waited ("12 awards wait for your decision; the oldest has waited 9
    days"), once a day (also by mail). Returns how many were reminded."""
    now = now or timezone.now()
    today = timezone.localdate(now).isoformat()
    url = reverse("console:approvals")
    sent = 0
    for user in selectors.approver_users():
        waiting = selectors.approval_waiting(user)
        if not waiting["count"]:
            continue
        days = days_waited(waiting["oldest"], now)
        with transaction.atomic():
            note = notify(recipient=user, kind=notices.APPROVAL_REMINDER,
                          params={"count": waiting["count"], "days": days,
                                  "variant": "" if days else "today"},
                          url=url, dedupe_key=f"earning:approval-reminder:{today}")
        sent += note is not None
    return sent
