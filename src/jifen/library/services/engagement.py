"""Engagement writers: the daily check-in and its make-up cards, and the engagement
settings. Comments, ratings and moderation are in ``engagement_comments``, share links in
``engagement_shares``.

Points are never posted here: each act is reported to earning as a fact
(``jifen.core.intake.report_facts``) and HR's rules decide what it earns, caps included. A
fact's id encodes what must not count twice ("checkin:<employee>:<day>"), so a replay
credits nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.db import locked_singleton
from jifen.core.intake import Fact, FactResult, report_facts
from jifen.core.services import record_audit, snapshot
from jifen.library.models import CheckIn, EngagementSettings, MakeUpUse

SOURCE = "library"
# Orders of the make-up card item that have been paid for (points captured).
PAID_ORDER_STATUSES = ("approved", "shipped", "delivered", "fulfilled", "completed")
SETTINGS_FIELDS = ("makeup_cards_enabled", "makeup_item_id", "makeup_window_days",
                   "comment_min_length", "sensitive_words")
MAX_SENSITIVE_WORDS = 500


def company_zone() -> ZoneInfo:
    """The company's time zone (settings.TIME_ZONE): it decides which day a check-in is."""
    return ZoneInfo(settings.TIME_ZONE)


def company_day(moment: datetime) -> date:
    return moment.astimezone(company_zone()).date()


def current_settings() -> EngagementSettings:
    """The settings row, or unsaved defaults until HR first saves them."""
    return EngagementSettings.objects.order_by("pk").first() or EngagementSettings()


def _require_active(employee: Any) -> None:
    if getattr(employee, "status", "active") != "active":
        raise errors.Conflict(_("Only active employees can do this."),
                              code=errors.ErrorCode.INACTIVE_EMPLOYEE)


def _lock_employee(employee: Any) -> None:
    type(employee)._default_manager.select_for_update().filter(pk=employee.pk).first()


@dataclass(frozen=True)
class CheckInResult:
    check_in: CheckIn
    created: bool  # False: the employee had already checked in that day
    earned: int  # points the rules gave (0 on a repeat, a cap or no rule)


def checkin_fact(check_in: CheckIn, employee_no: str) -> Fact:
    return Fact(source=SOURCE, id=f"checkin:{check_in.employee_id}:{check_in.day.isoformat()}",
                type="daily_checkin", employee_no=employee_no,
                occurred_at=check_in.created_at, payload={"streak": check_in.streak})


def _streak_before(employee: Any, day: date) -> int:
    previous = (CheckIn.objects.filter(employee=employee, day=day - timedelta(days=1))
                .values_list("streak", flat=True).first())
    return (previous or 0) + 1


@transaction.atomic
def check_in(*, employee: Any, now: datetime | None = None) -> CheckInResult:
    """Check ``employee`` in for today in the company's time zone — once a day: a second
    tap (or a concurrent double tap) answers with the first check-in and earns nothing.
    The streak continues yesterday's (across month and year ends) or starts at 1; the
    fact reported carries ``{"streak": n}`` so a rule can pay a bonus on day 7 or 30."""
    _require_active(employee)
    now = now or timezone.now()
    day = company_day(now)
    existing = CheckIn.objects.filter(employee=employee, day=day).first()
    if existing is not None:
        return CheckInResult(existing, created=False, earned=0)
    # Taps of one employee queue on the employee's row: on InnoDB, racing inserts of the
    # same unique key each hold a shared lock on the employee (the foreign key check) that
    # the winner's crediting would then wait for — a deadlock. In line, the second tap
    # finds the first one's row.
    _lock_employee(employee)
    existing = CheckIn.objects.filter(employee=employee, day=day).first()
    if existing is not None:
        return CheckInResult(existing, created=False, earned=0)
    row = CheckIn(employee=employee, day=day, streak=_streak_before(employee, day),
                  created_at=now)
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:  # the other tap of a double tap won
        return CheckInResult(CheckIn.objects.get(employee=employee, day=day), created=False,
                             earned=0)
    results = report_facts([checkin_fact(row, employee.employee_no)], actor=None,
                           received_by="library")
    return CheckInResult(row, created=True, earned=_earned(results))


def _earned(results: list[FactResult]) -> int:
    return sum(r.points for r in results if r.status == "credited")


def makeup_cards_owned(employee: Any, item_id: int | None) -> int:
    """Make-up cards bought: units of paid orders of the card item (read through the
    model name, the library may not import the mall)."""
    if not item_id:
        return 0
    try:
        order_model = apps.get_model("mall", "Order")
    except LookupError:
        return 0
    rows = order_model.objects.filter(employee=employee, item_id=item_id,
                                      status__in=PAID_ORDER_STATUSES)
    return sum(rows.values_list("quantity", flat=True))


def makeup_cards_left(employee: Any, config: EngagementSettings | None = None) -> int:
    config = config or current_settings()
    if not config.makeup_cards_enabled:
        return 0
    return max(0, makeup_cards_owned(employee, config.makeup_item_id)
               - MakeUpUse.objects.filter(employee=employee).count())


def _restreak_from(employee: Any, day: date) -> None:
    """Recompute the streaks of the run of days that starts at ``day``."""
    rows = {c.day: c for c in CheckIn.objects.filter(employee=employee, day__gte=day)
            .order_by("day")}
    streak = _streak_before(employee, day) - 1
    current = day
    while current in rows:
        streak += 1
        row = rows[current]
        if row.streak != streak:
            row.streak = streak
            row.save(update_fields=["streak"])
        current += timedelta(days=1)


@transaction.atomic
def make_up_day(*, employee: Any, day: date, now: datetime | None = None) -> CheckIn:
    """Spend one make-up card on a missed ``day`` (before today, within the settings'
    window): the day counts as checked in and the streak across it is whole again. The
    made-up day itself earns nothing — it only mends the streak. Refused when make-up
    cards are off, the day is out of range or already checked in, or no card is left."""
    _require_active(employee)
    now = now or timezone.now()
    config = current_settings()
    if not config.makeup_cards_enabled or not config.makeup_item_id:
        raise errors.Conflict(_("Make-up cards are not in use."),
                              code=errors.ErrorCode.NOT_AVAILABLE)
    today = company_day(now)
    if not (today - timedelta(days=config.makeup_window_days) <= day < today):
        raise errors.ValidationError(
            _("Only one of the last %(n)d days can be made up.") % {
                "n": config.makeup_window_days},
            code=errors.ErrorCode.OUT_OF_RANGE, details={"day": day.isoformat()})
    # One card, one day: the employee's row is the lock that serialises spending cards.
    _lock_employee(employee)
    if CheckIn.objects.filter(employee=employee, day=day).exists():
        raise errors.Conflict(_("That day is already checked in."),
                              code=errors.ErrorCode.ALREADY_CHECKED_IN)
    if makeup_cards_left(employee, config) < 1:
        raise errors.Conflict(_("You have no make-up card left. Make-up cards are in the "
                                "mall."), code=errors.ErrorCode.NO_MAKEUP_CARD)
    row = CheckIn.objects.create(employee=employee, day=day, made_up=True, created_at=now,
                                 streak=_streak_before(employee, day))
    MakeUpUse.objects.create(employee=employee, check_in=row)
    _restreak_from(employee, day + timedelta(days=1))
    return row


@transaction.atomic
def update_engagement_settings(*, actor: Actor, **changes: Any) -> EngagementSettings:
    """Change the engagement settings (audited)."""
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise errors.ValidationError(_("Unknown settings: %s") % ", ".join(sorted(unknown)))
    current = locked_singleton(EngagementSettings)
    before = snapshot(current, SETTINGS_FIELDS)
    for name, value in changes.items():
        setattr(current, name, value)
    if "sensitive_words" in changes:
        words = list(dict.fromkeys(current.word_list))
        if len(words) > MAX_SENSITIVE_WORDS or any(len(w) > 50 for w in words):
            raise errors.ValidationError(
                _("At most %d sensitive words of up to 50 characters each.")
                % MAX_SENSITIVE_WORDS, code=errors.ErrorCode.INVALID_VALUE)
        current.sensitive_words = "\n".join(words)
    if current.makeup_cards_enabled and not current.makeup_item_id:
        raise errors.ValidationError(_("Choose the mall item that is the make-up card."),
                                     code=errors.ErrorCode.INVALID_VALUE,
                                     details={"fields": {"makeup_item_id": ["required"]}})
    if current.makeup_item_id:
        try:
            found = apps.get_model("mall", "Item").objects.filter(
                pk=current.makeup_item_id).exists()
        except LookupError:
            found = False
        if not found:
            raise errors.ValidationError(_("No mall item has id %s.") % current.makeup_item_id,
                                         code=errors.ErrorCode.UNKNOWN_VALUE,
                                         details={"fields": {"makeup_item_id": ["unknown"]}})
    try:
        current.full_clean()
    except DjangoValidationError as exc:
        raise errors.ValidationError(_("Please correct the settings."),
                                     details={"fields": exc.message_dict}) from exc
    current.save()
    record_audit(actor=actor, action="library.settings.update", obj=current, before=before,
                 after=snapshot(current, SETTINGS_FIELDS))
    return current
