"""Leaderboards read from the rankings: ties share a rank, the viewer's own rank shows
even outside the top, company vs department vs a manager's team, every period kind in the
site's time, categories, anonymity, people who left, penalties."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from jifen.core import errors
from jifen.insights.selectors import leaderboard as lb
from jifen.insights.services import leaderboard as lb_services
from jifen.insights.services import rollups
from jifen.ledger import services as ledger
from jifen.people.models import Department
from jifen.people.services.employees import mark_employee_left
from tests.factories import DepartmentFactory, EmployeeFactory
from tests.ledger.helpers import earn, key

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
TODAY = date(2026, 11, 20)


def month(kind: str = "month"):
    return lb.current_period(kind, today=TODAY)


def show(board) -> list[tuple[int, str, int]]:
    return [(row.rank, row.name, row.points) for row in board.rows]


def company_board(viewer, period=None, category="", limit=20):
    return lb.board(viewer=viewer.user, scope=lb.Scope("company"),
                    period=period or month(), category=category, limit=limit)


def test_ties_share_a_rank_and_the_next_rank_skips():
    a, b, c, d = (EmployeeFactory(name=n) for n in ("Ann", "Ben", "Cat", "Dan"))
    for person, points in ((a, 50), (b, 30), (c, 30), (d, 10)):
        earn(person, points, now=NOW)
    rollups.fold_pending()
    board = company_board(a)
    assert show(board) == [(1, "Ann", 50), (2, "Ben", 30), (2, "Cat", 30), (4, "Dan", 10)]
    assert board.ranked_count == 4
    assert [row.is_me for row in board.rows] == [True, False, False, False]


def test_own_rank_shows_outside_the_top():
    people = [EmployeeFactory() for _n in range(5)]
    for n, person in enumerate(people):
        earn(person, 100 - n * 10, now=NOW)
    me = EmployeeFactory()
    earn(me, 5, now=NOW)
    rollups.fold_pending()
    board = company_board(me, limit=3)
    assert len(board.rows) == 3 and not any(row.is_me for row in board.rows)
    assert (board.me_rank, board.me_points, board.ranked_count) == (6, 5, 6)


def test_someone_without_points_is_unranked():
    earn(EmployeeFactory(), 10, now=NOW)
    newcomer = EmployeeFactory()
    rollups.fold_pending()
    board = company_board(newcomer)
    assert (board.me_rank, board.me_points, board.ranked_count) == (0, 0, 1)


def test_department_board_holds_only_that_department():
    sales, ops = DepartmentFactory(name="Sales"), DepartmentFactory(name="Ops")
    seller = EmployeeFactory(department=sales, name="Seller")
    operator = EmployeeFactory(department=ops, name="Operator")
    earn(seller, 10, now=NOW)
    earn(operator, 90, now=NOW)
    rollups.fold_pending()
    scope = lb.resolve_scope(seller.user, "department")
    assert scope.department == sales
    board = lb.board(viewer=seller.user, scope=scope, period=month())
    assert show(board) == [(1, "Seller", 10)]
    assert board.me_rank == 1
    assert company_board(seller).me_rank == 2


def test_a_plain_employee_cannot_open_another_department():
    sales, ops = DepartmentFactory(), DepartmentFactory()
    seller = EmployeeFactory(department=sales)
    with pytest.raises(errors.NotFound):
        lb.resolve_scope(seller.user, "department", department_code=ops.code)
    assert lb.resolve_scope(seller.user, "department",
                            department_code=sales.code).department == sales


def test_each_period_kind_in_site_time():
    """23:30 UTC on 30 September is 07:30 on 1 October in Shanghai: the fourth quarter."""
    sam = EmployeeFactory()
    earn(sam, 7, now=datetime(2026, 9, 30, 23, 30, tzinfo=UTC))
    earn(sam, 3, now=datetime(2026, 9, 30, 15, 0, tzinfo=UTC))  # 23:00 in Shanghai: Q3
    earn(sam, 20, now=datetime(2025, 12, 31, 15, 59, tzinfo=UTC))  # 2025-12-31 23:59
    rollups.fold_pending()

    def points(period: str) -> int:
        board = company_board(sam, period=lb.parse_period(period, today=TODAY))
        return board.me_points

    assert points("2026-10") == 7
    assert points("2026-09") == 3
    assert points("2026-Q4") == 7
    assert points("2026-Q3") == 3
    assert points("2026") == 10
    assert points("2025") == 20
    assert points("2025-Q4") == 20
    assert points("all") == 30
    assert points("2026-11") == 0  # nothing this month
    assert lb.parse_period("quarter", today=TODAY).key == "2026-Q4"
    assert lb.parse_period("month", today=TODAY).key == "2026-11"
    assert lb.parse_period("year", today=TODAY).key == "2026"


@pytest.mark.parametrize("bad", ["2026-13", "2026-Q5", "26", "last week", "2026-1", "1999"])
def test_a_bad_period_is_refused(bad):
    with pytest.raises(errors.ValidationError) as refused:
        lb.parse_period(bad)
    assert refused.value.code == errors.ErrorCode.INVALID_PERIOD


def test_categories_rank_separately():
    learner, helper = EmployeeFactory(name="Learner"), EmployeeFactory(name="Helper")
    earn(learner, 40, category="learning", now=NOW)
    earn(helper, 10, category="learning", now=NOW)
    earn(helper, 60, category="teamwork", now=NOW)
    rollups.fold_pending()
    assert show(company_board(learner, category="learning")) == [
        (1, "Learner", 40), (2, "Helper", 10)]
    assert show(company_board(learner, category="teamwork")) == [(1, "Helper", 60)]
    assert show(company_board(learner)) == [(1, "Helper", 70), (2, "Learner", 40)]
    with pytest.raises(errors.ValidationError):
        lb.parse_category("napping")


def test_penalties_lower_the_rank():
    late, punctual = EmployeeFactory(name="Late"), EmployeeFactory(name="Punctual")
    earn(late, 50, now=NOW)
    earn(punctual, 45, now=NOW)
    ledger.penalize(employee=late, amount=10, category="attendance", now=NOW,
                    idempotency_key=key("p"), cause=("test.event", "late"))
    rollups.fold_pending()
    assert show(company_board(late)) == [(1, "Punctual", 45), (2, "Late", 40)]


def test_hidden_names_are_anonymous_to_others_but_not_to_themselves():
    shy, curious = EmployeeFactory(name="Shy"), EmployeeFactory(name="Curious")
    earn(shy, 80, now=NOW)
    earn(curious, 20, now=NOW)
    rollups.fold_pending()
    lb_services.set_ranking_privacy(employee=shy, hidden=True)

    with translation.override("en"):
        seen_by_other = company_board(curious).rows[0]
    assert (seen_by_other.rank, seen_by_other.name, seen_by_other.employee_no,
            seen_by_other.department, seen_by_other.anonymous) == (
        1, "Anonymous colleague", None, None, True)
    seen_by_self = company_board(shy).rows[0]
    assert (seen_by_self.name, seen_by_self.is_me, seen_by_self.anonymous) == (
        "Shy", True, False)
    assert company_board(shy).hidden_me

    lb_services.set_ranking_privacy(employee=shy, hidden=False)
    assert company_board(curious).rows[0].name == "Shy"
    with translation.override("zh-hans"):
        assert company_board(curious).rows[0].name == "Shy"
        lb_services.set_ranking_privacy(employee=shy, hidden=True)
        assert company_board(curious).rows[0].name == "匿名同事"


def test_a_manager_sees_their_subtree_with_names():
    root = DepartmentFactory(name="HQ")
    boss = EmployeeFactory(department=root, name="Boss")
    team = DepartmentFactory(name="Team", parent=root)
    sub = DepartmentFactory(name="Sub", parent=team)
    other = DepartmentFactory(name="Other", parent=root)
    lead = EmployeeFactory(department=team, name="Lead")
    Department.objects.filter(pk=team.pk).update(manager=lead)
    member = EmployeeFactory(department=sub, name="Member")
    outsider = EmployeeFactory(department=other, name="Outsider")
    for person, points in ((boss, 99), (lead, 10), (member, 30), (outsider, 50)):
        earn(person, points, now=NOW)
    rollups.fold_pending()
    lb_services.set_ranking_privacy(employee=member, hidden=True)

    scope = lb.resolve_scope(lead.user, "team")
    board = lb.board(viewer=lead.user, scope=scope, period=month())
    assert show(board) == [(1, "Member", 30), (2, "Lead", 10)]
    assert board.me_rank == 2
    with pytest.raises(errors.PermissionDenied):
        lb.resolve_scope(member.user, "team")
    # Outside the team view the hidden member stays anonymous, even to the manager.
    assert "Member" not in [row.name for row in company_board(lead).rows]


@pytest.mark.parametrize("short_list", [100, 0], ids=["listed", "the-others-excluded"])
def test_a_manager_near_the_top_sees_the_same_team_however_it_is_filtered(monkeypatch,
                                                                          short_list):
    # A manager of most departments is filtered as "not one of the others" (fewer ids);
    # the board must not change with the way it is said.
    monkeypatch.setattr(lb, "SHORT_LIST", short_list)
    root = DepartmentFactory(name="HQ")
    branches = [DepartmentFactory(name=f"Branch {n}", parent=root) for n in range(4)]
    elsewhere = DepartmentFactory(name="Elsewhere")
    big_boss = EmployeeFactory(department=root, name="Big boss")
    Department.objects.filter(pk=root.pk).update(manager=big_boss)
    staff = [EmployeeFactory(department=branch, name=f"Staff {n}")
             for n, branch in enumerate(branches)]
    outsider = EmployeeFactory(department=elsewhere, name="Outsider")
    for points, person in enumerate([*staff, big_boss], start=1):
        earn(person, points * 10, now=NOW)
    earn(outsider, 500, now=NOW)
    rollups.fold_pending()

    scope = lb.resolve_scope(big_boss.user, "team")
    assert len(scope.department_ids) == 5
    board = lb.board(viewer=big_boss.user, scope=scope, period=month())
    assert show(board) == [(1, "Big boss", 50), (2, "Staff 3", 40), (3, "Staff 2", 30),
                           (4, "Staff 1", 20), (5, "Staff 0", 10)]
    assert (board.ranked_count, board.me_rank) == (5, 1)


def test_someone_who_left_is_not_shown_or_counted():
    leaver, stayer = EmployeeFactory(name="Leaver"), EmployeeFactory(name="Stayer")
    earn(leaver, 90, now=NOW)
    earn(stayer, 10, now=NOW)
    rollups.fold_pending()
    mark_employee_left(employee=leaver, actor=None)
    rollups.fold_pending()
    board = company_board(stayer)
    assert show(board) == [(1, "Stayer", 10)]
    assert (board.ranked_count, board.me_rank) == (1, 1)


def test_a_page_is_a_handful_of_queries(django_assert_max_num_queries):
    people = [EmployeeFactory() for _n in range(30)]
    for n, person in enumerate(people):
        earn(person, 10 + n, now=NOW)
    rollups.fold_pending()
    viewer = people[0]
    with django_assert_max_num_queries(6):
        board = company_board(viewer)
    assert len(board.rows) == 20 and board.me_rank == 30


def test_the_cached_counts_follow_each_fold():
    first, second = EmployeeFactory(), EmployeeFactory()
    earn(first, 10, now=NOW)
    rollups.fold_pending()
    assert (company_board(second).ranked_count, company_board(second).me_rank) == (1, 0)
    earn(second, 30, now=NOW)
    rollups.fold_pending()
    board = company_board(first)
    assert (board.ranked_count, board.me_rank) == (2, 2)
