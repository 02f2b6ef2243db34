from __future__ import annotations

import pytest
from django.urls import reverse

from jifen.core.roles import Role
from jifen.earning import services
from jifen.earning.models import Award, Rule, RuleFeedback
from jifen.ledger.selectors import balance
from tests.conftest import login_client
from tests.earning.conftest import event, ingest
from tests.factories import DepartmentFactory, EmployeeFactory

CONSOLE_PAGES = ["console:rules", "console:rule_create", "console:event_types",
                 "console:event_log", "console:approvals", "console:penalty_shortfalls",
                 "console:rule_feedback", "console:budgets", "console:earning_import:start"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", CONSOLE_PAGES)
def test_hr_opens_every_earning_console_page(hr_admin, make_rule, name):
    make_rule(event_type="idea_adopted", formula={"kind": "fixed", "points": 20})
    response = login_client(hr_admin.user).get(reverse(name))
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["console:rules", "console:event_log", "console:budgets"])
def test_plain_employee_and_manager_cannot_open_rule_admin_pages(employee, make_role_employee,
                                                                 name):
    assert login_client(employee.user).get(reverse(name)).status_code == 403
    manager = make_role_employee(Role.MANAGER)
    assert login_client(manager.user).get(reverse(name)).status_code == 403


@pytest.mark.django_db
def test_how_to_earn_lists_active_rules_in_plain_words(employee, make_rule):
    make_rule(name="Late", event_type="attendance_late", category="attendance",
              formula={"kind": "fixed", "points": -5})
    make_rule(name="Check-in", event_type="daily_checkin", category="engagement",
              formula={"kind": "fixed", "points": 1}, caps={"day": 1})
    make_rule(name="Retired", event_type="idea_adopted", active=False,
              formula={"kind": "fixed", "points": 5})
    page = login_client(employee.user).get(reverse("portal:earn")).content.decode()
    assert "Late" in page and "-5" in page
    assert "Check-in" in page and "+1" in page
    assert "Retired" not in page


@pytest.mark.django_db
def test_admin_edits_a_rule_and_the_history_shows_the_diff(hr_admin, make_rule):
    rule = make_rule(name="Idea", event_type="idea_adopted",
                     formula={"kind": "fixed", "points": 20})
    client = login_client(hr_admin.user)
    form = {"name": "Idea", "event_type": "idea_adopted", "category": "performance",
            "formula_kind": "fixed", "points": "25", "approver_role": "manager",
            "active": "on", "reason": "ideas matter more"}
    response = client.post(reverse("console:rule_edit", args=[rule.pk]), form)
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.version == 2
    history = client.get(reverse("console:rule_history", args=[rule.pk])).content.decode()
    assert "ideas matter more" in history and "25" in history and "v2" in history


@pytest.mark.django_db
def test_editor_preview_shows_points_and_why_without_saving(hr_admin, employee):
    client = login_client(hr_admin.user)
    form = {"name": "Training", "event_type": "training_completed", "category": "learning",
            "formula_kind": "per_unit", "points": "15", "field": "days",
            "approver_role": "manager", "active": "on", "preview": "1",
            "sample_employee_no": employee.employee_no, "sample_payload": '{"days": 2}'}
    response = client.post(reverse("console:rule_create"), form, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "30" in response.content.decode()
    assert not Rule.objects.exists()


@pytest.mark.django_db
def test_editor_shows_a_bad_condition_with_its_position(hr_admin):
    form = {"name": "X", "event_type": "idea_adopted", "category": "performance",
            "formula_kind": "fixed", "points": "5", "approver_role": "manager",
            "condition": "payload.title ==", "active": "on"}
    response = login_client(hr_admin.user).post(reverse("console:rule_create"), form)
    assert response.status_code == 422
    assert "1" in response.content.decode() and not Rule.objects.exists()


@pytest.mark.django_db
def test_manager_approves_on_the_queue_page_and_the_employee_sees_the_points(make_rule,
                                                                            verify_clean):
    team = DepartmentFactory(code="OPS")
    manager = EmployeeFactory(department=team, roles=[Role.MANAGER])
    team.manager = manager
    team.save()
    worker = EmployeeFactory(department=team)
    make_rule(name="Helping", event_type="helped_colleague", category="teamwork",
              formula={"kind": "range", "min": 30, "max": 80})
    ingest(event(worker, "helped_colleague", {"other_department": True}))
    award = Award.objects.get()
    client = login_client(manager.user)
    assert worker.name in client.get(reverse("console:approvals")).content.decode()
    client.post(reverse("console:approval_decide", args=[award.pk]),
                {"decision": "approve", "points": "50"})
    assert balance(employee=worker).spendable == 50
    page = login_client(worker.user).get(reverse("portal:earn")).content.decode()
    assert "Helping" in page and "+50" in page
    verify_clean()


@pytest.mark.django_db
def test_employee_sends_feedback_and_admin_answers(employee, hr_admin, make_rule):
    rule = make_rule(name="Late", event_type="attendance_late", category="attendance",
                     formula={"kind": "fixed", "points": -5})
    login_client(employee.user).post(reverse("portal:earn_feedback", args=[rule.pk]),
                                     {"message": "Trains are late too"})
    item = RuleFeedback.objects.get()
    login_client(hr_admin.user).post(reverse("console:rule_feedback_answer", args=[item.pk]),
                                     {"answer": "We will add an exception", "status": "planned"})
    item.refresh_from_db()
    assert (item.status, item.answer) == ("planned", "We will add an exception")
    page = login_client(employee.user).get(reverse("portal:earn")).content.decode()
    assert "We will add an exception" in page


@pytest.mark.django_db
def test_recognition_page_gives_thanks_and_shows_the_feed(employee, department, verify_clean):
    colleague = EmployeeFactory(department=department, name="李娜")
    client = login_client(employee.user)
    response = client.post(reverse("portal:recognition"), {
        "recipient": colleague.employee_no, "points": "30", "message": "谢谢帮忙"})
    assert response.status_code == 302
    feed = client.get(reverse("portal:recognition")).content.decode()
    assert "谢谢帮忙" in feed and "李娜" in feed
    assert services.allowance_left(employee) == 70
    verify_clean()
