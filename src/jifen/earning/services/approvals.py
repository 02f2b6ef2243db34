"""Approvals: a manager or HR settles an award that waits for a decision."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor, actor_user
from jifen.core.roles import Cap, user_can
from jifen.core.services import record_audit
from jifen.earning import notices, sql
from jifen.earning.models import ApproverRole, Award, AwardStatus
from jifen.earning.services.common import notify_employee, scale
from jifen.earning.services.scoring import cap_room, post_award, settle_event
from jifen.people.models import EmployeeStatus
from jifen.people.selectors import managed_department_paths


def can_decide(user: Any, award: Award) -> bool:
    """HR (and anyone who sees everyone) decides any award; a manager decides the awards
    of their own subtree that wait for a manager. Nobody decides their own."""
    if not user_can(user, Cap.APPROVE_AWARDS):
        return False
    if getattr(award.employee, "user_id", None) == getattr(user, "pk", None):
        return False
    if user_can(user, Cap.VIEW_ALL_PEOPLE):
        return True
    if award.approver_role != ApproverRole.MANAGER:
        return False
    path = award.employee.department.path
    return any(path.startswith(p) for p in managed_department_paths(user))


def _pending_award(award: Award, actor: Actor) -> Award:
    sql.lock_employees(award.employee_id)
    # Lock the award row alone (PostgreSQL refuses FOR UPDATE across the nullable join to
    # the user), then read it with what deciding needs.
    list(Award.objects.select_for_update().filter(pk=award.pk).values_list("pk"))
    award = (Award.objects.select_related("employee__department", "employee__user", "rule",
                                          "event").get(pk=award.pk))
    if award.status != AwardStatus.PENDING:
        raise errors.Conflict(_("This award has already been decided."),
                              code=errors.ErrorCode.ALREADY_DECIDED)
    if not can_decide(actor, award):
        raise errors.PermissionDenied(_("You may not decide this award."),
                                      code=errors.ErrorCode.FORBIDDEN)
    return award


@transaction.atomic
def approve_award(*, award: Award, actor: Actor, points: int, reason: str = "") -> Award:
    """Settle a pending award at ``points`` (whole points, inside its range) and credit
    them, within the rule's caps (409 ``cap_reached`` names what is left). The employee is
    notified. Audited."""
    award = _pending_award(award, actor)
    if award.employee.status != EmployeeStatus.ACTIVE:
        raise errors.Conflict(
            _("%s has left the company; this award can only be rejected.") % award.employee.name,
            code=errors.ErrorCode.INACTIVE_EMPLOYEE)
    if isinstance(points, bool) or not isinstance(points, int):
        raise errors.ValidationError(_("Points must be a whole number."),
                                     code=errors.ErrorCode.INVALID_AMOUNT)
    units = points * scale()
    if not (award.min_points or 0) <= units <= (award.max_points or 0):
        raise errors.ValidationError(
            _("Choose points between %(min)s and %(max)s.")
            % {"min": (award.min_points or 0) // scale(),
               "max": (award.max_points or 0) // scale()},
            code=errors.ErrorCode.OUT_OF_RANGE)
    rule = award.rule
    if rule.caps and units > 0:
        room = cap_room(rule, award.employee_id, award.occurred_at)
        if room is not None and units > room:
            raise errors.Conflict(_("The rule's cap leaves only %s points.") % (room // scale()),
                                  code=errors.ErrorCode.CAP_REACHED,
                                  details={"remaining": room // scale()})
    post_award(award, rule, award.employee, units, actor=actor, now=None)
    award.decided_by, award.decided_at = actor_user(actor), timezone.now()
    award.decision_reason = (reason or "")[:500]
    award.save()
    settle_event(award.event)
    award.event.save()
    record_audit(actor=actor, action="earning.award.approve", obj=award,
                 before={"status": AwardStatus.PENDING},
                 after={"status": award.status, "points": award.points})
    notify_employee(award.employee, kind=notices.AWARD_APPROVED,
                    params={"points": points, "rule": rule.name, "reason": reason or ""},
                    dedupe_key=f"earning:award:{award.pk}:decided")
    return award


@transaction.atomic
def reject_award(*, award: Award, actor: Actor, reason: str) -> Award:
    """Refuse a pending award with a reason; nothing is credited; the employee is
    notified. Audited."""
    reason = (reason or "").strip()
    if not reason:
        raise errors.ValidationError(_("Give a reason for the rejection."),
                                     code=errors.ErrorCode.REASON_REQUIRED)
    award = _pending_award(award, actor)
    award.status = AwardStatus.REJECTED
    award.decided_by, award.decided_at = actor_user(actor), timezone.now()
    award.decision_reason = reason[:500]
    award.save()
    settle_event(award.event)
    award.event.save()
    record_audit(actor=actor, action="earning.award.reject", obj=award,
                 before={"status": AwardStatus.PENDING},
                 after={"status": award.status, "reason": reason})
    notify_employee(award.employee, kind=notices.AWARD_REJECTED,
                    params={"rule": award.rule.name, "reason": reason},
                    dedupe_key=f"earning:award:{award.pk}:decided")
    return award
