"""Lottery services: entering, the draw, prizes, cancelling (SQLite; the races are in
test_lottery_concurrency.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jifen.activities import fairness
from jifen.activities.models import ActivityStatus, Entry, EntryStatus, Lottery, Win
from jifen.activities.selectors import lottery as selectors
from jifen.activities.services import lottery as services
from jifen.core import errors
from jifen.core.models import AuditEntry
from jifen.notifications.models import Notification
from tests.activities.conftest import fund, held, make_lottery, spendable
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def test_publishing_commits_to_a_secret_seed(activities_admin):
    lottery = make_lottery(activities_admin.user)
    assert lottery.status == ActivityStatus.PUBLISHED
    assert lottery.commitment == fairness.commitment_of(lottery.seed)
    assert lottery.committed_at is not None
    assert selectors.proof(lottery)["seed"] is None
    assert AuditEntry.objects.filter(action="activities.lottery.publish").count() == 1


def test_entering_holds_the_cost_and_the_same_key_charges_once(activities_admin, employee):
    fund(employee, 50)
    lottery = make_lottery(activities_admin.user)
    first = services.enter_lottery(lottery=lottery, employee=employee, idempotency_key="k1")
    again = services.enter_lottery(lottery=lottery, employee=employee, idempotency_key="k1")
    assert first.pk == again.pk
    assert Entry.objects.filter(lottery=lottery).count() == 1
    assert (spendable(employee), held(employee)) == (40, 10)
    lottery.refresh_from_db()
    assert lottery.entries_count == 1


def test_refusals_carry_the_issue_codes(activities_admin, employee):
    fund(employee, 15)
    lottery = make_lottery(activities_admin.user, entry_limit=1)
    services.enter_lottery(lottery=lottery, employee=employee)
    with pytest.raises(errors.Conflict) as limit:
        services.enter_lottery(lottery=lottery, employee=employee)
    assert limit.value.code == errors.ErrorCode.ENTRY_LIMIT_REACHED
    poor = EmployeeFactory()
    with pytest.raises(errors.InsufficientPoints):
        services.enter_lottery(lottery=lottery, employee=poor)
    assert Entry.objects.filter(employee=poor).count() == 0  # nothing half-applied
    lottery.refresh_from_db()
    assert lottery.entries_count == 1
    later = make_lottery(activities_admin.user, starts_at=timezone.now() + timedelta(hours=1))
    with pytest.raises(errors.Conflict) as not_open:
        services.enter_lottery(lottery=later, employee=employee)
    assert not_open.value.code == errors.ErrorCode.ACTIVITY_NOT_OPEN
    full = make_lottery(activities_admin.user, entry_cost=0, entry_slots=1)
    services.enter_lottery(lottery=full, employee=employee)
    with pytest.raises(errors.Conflict) as taken:
        services.enter_lottery(lottery=full, employee=EmployeeFactory())
    assert taken.value.code == errors.ErrorCode.ENTRIES_FULL
    rich = make_lottery(activities_admin.user, entry_cost=0, min_balance=1000)
    with pytest.raises(errors.Conflict) as poor_again:
        services.enter_lottery(lottery=rich, employee=employee)
    assert poor_again.value.code == errors.ErrorCode.NOT_ELIGIBLE


def test_a_closed_lottery_refuses_entries(activities_admin, employee):
    lottery = make_lottery(activities_admin.user, entry_cost=0)
    Lottery.objects.filter(pk=lottery.pk).update(ends_at=timezone.now() - timedelta(seconds=1),
                                                 draw_at=timezone.now() + timedelta(hours=1))
    with pytest.raises(errors.Conflict) as closed:
        services.enter_lottery(lottery=lottery, employee=employee)
    assert closed.value.code == errors.ErrorCode.ACTIVITY_CLOSED


def past_due(lottery):
    past = timezone.now() - timedelta(seconds=1)
    Lottery.objects.filter(pk=lottery.pk).update(ends_at=past, draw_at=past)
    return Lottery.objects.get(pk=lottery.pk)


def test_reading_a_lottery_past_its_time_draws_it_once(activities_admin):
    lottery = make_lottery(activities_admin.user)
    people = [EmployeeFactory() for _ in range(5)]
    for person in people:
        fund(person, 10)
        services.enter_lottery(lottery=lottery, employee=person)
    lottery = past_due(lottery)
    drawn = services.draw_if_due(lottery)
    assert drawn.status == ActivityStatus.FINISHED
    services.draw_if_due(Lottery.objects.get(pk=lottery.pk))
    assert Win.objects.filter(lottery=lottery).count() == 3
    # every entry cost went to the sink; the points prize arrived
    assert sum(held(p) for p in people) == 0
    points_winner = Win.objects.get(lottery=lottery, tier__kind="points").entry.employee
    assert spendable(points_winner) == 100
    proof = selectors.proof(drawn)
    assert proof["seed"] == drawn.seed
    assert fairness.verify(proof).ok
    assert Notification.objects.filter(kind="activities.lottery_won").count() == 3
    assert Notification.objects.filter(kind="activities.draw_results").count() == 2


def test_the_worker_sweep_draws_due_lotteries(activities_admin, employee):
    lottery = make_lottery(activities_admin.user, entry_cost=0)
    services.enter_lottery(lottery=lottery, employee=employee)
    past_due(lottery)
    assert services.draw_due_lotteries() == 1
    assert Lottery.objects.get(pk=lottery.pk).status == ActivityStatus.FINISHED


def test_cancelling_refunds_every_entry(activities_admin):
    lottery = make_lottery(activities_admin.user, entry_limit=3)
    people = [EmployeeFactory() for _ in range(3)]
    for person in people:
        fund(person, 30)
        for n in range(3):
            services.enter_lottery(lottery=lottery, employee=person, idempotency_key=f"{n}")
    assert [spendable(p) for p in people] == [0, 0, 0]
    services.cancel_lottery(lottery=lottery, actor=activities_admin.user, reason="场地变更")
    assert [(spendable(p), held(p)) for p in people] == [(30, 0)] * 3
    assert set(Entry.objects.filter(lottery=lottery).values_list("status", flat=True)) == {
        EntryStatus.REFUNDED}
    note = Notification.objects.filter(kind="activities.cancelled").first()
    assert note is not None and note.params["points"] == "30"
    assert AuditEntry.objects.filter(action="activities.lottery.cancel").exists()
    with pytest.raises(errors.Conflict):
        services.cancel_lottery(lottery=lottery, actor=activities_admin.user)


def test_draw_now_closes_early_and_draws(activities_admin, employee):
    fund(employee, 10)
    lottery = make_lottery(activities_admin.user)
    services.enter_lottery(lottery=lottery, employee=employee)
    drawn = services.draw_lottery(lottery=lottery, actor=activities_admin.user, force=True)
    assert drawn.status == ActivityStatus.FINISHED
    assert Win.objects.get(lottery=lottery).entry.employee == employee
    assert fairness.verify(selectors.proof(drawn)).ok


def test_instant_win_draws_at_entry_and_verifies(activities_admin):
    lottery = make_lottery(activities_admin.user, mode="instant", entry_slots=4, entry_cost=0)
    people = [EmployeeFactory() for _ in range(4)]
    entries = [services.enter_lottery(lottery=lottery, employee=p) for p in people]
    # four slots, three prizes, all taken: three winners, at entry time
    assert Win.objects.filter(lottery=lottery).count() == 3
    assert {e.pk for e in entries} >= set(Win.objects.values_list("entry_id", flat=True))
    lottery = past_due(lottery)
    drawn = services.draw_if_due(lottery)
    assert drawn.status == ActivityStatus.FINISHED
    assert fairness.verify(selectors.proof(drawn)).ok


def test_drafts_refuse_bad_input_without_saving(activities_admin):
    with pytest.raises(errors.ValidationError):
        services.save_lottery(actor=activities_admin.user,
                              data={"title": "x", "starts_at": timezone.now(),
                                    "ends_at": timezone.now() - timedelta(days=1)}, tiers=[])
    with pytest.raises(errors.ValidationError):
        make_lottery(activities_admin.user, tiers=[{"name": "p", "kind": "points"}])
    with pytest.raises(errors.ValidationError):
        make_lottery(activities_admin.user, mode="instant")
    assert Lottery.objects.count() == 0


def test_publishing_schedules_the_draw_for_the_worker(activities_admin, employee,
                                                      django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from jifen.activities.tasks import draw_lottery_task

    with django_capture_on_commit_callbacks(execute=True):
        lottery = make_lottery(activities_admin.user, entry_cost=0)
    scheduled = DBTaskResult.objects.get(task_path="jifen.activities.tasks.draw_lottery_task")
    assert scheduled.run_after == lottery.draw_at
    assert draw_lottery_task.call(lottery.pk) == ActivityStatus.PUBLISHED  # not yet due
    services.enter_lottery(lottery=lottery, employee=employee)
    past_due(lottery)
    assert draw_lottery_task.call(lottery.pk) == ActivityStatus.FINISHED
