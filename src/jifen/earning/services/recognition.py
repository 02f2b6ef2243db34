"""Peer recognition: thanking a colleague with points from a monthly giving allowance."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.services import record_audit
from jifen.earning import notices, sql
from jifen.earning.models import CompanyValue, EarningSettings, Recognition
from jifen.earning.services.common import (
    check_whole_points,
    current_period,
    notify_employee,
    scale,
)
from jifen.ledger import services as ledger
from jifen.people.models import Employee, EmployeeStatus

DEFAULT_COMPANY_VALUES = ("客户第一", "团队合作", "拥抱变化", "诚信", "激情", "敬业")


def earning_settings() -> EarningSettings:
    found = EarningSettings.objects.first()
    return found if found is not None else EarningSettings.objects.create()


@transaction.atomic
def update_earning_settings(*, actor: Actor, monthly_allowance: int) -> EarningSettings:
    """Change the monthly giving allowance (applies from now on). Audited."""
    if isinstance(monthly_allowance, bool) or not isinstance(monthly_allowance, int) or (
            monthly_allowance < 0):
        raise errors.ValidationError(_("The allowance must be a whole number ≥ 0."),
                                     code=errors.ErrorCode.INVALID_AMOUNT)
    current = earning_settings()
    before = {"monthly_allowance": current.monthly_allowance}
    current.monthly_allowance = monthly_allowance
    current.save()
    record_audit(actor=actor, action="earning.settings.update", obj=current, before=before,
                 after={"monthly_allowance": monthly_allowance})
    return current


@transaction.atomic
def ensure_company_values() -> None:
    if not CompanyValue.objects.exists():
        CompanyValue.objects.bulk_create(
            [CompanyValue(name=n, position=i) for i, n in enumerate(DEFAULT_COMPANY_VALUES)],
            ignore_conflicts=True)


def allowance_left(giver: Employee, now: datetime | None = None) -> int:
    """Points (whole) the giver may still give this month; unused points never roll over."""
    used = (Recognition.objects.filter(giver=giver, month=current_period(now))
            .aggregate(total=Sum("points"))["total"] or 0)
    return max(0, earning_settings().monthly_allowance - used // scale())


@transaction.atomic
def give_recognition(*, giver: Employee, recipient: Employee, points: int, message: str,
                     value: CompanyValue | None = None, now: datetime | None = None,
                     ) -> Recognition:
    """Thank a colleague with points from this month's giving allowance, a message and a
    company value. No self-giving; the allowance is checked under the giver's lock so two
    gifts at once cannot overdraw it. The recipient is notified."""
    check_whole_points(points, _("Points must be a positive whole number."))
    message = (message or "").strip()
    if not message:
        raise errors.ValidationError(_("Write a message to go with the thanks."),
                                     code=errors.ErrorCode.MESSAGE_REQUIRED)
    if giver.pk == recipient.pk:
        raise errors.ValidationError(_("You cannot give points to yourself."),
                                     code=errors.ErrorCode.SELF_GIVING)
    if recipient.status != EmployeeStatus.ACTIVE:
        raise errors.ValidationError(_("%s has left the company.") % recipient.name,
                                     code=errors.ErrorCode.INACTIVE_EMPLOYEE)
    # Both: the gift row's foreign keys would otherwise take shared locks on MySQL that a
    # gift the other way round wants to upgrade.
    sql.lock_employees(giver.pk, recipient.pk)
    left = allowance_left(giver, now)
    if points > left:
        raise errors.Conflict(
            _("You have %(left)s points left to give this month.") % {"left": left},
            code=errors.ErrorCode.ALLOWANCE_EXCEEDED, details={"left": left})
    settings = earning_settings()
    gift = Recognition.objects.create(giver=giver, recipient=recipient, points=points * scale(),
                                      message=message[:500], value=value,
                                      month=current_period(now))
    gift.transaction = ledger.credit(
        employee=recipient, amount=points * scale(), category=settings.recognition_category,
        idempotency_key=f"earning:recognition:{gift.pk}",
        cause=("earning.recognition", gift.pk), reason=message[:200], actor=giver.user,
        now=now)
    gift.save(update_fields=["transaction"])
    notify_employee(recipient, kind=notices.RECOGNITION,
                    params={"name": giver.name, "points": points, "message": message},
                    dedupe_key=f"earning:recognition:{gift.pk}")
    return gift
