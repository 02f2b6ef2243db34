"""tests/earning/test_selectors.py mirrors jifen/earning/selectors.py: the reads the pages
and the API go through."""

from __future__ import annotations

import pytest

from jifen.earning import selectors, services
from jifen.earning.models import CompanyValue
from jifen.people.models import Employee, EmployeeStatus
from tests.earning.conftest import event, ingest
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db


def test_a_rules_history_counts_the_awards_each_version_scored(employee, make_rule, hr_admin):
    services.ensure_builtin_event_types()
    rule = make_rule(event_type="idea_adopted", formula={"kind": "fixed", "points": 5})
    ingest(event(employee, "idea_adopted"), event(employee, "idea_adopted"))
    rule = services.update_rule(rule=rule, actor=hr_admin.user, reason="more",
                                formula={"kind": "fixed", "points": 6})
    ingest(event(employee, "idea_adopted"))
    history = selectors.rule_history(rule)
    assert [(v.number, v.award_count) for v in history] == [(2, 1), (1, 2)]
    assert selectors.rule_versions(rule) == history


def test_who_manages_a_department_and_whom_one_may_thank():
    team = DepartmentFactory()
    manager, worker = EmployeeFactory(department=team), EmployeeFactory(department=team)
    gone = EmployeeFactory(department=team)
    Employee.objects.filter(pk=gone.pk).update(status=EmployeeStatus.LEFT)
    team.manager = manager
    team.save()
    assert selectors.manages_a_department(manager)
    assert not selectors.manages_a_department(worker)
    assert not selectors.manages_a_department(None)
    rows = selectors.budget_rows()
    assert [(r["department"], r["balance"]) for r in rows] == [(team, 0)]


def test_company_values_are_found_by_name_only_while_active():
    services.ensure_company_values()
    CompanyValue.objects.filter(name="诚信").update(active=False)
    assert selectors.company_value("团队合作").name == "团队合作"
    assert selectors.company_value("诚信") is None
    assert "诚信" not in selectors.company_value_names()
    assert "团队合作" in selectors.company_value_names()


def test_the_event_log_keeps_one_employees_events_by_number(employee, department):
    services.ensure_builtin_event_types()
    other = EmployeeFactory(department=department)
    ingest(event(employee, "daily_checkin"), event(other, "daily_checkin"))
    assert [e.employee_no for e in selectors.event_log(employee_no=other.employee_no)] == [
        other.employee_no]
    assert selectors.event_log().count() == 2
