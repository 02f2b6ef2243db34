"""Peer recognition: thanking a colleague with points from a monthly giving allowance."""

from __future__ import annotations

from collections.abc import Iterable
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

# The values a new site starts with, and their English names; admins edit them. (Migration
# 0002 reads the names.)
DEFAULT_COMPANY_VALUES = ("客户第一", "团队合作", "拥抱变化", "诚信", "激情", "敬业")
DEFAULT_COMPANY_VALUES_EN = {
    "客户第一": "Customer first", "团队合作": "Teamwork", "拥抱变化": "Embrace change",
    "诚信": "Integrity", "激情": "Passion", "敬业": "Dedication",
}
MAX_VALUES = 5
MAX_MENTIONS = 10


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
            [CompanyValue(name=n, name_en=DEFAULT_COMPANY_VALUES_EN[n], position=i)
             for i, n in enumerate(DEFAULT_COMPANY_VALUES)],
            ignore_conflicts=True)


def allowance_left(giver: Employee, now: datetime | None = None) -> int:
    """Points (whole) the giver may still give this month; unused points never roll over."""
    used = (Recognition.objects.filter(giver=giver, month=current_period(now))
            .aggregate(total=Sum("points"))["total"] or 0)
    return max(0, earning_settings().monthly_allowance - used // scale())


def _chosen_values(value: CompanyValue | None,
                   values: Iterable[CompanyValue] | None) -> list[CompanyValue]:
    chosen = list(dict.fromkeys([*([value] if value is not None else []), *(values or ())]))
    if len(chosen) > MAX_VALUES:
        raise errors.ValidationError(
            _("Choose at most %(n)s company values.") % {"n": MAX_VALUES},
            code=errors.ErrorCode.INVALID_VALUE, details={"max": MAX_VALUES})
    if not chosen:
        return []
    in_use = set(CompanyValue.objects.filter(pk__in=[t.pk for t in chosen], active=True)
                 .values_list("pk", flat=True))
    for tag in chosen:
        if tag.pk not in in_use:
            raise errors.ValidationError(
                _("%s is no longer one of the company values.") % tag.name,
                code=errors.ErrorCode.UNKNOWN_VALUE)
    return chosen


def mentioned_in(message: str, mentions: Iterable[Employee] | None,
                 giver: Employee) -> list[Employee]:
    """The colleagues of ``mentions`` whom the message still names as "@name" (a mention
    whose text was deleted is dropped), never the giver, at most ``MAX_MENTIONS``."""
    kept: dict[int, Employee] = {}
    for person in mentions or ():
        if person.pk != giver.pk and f"@{person.name}" in message:
            kept.setdefault(person.pk, person)
    if any(p.status != EmployeeStatus.ACTIVE for p in kept.values()):
        gone = next(p for p in kept.values() if p.status != EmployeeStatus.ACTIVE)
        raise errors.ValidationError(_("%s has left the company.") % gone.name,
                                     code=errors.ErrorCode.INACTIVE_EMPLOYEE)
    return list(kept.values())[:MAX_MENTIONS]


@transaction.atomic
def give_recognition(*, giver: Employee, recipient: Employee, points: int, message: str,
                     value: CompanyValue | None = None,
                     values: Iterable[CompanyValue] | None = None,
                     mentions: Iterable[Employee] | None = None,
                     now: datetime | None = None) -> Recognition:
    """Thank a colleague with points from this month's giving allowance, a message, company
    values as tags (``value`` and/or ``values``, at most ``MAX_VALUES``, all in use) and
    colleagues mentioned in the message (kept as references where the message says
    "@name"; see ``mentioned_in``). No self-giving; the allowance is checked under the
    giver's lock so two gifts at once cannot overdraw it. The recipient is notified."""
    check_whole_points(points, _("Points must be a positive whole number."))
    message = (message or "").strip()
    if not message:
        raise errors.ValidationError(_("Write a message to go with the thanks."),
                                     code=errors.ErrorCode.MESSAGE_REQUIRED)
    tags = _chosen_values(value, values)
    named = mentioned_in(message[:500], mentions, giver)
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
                                      message=message[:500],
                                      value=tags[0] if tags else None,
                                      month=current_period(now))
    if tags:
        gift.values.set(tags)
    if named:
        gift.mentions.set(named)
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


def _value_names(name: str, name_en: str) -> tuple[str, str]:
    name, name_en = (name or "").strip(), (name_en or "").strip()
    if not name:
        raise errors.ValidationError(_("A company value needs a name."),
                                     code=errors.ErrorCode.NAME_REQUIRED)
    if len(name) > 60 or len(name_en) > 60:
        raise errors.ValidationError(_("A company value's name is at most 60 characters."),
                                     code=errors.ErrorCode.INVALID_VALUE)
    return name, name_en


def _value_snapshot(value: CompanyValue) -> dict[str, object]:
    return {"name": value.name, "name_en": value.name_en, "active": value.active}


@transaction.atomic
def create_company_value(*, actor: Actor, name: str, name_en: str = "") -> CompanyValue:
    """Add a company value (listed last). A name in use is a 409 ``conflict``. Audited."""
    name, name_en = _value_names(name, name_en)
    if CompanyValue.objects.filter(name=name).exists():
        raise errors.Conflict(_("There is already a company value %s.") % name,
                              code=errors.ErrorCode.CONFLICT)
    last = CompanyValue.objects.order_by("-position").values_list("position", flat=True).first()
    created = CompanyValue.objects.create(name=name, name_en=name_en,
                                          position=(last or 0) + 1)
    record_audit(actor=actor, action="earning.value.create", obj=created, before=None,
                 after=_value_snapshot(created))
    return created


@transaction.atomic
def update_company_value(*, actor: Actor, value: CompanyValue, name: str | None = None,
                         name_en: str | None = None, active: bool | None = None,
                         ) -> CompanyValue:
    """Rename a company value or take it out of (or back into) use; thank-yous that carry
    it keep it. A name another value has is a 409 ``conflict``. Audited."""
    value = CompanyValue.objects.select_for_update().get(pk=value.pk)
    before = _value_snapshot(value)
    new_name, new_en = _value_names(value.name if name is None else name,
                                    value.name_en if name_en is None else name_en)
    if CompanyValue.objects.filter(name=new_name).exclude(pk=value.pk).exists():
        raise errors.Conflict(_("There is already a company value %s.") % new_name,
                              code=errors.ErrorCode.CONFLICT)
    value.name, value.name_en = new_name, new_en
    if active is not None:
        value.active = active
    value.save()
    if before != _value_snapshot(value):
        record_audit(actor=actor, action="earning.value.update", obj=value, before=before,
                     after=_value_snapshot(value))
    return value
