"""The centre's lists: activities by phase at the boundary instants, my entries and bids,
winners, and the participation numbers behind the charts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jifen.activities.models import ActivityStatus, Phase
from jifen.activities.selectors import centre
from tests.activities import centre_fixtures
from tests.activities.centre_fixtures import (
    HOUR,
    bid,
    draw,
    enter,
    fund,
    make_auction,
    make_item,
    make_lottery,
    sell,
)
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db
activities_admin = centre_fixtures.activities_admin


def titles(rows):
    return [a.title for a in rows]


def test_an_activity_is_upcoming_until_its_start_running_until_its_end_then_over(
        activities_admin):
    start = timezone.now().replace(microsecond=0) + timedelta(days=1)
    make_lottery(title="抽奖", starts_at=start, ends_at=start + HOUR)
    make_auction(make_item(activities_admin.user), title="竞拍", starts_at=start,
                           ends_at=start + HOUR)
    just_before = start - timedelta(microseconds=1)
    assert titles(centre.activities_in_phase(Phase.UPCOMING, now=just_before)) == ["竞拍", "抽奖"]
    assert centre.activities_in_phase(Phase.RUNNING, now=just_before) == []
    # AT the start both run (the same instant phase_at calls running).
    assert set(titles(centre.activities_in_phase(Phase.RUNNING, now=start))) == {"抽奖", "竞拍"}
    assert centre.activities_in_phase(Phase.UPCOMING, now=start) == []
    end = start + HOUR
    assert set(titles(centre.activities_in_phase(Phase.RUNNING,
                                                 now=end - timedelta(microseconds=1)))) == {
        "抽奖", "竞拍"}
    # AT the end: the auction is over, the lottery waits for its draw (listed as finished).
    assert centre.activities_in_phase(Phase.RUNNING, now=end) == []
    over = centre.activities_in_phase(Phase.FINISHED, now=end)
    assert {a.title: a.phase_at(end) for a in over} == {"抽奖": Phase.DRAWING,
                                                        "竞拍": Phase.FINISHED}
    # Every list agrees with the model's own phase at every instant.
    for moment in (just_before, start, end - timedelta(microseconds=1), end):
        for phase in centre.LISTED_PHASES:
            for activity in centre.activities_in_phase(phase, now=moment):
                assert activity.phase_at(moment) in (phase, Phase.DRAWING)


def test_drafts_and_cancelled_activities_are_not_in_the_centre(activities_admin):
    make_lottery(title="草稿", status=ActivityStatus.DRAFT)
    make_lottery(title="取消", status=ActivityStatus.CANCELLED)
    make_lottery(title="进行中")
    sections = centre.centre(employee=None)
    shown = [c.activity.title for cards in sections.values() for c in cards]
    assert shown == ["进行中"]


def test_running_lists_are_newest_first_and_upcoming_soonest_first(activities_admin):
    now = timezone.now()
    make_lottery(title="早", starts_at=now - 5 * HOUR)
    make_lottery(title="晚", starts_at=now - HOUR)
    make_lottery(title="明天", starts_at=now + 24 * HOUR)
    make_lottery(title="后天", starts_at=now + 48 * HOUR)
    assert titles(centre.activities_in_phase(Phase.RUNNING, now=now)) == ["晚", "早"]
    assert titles(centre.activities_in_phase(Phase.UPCOMING, now=now)) == ["明天", "后天"]


def test_cards_say_who_may_not_take_part(activities_admin):
    sales = DepartmentFactory(code="SALES", name="销售部")
    east = DepartmentFactory(code="EAST", name="华东区", parent=sales)
    rd = DepartmentFactory(code="RD", name="研发部")
    inside = EmployeeFactory(department=east, grade="P5")
    outside = EmployeeFactory(department=rd, grade="P5")
    lottery = make_lottery(title="销售抽奖")
    lottery.eligible_departments.add(sales)
    [card] = centre.cards([lottery], employee=inside)
    assert card.eligible and card.problem == ""
    [card] = centre.cards([lottery], employee=outside)
    assert not card.eligible and "销售部" in card.problem


def test_countdown_points_at_the_next_moment_that_matters(activities_admin):
    now = timezone.now()
    upcoming = make_lottery(starts_at=now + HOUR, ends_at=now + 3 * HOUR)
    running = make_lottery(starts_at=now - HOUR, ends_at=now + 2 * HOUR)
    drawing = make_lottery(starts_at=now - 3 * HOUR, ends_at=now - HOUR,
                           draw_at=now + 5 * HOUR)
    got = {c.pk: c.countdown_to for c in centre.cards([upcoming, running, drawing], now=now)}
    assert got == {upcoming.pk: upcoming.starts_at, running.pk: running.ends_at,
                   drawing.pk: drawing.draw_at}


def test_my_participation_lists_my_entries_and_bids_with_their_outcome(activities_admin,
                                                                         employee):
    rival = EmployeeFactory(department=employee.department, name="李四")
    fund(employee, 1000)
    fund(rival, 1000)
    won = make_lottery(title="已开奖", starts_at=timezone.now() - 5 * HOUR,
                       ends_at=timezone.now() - HOUR)
    mine = enter(won, employee)
    enter(won, employee)
    enter(won, rival)
    draw(won, [mine])
    pending = make_lottery(title="待开奖", entry_cost=0)
    enter(pending, employee)
    enter(make_lottery(title="别人的"), rival)
    auction = make_auction(make_item(activities_admin.user), title="竞拍中")
    bid(auction, employee, 120)
    bid(auction, rival, 150)
    leading = make_auction(make_item(activities_admin.user, "键盘"), title="我领先")
    bid(leading, employee, 200)

    rows = {m.activity.title: m for m in centre.my_participation(employee)}
    assert set(rows) == {"已开奖", "待开奖", "竞拍中", "我领先"}
    assert (rows["已开奖"].status, rows["已开奖"].count, rows["已开奖"].points,
            rows["已开奖"].prize) == ("won", 2, 20, "一等奖")
    assert (rows["待开奖"].status, rows["待开奖"].points) == ("entered", 0)
    assert (rows["竞拍中"].status, rows["竞拍中"].points, rows["竞拍中"].count) == (
        "outbid", 120, 1)
    assert rows["我领先"].status == "leading"
    assert {m.activity.title: m.status for m in centre.my_participation(rival)} == {
        "已开奖": "lost", "别人的": "entered", "竞拍中": "leading"}


def test_winners_of_finished_lotteries_and_sold_auctions(activities_admin, employee):
    fund(employee, 1000)
    rival = EmployeeFactory(department=employee.department, name="王五")
    fund(rival, 1000)
    lottery = make_lottery(tiers=(("一等奖", 1), ("二等奖", 2)),
                           starts_at=timezone.now() - 5 * HOUR, ends_at=timezone.now() - HOUR)
    first, second = enter(lottery, employee), enter(lottery, rival)
    draw(lottery, [second, first])
    auction = make_auction(make_item(activities_admin.user), starts_at=timezone.now() - 5 * HOUR,
                           ends_at=timezone.now() - HOUR)
    bid(auction, rival, 300)
    sell(auction)
    unsold = make_auction(make_item(activities_admin.user, "鼠标"),
                          starts_at=timezone.now() - 5 * HOUR, ends_at=timezone.now() - HOUR)
    found = centre.winners_of([lottery, auction, unsold])
    assert [(w["name"], w["prize"]) for w in found[("lottery", lottery.pk)]] == [
        ("王五", "一等奖"), ("张伟", "二等奖")]
    assert [(w["name"], w["amount"]) for w in found[("auction", auction.pk)]] == [("王五", 300)]
    assert ("auction", unsold.pk) not in found
    [card] = [c for c in centre.centre(employee=employee)["finished"] if c.pk == lottery.pk
              and c.kind == "lottery"]
    assert [w["name"] for w in card.winners] == ["王五", "张伟"]


def test_stats_count_entries_people_points_and_prizes_by_hour(activities_admin, employee):
    fund(employee, 1000)
    rival = EmployeeFactory(department=employee.department)
    fund(rival, 1000)
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - 3 * HOUR
    lottery = make_lottery(entry_cost=25, starts_at=start, ends_at=start + 10 * HOUR,
                           tiers=(("一等奖", 1), ("二等奖", 3)))
    e1 = enter(lottery, employee, at=start + timedelta(minutes=5))
    enter(lottery, employee, at=start + timedelta(minutes=50))
    enter(lottery, rival, at=start + 2 * HOUR + timedelta(minutes=1))
    draw(lottery, [e1])
    stats = centre.activity_stats(lottery, now=start + 3 * HOUR)
    assert (stats.participants, stats.actions, stats.points_collected) == (2, 3, 75)
    assert (stats.prizes_total, stats.prizes_given) == (4, 1)
    assert stats.bucket == "hour"
    assert [(r["count"], r["total"], r["points"]) for r in stats.timeline] == [
        (2, 2, 50), (0, 2, 0), (1, 3, 25), (0, 3, 0)]
    assert [(p["name"], p["quantity"], p["given"]) for p in stats.prizes] == [
        ("一等奖", 1, 1), ("二等奖", 3, 0)]


def test_auction_stats_collect_the_leading_bid_then_the_winning_one(activities_admin,
                                                                   employee):
    fund(employee, 1000)
    rival = EmployeeFactory(department=employee.department)
    fund(rival, 1000)
    start = timezone.now() - 10 * 24 * HOUR
    auction = make_auction(make_item(activities_admin.user), starts_at=start,
                           ends_at=timezone.now() + HOUR)
    bid(auction, employee, 120, at=start + HOUR)
    bid(auction, rival, 180, at=start + 30 * HOUR)
    bid(auction, employee, 200, at=start + 31 * HOUR)
    stats = centre.activity_stats(auction)
    assert (stats.participants, stats.actions, stats.points_collected) == (2, 3, 200)
    assert stats.bucket == "day" and stats.prizes_given == 0
    assert sum(r["count"] for r in stats.timeline) == 3
    assert [r["count"] for r in stats.timeline if r["count"]] == [1, 2]
    sell(auction)
    stats = centre.activity_stats(auction)
    assert (stats.points_collected, stats.prizes_given) == (200, 1)


def test_eligible_employees_follow_departments_grades_tenure_and_status(activities_admin):
    sales = DepartmentFactory(code="SALES", name="销售部")
    east = DepartmentFactory(code="EAST", name="华东区", parent=sales)
    other = DepartmentFactory(code="OTHER", name="其他")
    today = timezone.localdate()
    old = today - timedelta(days=400)
    ok_parent = EmployeeFactory(department=sales, grade="P6", hire_date=old)
    ok_child = EmployeeFactory(department=east, grade="P5", hire_date=old)
    EmployeeFactory(department=other, grade="P6", hire_date=old)  # wrong department
    EmployeeFactory(department=east, grade="P3", hire_date=old)  # wrong grade
    EmployeeFactory(department=east, grade="P5", hire_date=today)  # too new
    EmployeeFactory(department=east, grade="P5", hire_date=None)  # tenure unknown
    EmployeeFactory(department=east, grade="P5", hire_date=old, status="left")
    lottery = make_lottery(eligible_grades="P5, P6", min_tenure_days=365)
    lottery.eligible_departments.add(sales)
    assert set(centre.eligible_employees(lottery)) == {ok_parent, ok_child}
