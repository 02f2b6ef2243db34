"""People told about awards: approvers of new work and by a daily reminder with its age,
employees of points credited; HR adjustments told to the employee."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from jifen.core.roles import Role
from jifen.earning import services
from jifen.earning.models import Award
from jifen.earning.services.award_notices import remind_approvers
from jifen.ledger import services as ledger
from jifen.notifications.models import Notification
from tests.earning.conftest import event, ingest, ops_team
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db


def notes(user, kind):
    return list(Notification.objects.filter(recipient=user, kind=kind))


@pytest.fixture
def team(make_rule):
    manager, worker, hr = ops_team()
    make_rule(name="互助", event_type="helped_colleague", category="teamwork",
              formula={"kind": "range", "min": 10, "max": 50})
    return manager, worker, hr


def test_the_manager_is_told_once_of_a_batch_of_awards_waiting_and_hr_is_not(team):
    manager, worker, hr = team
    results = ingest(*[event(worker, "helped_colleague") for _ in range(30)])
    assert {r.status for r in results} == {"pending_approval"}

    [note] = notes(manager.user, "earning.awards_waiting")
    assert note.params["count"] == 30 and note.url == "/console/rules/approvals/"
    with translation.override("en"):
        assert note.title == "30 new awards wait for your decision"
    assert notes(hr.user, "earning.awards_waiting") == []
    assert notes(worker.user, "earning.awards_waiting") == []


def test_a_later_batch_in_the_same_hour_counts_up_the_same_message(team):
    manager, worker, _hr = team
    ingest(event(worker, "helped_colleague"))
    Notification.objects.filter(recipient=manager.user).update(read_at=timezone.now())
    ingest(event(worker, "helped_colleague"), event(worker, "helped_colleague"))
    [note] = notes(manager.user, "earning.awards_waiting")
    assert note.params["count"] == 3 and note.read_at is None


def test_a_managers_own_award_goes_to_the_manager_above_or_else_to_hr(team):
    manager, _worker, hr = team
    ingest(event(manager, "helped_colleague"))
    assert notes(manager.user, "earning.awards_waiting") == []
    [note] = notes(hr.user, "earning.awards_waiting")
    assert note.params["count"] == 1


def test_an_award_waiting_for_hr_goes_to_hr_not_the_manager(team, make_rule):
    manager, worker, hr = team
    make_rule(name="创意", event_type="idea_adopted", category="culture",
              formula={"kind": "fixed", "points": 20}, requires_approval=True,
              approver_role="hr")
    ingest(event(worker, "idea_adopted"))
    assert notes(manager.user, "earning.awards_waiting") == []
    assert len(notes(hr.user, "earning.awards_waiting")) == 1


def test_a_sub_department_without_a_manager_reaches_the_manager_above(team):
    manager, _worker, _hr = team
    sub = DepartmentFactory(code="OPS-1", name="运营一组", parent=manager.department)
    member = EmployeeFactory(department=sub, employee_no="E101", name="钱多多")
    ingest(event(member, "helped_colleague"))
    assert notes(manager.user, "earning.awards_waiting")[0].params["count"] == 1


def test_employees_hear_of_points_credited_once_per_batch(employee, make_rule, verify_clean):
    make_rule(name="培训", event_type="training_completed", category="learning",
              formula={"kind": "per_unit", "field": "hours", "points": 3})
    ingest(event(employee, "training_completed", {"hours": 2}))
    ingest(event(employee, "training_completed", {"hours": 1}),
           event(employee, "training_completed", {"hours": 4}))
    one, many = sorted(notes(employee.user, "earning.award_credited"), key=lambda n: n.pk)
    with translation.override("en"):
        assert one.title == "You earned 6 points: 培训"
        assert many.title == "You earned 15 points for 2 awards"
    with translation.override("zh-hans"):
        assert one.title == "你获得了 6 积分：培训"
    verify_clean()


def test_history_back_filled_is_not_news(employee, make_rule):
    make_rule(name="培训", event_type="training_completed", category="learning",
              formula={"kind": "fixed", "points": 3})
    services.ingest_events(events=[event(employee, "training_completed")], backdate=True)
    assert notes(employee.user, "earning.award_credited") == []


def test_telling_about_a_large_batch_costs_little(employee, make_rule, monkeypatch):
    """1,000 events for 200 people: 200 messages, bulk-inserted, a small part of the
    batch's time (measured: about 3% on SQLite)."""
    from jifen.earning.services import award_notices, intake

    make_rule(name="签到", event_type="daily_checkin", category="engagement",
              formula={"kind": "fixed", "points": 1})
    people = [employee, *(EmployeeFactory(department=employee.department)
                          for _ in range(199))]
    batch = [event(people[n % 200], "daily_checkin", when=f"2026-03-{1 + n // 200:02d}T09:00")
             for n in range(1000)]
    spent = {}

    def timed(*args, **kwargs):
        started = time.perf_counter()
        award_notices.tell_about_awards(*args, **kwargs)
        spent["tell"] = time.perf_counter() - started

    monkeypatch.setattr(intake, "tell_about_awards", timed)
    started = time.perf_counter()
    results = ingest(*batch)
    total = time.perf_counter() - started
    assert {r.status for r in results} == {"credited"}
    assert Notification.objects.filter(kind="earning.award_credited").count() == 200
    assert spent["tell"] < max(0.5, total * 0.25), (spent, total)


class TestDailyReminder:
    def test_approvers_hear_how_many_wait_and_the_oldests_age_once_a_day(self, team):
        manager, worker, hr = team
        ingest(*[event(worker, "helped_colleague") for _ in range(3)])
        nine_days_ago = timezone.now() - timedelta(days=9)
        Award.objects.filter(pk=Award.objects.order_by("pk").first().pk).update(
            created_at=nine_days_ago)
        now = timezone.now()

        reminded = remind_approvers(now=now)
        # The manager, and both HR admins (HR may decide any award).
        assert reminded == 3
        assert len(notes(hr.user, "earning.approval_reminder")) == 1
        [note] = notes(manager.user, "earning.approval_reminder")
        assert (note.params["count"], note.params["days"]) == (3, 9)
        with translation.override("en"):
            assert note.title == "3 awards wait for your decision"
            assert note.body == "The oldest has waited 9 days."
        with translation.override("zh-hans"):
            assert note.body == "最早的一项已等待 9 天。"
        assert remind_approvers(now=now) == 0  # once a day
        assert remind_approvers(now=now + timedelta(days=1)) == 3
        assert notes(worker.user, "earning.approval_reminder") == []

    def test_nobody_is_reminded_when_nothing_waits(self, team):
        assert remind_approvers() == 0
        assert not Notification.objects.filter(kind="earning.approval_reminder").exists()

    def test_the_reminder_goes_out_by_mail_once(self, team, smtp, settings,
                                                django_capture_on_commit_callbacks):
        settings.JIFEN_MAIL_ENABLED = True
        manager, worker, _hr = team
        manager.user.email = "wang@example.com"
        manager.user.save()
        ingest(event(worker, "helped_colleague"))
        with django_capture_on_commit_callbacks(execute=True):
            remind_approvers()
        with django_capture_on_commit_callbacks(execute=True):
            remind_approvers()
        mails = [m for m in smtp.messages if m["To"] == "wang@example.com"]
        assert len(mails) == 1
        assert "1 项奖励待你审批" in mails[0]["Subject"]  # the site's language


class TestAdjustments:
    def test_the_employee_hears_of_an_adjustment_with_amount_and_reason(self, employee,
                                                                       hr_admin):
        with translation.override("zh-hans"):
            ledger.adjust(employee=employee, amount=30, reason="补发三月加班积分",
                          actor=hr_admin.user, idempotency_key="adj-1")
            ledger.adjust(employee=employee, amount=-10, reason="重复发放",
                          actor=hr_admin.user, idempotency_key="adj-2")
            ledger.adjust(employee=employee, amount=-10, reason="重复发放",
                          actor=hr_admin.user, idempotency_key="adj-2")  # a replay
        credit, debit = sorted(notes(employee.user, "ledger.points_adjusted"),
                               key=lambda n: n.pk)
        with translation.override("en"):
            assert credit.title == "30 points were added to your balance"
            assert credit.body == "Reason: 补发三月加班积分"
            assert debit.title == "10 points were taken from your balance"
        assert credit.url == "/points/"

    def test_nobody_else_hears_of_it(self, employee, hr_admin):
        ledger.adjust(employee=employee, amount=5, reason="奖励", actor=hr_admin.user,
                      idempotency_key="adj-3")
        assert not Notification.objects.filter(recipient=hr_admin.user).exists()


def test_roles_of_the_fixture_team(team):
    manager, _worker, hr = team
    assert Role.MANAGER in set(manager.user.groups.values_list("name", flat=True))
    assert Role.HR_ADMIN in set(hr.user.groups.values_list("name", flat=True))
