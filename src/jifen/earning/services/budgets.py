"""Department budgets and the manager awards paid from them."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor, actor_user
from jifen.earning import notices
from jifen.earning.models import BudgetAllocation, ManagerAward
from jifen.earning.services.common import (
    check_whole_points,
    current_period,
    notify_employee,
    scale,
)
from jifen.ledger import services as ledger
from jifen.ledger.models import Category
from jifen.people.models import Department, Employee


@transaction.atomic
def fund_department_budget(*, department: Department, points: int, actor: Actor,
                           category: str = Category.PERFORMANCE, period: str = "",
                           reason: str = "", idempotency_key: str = "") -> BudgetAllocation:
    """Add ``points`` to a department's budget for ``period`` (default this month) through
    the ledger; its manager awards from it. Audited by the ledger."""
    check_whole_points(points, _("The budget must be a positive whole number."))
    period = period or current_period()
    key = idempotency_key or f"earning:budget:{department.pk}:{uuid.uuid4().hex}"
    txn = ledger.fund_budget(department=department, amount=points * scale(), category=category,
                             idempotency_key=key, actor=actor,
                             reason=reason)
    found = BudgetAllocation.objects.filter(transaction=txn).first()
    if found is not None:
        return found
    return BudgetAllocation.objects.create(department=department, period=period,
                                           category=category, amount=txn.amount,
                                           transaction=txn, created_by=actor_user(actor))


def _awarding_department(manager: Employee, recipient: Employee) -> Department | None:
    """The department the manager manages that holds the recipient, nearest first."""
    managed = list(Department.objects.filter(manager=manager))
    path = recipient.department.path
    holding = [d for d in managed if path.startswith(d.path)]
    return max(holding, key=lambda d: len(d.path)) if holding else None


@transaction.atomic
def award_from_budget(*, manager: Employee, recipient: Employee, points: int, message: str,
                      category: str = Category.PERFORMANCE, actor: Actor = None,
                      idempotency_key: str = "") -> ManagerAward:
    """A manager awards ``points`` to someone in a department they manage, from that
    department's budget. An exhausted budget is a 409 ``insufficient_budget`` saying what
    is left; nothing is written then. The recipient is notified."""
    check_whole_points(points, _("Points must be a positive whole number."))
    message = (message or "").strip()
    if not message:
        raise errors.ValidationError(_("Say what the award is for."),
                                     code=errors.ErrorCode.MESSAGE_REQUIRED)
    if category not in Category.values:
        raise errors.ValidationError(_("Unknown category %s.") % category,
                                     code=errors.ErrorCode.UNKNOWN_CATEGORY)
    if manager.pk == recipient.pk:
        raise errors.ValidationError(_("Managers cannot award themselves."),
                                     code=errors.ErrorCode.SELF_AWARD)
    department = _awarding_department(manager, recipient)
    if department is None:
        raise errors.PermissionDenied(
            _("%s is not in a department you manage.") % recipient.name,
            code=errors.ErrorCode.NOT_YOUR_TEAM)
    award = ManagerAward.objects.create(department=department, manager=manager,
                                        recipient=recipient, category=category,
                                        points=points * scale(), message=message[:500])
    award.transaction = ledger.credit(
        employee=recipient, amount=points * scale(), category=category,
        idempotency_key=idempotency_key or f"earning:manager_award:{award.pk}",
        cause=("earning.manageraward", award.pk), reason=message[:200],
        actor=actor or manager.user, budget=department)
    award.save(update_fields=["transaction"])
    notify_employee(recipient, kind=notices.MANAGER_AWARD,
                    params={"name": manager.name, "points": points, "message": message},
                    dedupe_key=f"earning:manager_award:{award.pk}")
    return award
