"""Who may take part in an activity: the same words and arithmetic as the mall's items
(departments include their sub-departments, grades, tenure), plus a minimum balance."""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.activities.models import Activity
from jifen.ledger.amounts import format_points
from jifen.people.models import Employee
from jifen.people.selectors import audience_problem


def eligibility_problem(activity: Activity, employee: Employee, *, spendable: int | None = None,
                        on: date | None = None) -> str:
    """Why ``employee`` may not take part ("" when they may). ``spendable`` is their
    spendable balance, needed only when the activity asks for a minimum balance."""
    departments = list(activity.eligible_departments.all())  # type: ignore[attr-defined]
    if problem := audience_problem(employee, departments, activity.grade_list):
        return problem
    if activity.min_tenure_days and employee.hire_date:
        served = ((on or timezone.localdate()) - employee.hire_date).days
        if served < activity.min_tenure_days:
            return _("Only for employees with at least %(days)s days of service.") % {
                "days": activity.min_tenure_days}
    elif activity.min_tenure_days:
        return _("Only for employees with at least %(days)s days of service.") % {
            "days": activity.min_tenure_days}
    if activity.min_balance and spendable is not None and spendable < activity.min_balance:
        return _("Only for employees with at least %(points)s points to spend.") % {
            "points": format_points(activity.min_balance)}
    return ""
