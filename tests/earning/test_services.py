from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command

from jifen.core import errors
from jifen.core.roles import Role
from jifen.earning import services
from jifen.earning.models import Award, Event, Rule
from jifen.ledger.selectors import balance
from jifen.notifications.models import Notification
from tests.earning.conftest import at, event, ingest
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db


def spendable(employee) -> int:
    return balance(employee=employee).spendable


class TestFormulas:
    def test_per_unit_multiplies_a_payload_field(self, employee, make_rule, verify_clean):
        make_rule(event_type="training_completed", category="learning",
                  formula={"kind": "per_unit", "field": "hours", "points": 3})
        (result,) = ingest(event(employee, "training_completed", {"hours": 7}))
        assert (result.status, result.points) == ("credited", 21)
        verify_clean()

    def test_per_unit_without_the_field_does_not_match(self, employee, make_rule):
        make_rule(event_type="training_completed", category="learning",
                  formula={"kind": "per_unit", "field": "hours", "points": 3})
        (result,) = ingest(event(employee, "training_completed", {"days": 2}))
        assert (result.status, result.reason) == ("rejected", "no_matching_rule")
        assert "hours" in result.detail

    def test_table_maps_a_value_to_points(self, employee, make_rule, verify_clean):
        make_rule(event_type="performance_rating",
                  formula={"kind": "table", "field": "rating", "points": {"S": 20, "A": 10}})
        s, a, b = ingest(event(employee, "performance_rating", {"rating": "S"}),
                         event(employee, "performance_rating", {"rating": "A"}),
                         event(employee, "performance_rating", {"rating": "B"}))
        assert [r.points for r in (s, a)] == [20, 10]
        assert (b.status, b.reason) == ("rejected", "no_matching_rule")
        assert spendable(employee) == 30
        verify_clean()

    def test_range_waits_for_an_approver(self, employee, make_rule):
        make_rule(event_type="helped_colleague", category="teamwork",
                  formula={"kind": "range", "min": 30, "max": 80})
        (result,) = ingest(event(employee, "helped_colleague"))
        assert result.status == "pending_approval"
        award = Award.objects.get()
        assert (award.min_points, award.max_points, award.status) == (30, 80, "pending")
        assert spendable(employee) == 0

    def test_every_matching_rule_awards(self, employee, make_rule, verify_clean):
        make_rule(name="Delivered", event_type="task_delivered",
                  formula={"kind": "table", "field": "difficulty",
                           "points": {"low": 50, "high": 150}})
        make_rule(name="Acclaim", event_type="task_delivered", condition="payload.acclaim",
                  formula={"kind": "fixed", "points": 50})
        (result,) = ingest(event(employee, "task_delivered",
                                 {"difficulty": "high", "acclaim": True}))
        assert result.points == 200
        assert Award.objects.count() == 2
        verify_clean()


class TestCaps:
    def test_daily_cap_stops_the_second_check_in(self, employee, make_rule, verify_clean):
        make_rule(event_type="daily_checkin", category="engagement",
                  formula={"kind": "fixed", "points": 1}, caps={"day": 1})
        first, second, next_day = ingest(
            event(employee, "daily_checkin", when="2026-03-02T08:00"),
            event(employee, "daily_checkin", when="2026-03-02T09:00"),
            event(employee, "daily_checkin", when="2026-03-03T08:00"))
        assert first.status == "credited" and next_day.status == "credited"
        assert (second.status, second.reason) == ("rejected", "cap_reached")
        assert spendable(employee) == 2
        verify_clean()

    def test_monthly_cap_cuts_the_last_award_to_what_is_left(self, employee, make_rule,
                                                             verify_clean):
        make_rule(event_type="social_post_approved", category="culture",
                  formula={"kind": "fixed", "points": 20}, caps={"month": 50})
        results = ingest(*[event(employee, "social_post_approved", when=f"2026-03-{d:02d}T10:00")
                           for d in (1, 2, 3, 4)])
        assert [r.points for r in results] == [20, 20, 10, 0]
        assert results[3].reason == "cap_reached"
        (april,) = ingest(event(employee, "social_post_approved", when="2026-04-01T10:00"))
        assert april.points == 20
        verify_clean()

    def test_caps_count_per_employee(self, department, make_rule):
        make_rule(event_type="daily_checkin", category="engagement",
                  formula={"kind": "fixed", "points": 1}, caps={"day": 1})
        a, b = EmployeeFactory(department=department), EmployeeFactory(department=department)
        results = ingest(event(a, "daily_checkin"), event(b, "daily_checkin"))
        assert [r.status for r in results] == ["credited", "credited"]


class TestConditions:
    def test_conditions_see_department_path_grade_and_tenure(self, make_rule):
        sales = DepartmentFactory(code="SALES")
        east = DepartmentFactory(code="SALES-E", parent=sales)
        other = DepartmentFactory(code="RD")
        senior = EmployeeFactory(department=east, grade="P7", hire_date=date(2020, 1, 1))
        junior = EmployeeFactory(department=east, grade="P5", hire_date=date(2025, 6, 1))
        engineer = EmployeeFactory(department=other, grade="P7", hire_date=date(2020, 1, 1))
        make_rule(event_type="sales_target_reached",
                  condition='"SALES" in employee.department_path && employee.grade == "P7"'
                            ' && employee.tenure_years >= 3 && payload.percent >= 100',
                  formula={"kind": "fixed", "points": 50})
        results = ingest(*[event(e, "sales_target_reached", {"percent": 120})
                           for e in (senior, junior, engineer)],
                         event(senior, "sales_target_reached", {"percent": 90}))
        assert [r.status for r in results] == ["credited", "rejected", "rejected", "rejected"]

    def test_validity_window_limits_when_a_rule_applies(self, employee, make_rule):
        make_rule(event_type="idea_adopted", formula={"kind": "fixed", "points": 20},
                  valid_from=at("2026-03-01T00:00"), valid_until=at("2026-04-01T00:00"))
        results = ingest(event(employee, "idea_adopted", when="2026-02-28T10:00"),
                         event(employee, "idea_adopted", when="2026-03-15T10:00"),
                         event(employee, "idea_adopted", when="2026-04-01T00:00"))
        assert [r.status for r in results] == ["rejected", "credited", "rejected"]

    def test_inactive_rules_do_not_score(self, employee, make_rule):
        make_rule(event_type="idea_adopted", formula={"kind": "fixed", "points": 20},
                  active=False)
        (result,) = ingest(event(employee, "idea_adopted"))
        assert result.reason == "no_matching_rule"


class TestPenalties:
    def test_penalty_at_zero_records_the_uncollected_part(self, employee, make_rule,
                                                         verify_clean):
        make_rule(event_type="attendance_full_month", category="attendance",
                  formula={"kind": "fixed", "points": 3})
        make_rule(event_type="attendance_late", category="attendance",
                  formula={"kind": "fixed", "points": -5})
        ingest(event(employee, "attendance_full_month"))
        (late,) = ingest(event(employee, "attendance_late", {"minutes": 12}))
        assert (late.status, late.points, late.uncollected) == ("credited", -3, 2)
        (again,) = ingest(event(employee, "attendance_late", {"minutes": 3}))
        assert (again.points, again.uncollected) == (0, 5)
        assert spendable(employee) == 0
        assert Event.objects.filter(uncollected__gt=0).count() == 2
        verify_clean()


class TestApprovals:
    @pytest.fixture
    def team(self):
        dept = DepartmentFactory(code="OPS")
        manager = EmployeeFactory(department=dept, roles=[Role.MANAGER])
        dept.manager = manager
        dept.save()
        return dept, manager, EmployeeFactory(department=dept)

    def test_reject_with_reason_notifies_the_employee_and_credits_nothing(
            self, team, make_rule, verify_clean):
        _dept, manager, worker = team
        make_rule(event_type="helped_colleague", category="teamwork",
                  formula={"kind": "range", "min": 30, "max": 80})
        ingest(event(worker, "helped_colleague"))
        award = Award.objects.get()
        with pytest.raises(errors.ValidationError):
            services.reject_award(award=award, actor=manager.user, reason=" ")
        services.reject_award(award=award, actor=manager.user, reason="part of the job")
        assert Event.objects.get().reason == "rejected_by_approver"
        note = Notification.objects.get(recipient=worker.user)
        assert "part of the job" in note.body
        assert spendable(worker) == 0
        with pytest.raises(errors.Conflict):
            services.approve_award(award=award, actor=manager.user, points=50)
        verify_clean()

    def test_an_award_for_someone_who_has_left_can_only_be_rejected(
            self, team, make_rule, verify_clean):
        from jifen.people.services import mark_employee_left

        _dept, manager, worker = team
        make_rule(event_type="helped_colleague", category="teamwork",
                  formula={"kind": "range", "min": 30, "max": 80})
        ingest(event(worker, "helped_colleague"))
        award = Award.objects.get()
        mark_employee_left(employee=worker, actor=manager.user)
        with pytest.raises(errors.Conflict) as exc:
            services.approve_award(award=award, actor=manager.user, points=50)
        assert exc.value.code == "inactive_employee"
        assert spendable(worker) == 0
        services.reject_award(award=award, actor=manager.user, reason="left the company")
        verify_clean()

    def test_manager_of_another_team_and_the_employee_cannot_decide(self, team, make_rule):
        _dept, _manager, worker = team
        other = DepartmentFactory(code="FIN")
        stranger = EmployeeFactory(department=other, roles=[Role.MANAGER])
        other.manager = stranger
        other.save()
        make_rule(event_type="helped_colleague", category="teamwork",
                  formula={"kind": "range", "min": 30, "max": 80})
        ingest(event(worker, "helped_colleague"))
        award = Award.objects.get()
        for actor in (stranger.user, worker.user):
            with pytest.raises(errors.PermissionDenied):
                services.approve_award(award=award, actor=actor, points=40)

    def test_hr_decides_awards_that_wait_for_hr(self, team, make_rule, hr_admin):
        _dept, manager, worker = team
        make_rule(event_type="idea_adopted", formula={"kind": "fixed", "points": 20},
                  requires_approval=True, approver_role="hr")
        ingest(event(worker, "idea_adopted"))
        award = Award.objects.get()
        with pytest.raises(errors.PermissionDenied):
            services.approve_award(award=award, actor=manager.user, points=20)
        services.approve_award(award=award, actor=hr_admin.user, points=20)
        assert spendable(worker) == 20


class TestVersions:
    def test_old_credits_stay_linked_to_the_version_that_scored_them(self, employee, make_rule,
                                                                    hr_admin):
        rule = make_rule(event_type="idea_adopted", formula={"kind": "fixed", "points": 20})
        ingest(event(employee, "idea_adopted"))
        services.update_rule(rule=rule, actor=hr_admin.user, reason="more",
                             formula={"kind": "fixed", "points": 30})
        ingest(event(employee, "idea_adopted"))
        awards = list(Award.objects.order_by("pk"))
        assert [(a.rule_version.number, a.points) for a in awards] == [(1, 20), (2, 30)]
        v2 = rule.versions.get(number=2)
        assert v2.created_by == hr_admin.user and v2.reason == "more"
        assert v2.diff == [{"field": "formula", "old": {"kind": "fixed", "points": 20},
                            "new": {"kind": "fixed", "points": 30}}]

    def test_saving_without_a_change_makes_no_version(self, make_rule, hr_admin):
        rule = make_rule(event_type="idea_adopted", formula={"kind": "fixed", "points": 20})
        services.update_rule(rule=rule, actor=hr_admin.user, reason="nothing",
                             formula={"kind": "fixed", "points": 20})
        assert Rule.objects.get().version == 1 and rule.versions.count() == 1


class TestCustomTypes:
    def test_admin_adds_a_type_with_a_schema_and_rules_score_it(self, employee, hr_admin,
                                                                make_rule):
        services.create_event_type(actor=hr_admin.user, code="hackathon", name="黑客松",
                                   schema={"type": "object", "required": ["place"],
                                           "properties": {"place": {"type": "integer",
                                                                    "minimum": 1}}})
        make_rule(event_type="hackathon", condition="payload.place <= 3",
                  formula={"kind": "fixed", "points": 100})
        ok, bad, fourth = ingest(event(employee, "hackathon", {"place": 1}),
                                 event(employee, "hackathon", {"place": "first"}),
                                 event(employee, "hackathon", {"place": 4}))
        assert ok.status == "credited"
        assert (bad.reason, fourth.reason) == ("schema_violation", "no_matching_rule")
        assert "place" in bad.detail

    def test_an_invalid_schema_is_refused(self, hr_admin):
        with pytest.raises(errors.ValidationError) as caught:
            services.create_event_type(actor=hr_admin.user, code="x", name="x",
                                       schema={"type": "nonsense"})
        assert caught.value.code == "invalid_schema"

    def test_builtins_exist_and_ensuring_them_again_changes_nothing(self):
        assert services.ensure_builtin_event_types() == 0
        assert Rule.objects.count() == 0


class TestRetries:
    def test_a_rejected_event_is_scored_again_when_resent(self, department, make_rule):
        make_rule(event_type="idea_adopted", formula={"kind": "fixed", "points": 20})
        (first,) = ingest(event("E-LATER", "idea_adopted", id_="x1"))
        assert first.reason == "unknown_employee"
        newcomer = EmployeeFactory(department=department, employee_no="E-LATER")
        (again,) = ingest(event(newcomer, "idea_adopted", id_="x1"))
        assert again.status == "credited" and Event.objects.count() == 1
        (third,) = ingest(event(newcomer, "idea_adopted", id_="x1"))
        assert third.status == "duplicate" and spendable(newcomer) == 20


class TestBudgetsAndRecognition:
    @pytest.fixture
    def team(self, hr_admin):
        dept = DepartmentFactory(code="RD")
        manager = EmployeeFactory(department=dept, roles=[Role.MANAGER])
        dept.manager = manager
        dept.save()
        sub = DepartmentFactory(code="RD-FE", parent=dept)
        return dept, manager, EmployeeFactory(department=sub)

    def test_manager_awards_from_the_budget_until_it_runs_out(self, team, hr_admin,
                                                             verify_clean):
        dept, manager, member = team
        services.fund_department_budget(department=dept, points=100, actor=hr_admin.user)
        services.award_from_budget(manager=manager, recipient=member, points=70,
                                   message="great release")
        with pytest.raises(errors.InsufficientPoints) as caught:
            services.award_from_budget(manager=manager, recipient=member, points=40,
                                       message="again")
        assert caught.value.code == "insufficient_budget"
        assert "30" in caught.value.message
        assert spendable(member) == 70
        verify_clean()

    def test_managers_award_only_their_team_and_never_themselves(self, team, hr_admin,
                                                                department):
        dept, manager, _member = team
        services.fund_department_budget(department=dept, points=100, actor=hr_admin.user)
        outsider = EmployeeFactory(department=department)
        with pytest.raises(errors.PermissionDenied):
            services.award_from_budget(manager=manager, recipient=outsider, points=10,
                                       message="x")
        with pytest.raises(errors.ValidationError):
            services.award_from_budget(manager=manager, recipient=manager, points=10,
                                       message="x")

    def test_allowance_is_monthly_without_rollover_and_not_for_oneself(self, employee,
                                                                      department,
                                                                      verify_clean):
        friend = EmployeeFactory(department=department)
        march = at("2026-03-10T10:00")
        services.give_recognition(giver=employee, recipient=friend, points=60, message="谢谢",
                                  now=march)
        with pytest.raises(errors.Conflict) as caught:
            services.give_recognition(giver=employee, recipient=friend, points=50,
                                      message="再谢", now=march)
        assert caught.value.details == {"left": 40}
        with pytest.raises(errors.ValidationError):
            services.give_recognition(giver=employee, recipient=employee, points=1,
                                      message="me", now=march)
        april = at("2026-04-01T10:00")
        assert services.allowance_left(employee, april) == 100
        services.give_recognition(giver=employee, recipient=friend, points=100,
                                  message="四月", now=april)
        assert spendable(friend) == 160
        assert Notification.objects.filter(recipient=friend.user).count() == 2
        verify_clean()

    def test_allowance_follows_the_site_setting(self, employee, department, hr_admin):
        services.update_earning_settings(actor=hr_admin.user, monthly_allowance=10)
        friend = EmployeeFactory(department=department)
        with pytest.raises(errors.Conflict):
            services.give_recognition(giver=employee, recipient=friend, points=11, message="x")


def test_tick_command_runs_the_daily_jobs(capsys):
    call_command("earning", "tick")
    assert "expired=0" in capsys.readouterr().out


def test_a_rule_expiry_override_sets_when_its_points_expire(employee, make_rule):
    from jifen.ledger.models import Lot

    make_rule(event_type="idea_adopted", formula={"kind": "fixed", "points": 20},
              expiry={"mode": "months", "months": 1})
    ingest(event(employee, "idea_adopted"))
    lot = Lot.objects.get()
    assert lot.expires_at is not None
    assert (lot.expires_at - lot.earned_at).days in (28, 29, 30, 31)


def test_ledger_verify_notices_an_award_that_disagrees_with_its_transaction(
        employee, make_rule, allow_ledger_breaches):
    from jifen.ledger.verify import verify_ledger

    make_rule(event_type="idea_adopted", formula={"kind": "fixed", "points": 20})
    ingest(event(employee, "idea_adopted"))
    assert verify_ledger() == []
    Award.objects.update(points=25)
    breaches = verify_ledger()
    assert any("award" in line and "25" in line for line in breaches)
    assert any(line.startswith("event #") for line in breaches)
