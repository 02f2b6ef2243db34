"""The minute's fold refreshes what people have been looking at — the dashboard's default
view and the company's leaderboards — so the next reader gets the new figures without
computing them (decision 0037); with nobody looking, the worker computes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from jifen.insights.selectors import dashboards
from jifen.insights.selectors import leaderboard as lb
from jifen.insights.services.dashboards import update_dashboard_settings
from jifen.insights.tasks import fold_rollups_task
from tests.factories import EmployeeFactory
from tests.ledger.helpers import earn

pytestmark = pytest.mark.django_db


def default_fairness() -> tuple[dashboards.Chart, int]:
    """The fairness chart as an HR person opening the dashboards sees it, and the number
    of queries reading it took."""
    with translation.override("zh-hans"), CaptureQueriesContext(connection) as queries:
        found = dashboards.chart("fairness", dashboards.filters_for(user=None))
    return found, len(queries)


def test_nobody_looking_means_nothing_computed():
    earn(EmployeeFactory(), 30)
    with CaptureQueriesContext(connection) as queries:
        fold_rollups_task.call()
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert reads and not any("insights_standing" in sql or "insights_employeemonth" in sql
                             for sql in reads)


def test_after_the_fold_the_default_dashboard_is_read_with_the_new_points():
    ann, bob = EmployeeFactory(), EmployeeFactory()
    earn(ann, 30)
    fold_rollups_task.call()
    before, computing = default_fairness()  # someone opens the dashboards
    assert before.facts["people"] >= 2 and computing > 1

    earn(bob, 50)
    fold_rollups_task.call()
    after, reading = default_fairness()
    assert reading == 1  # the fold's time, to find what the worker kept
    assert after.facts["gini"] != before.facts["gini"]
    cache.clear()
    assert default_fairness()[0].facts == after.facts  # what it would compute now


def test_after_the_fold_the_company_leaderboard_is_read_with_the_new_points():
    ann, bob = EmployeeFactory(name="Ann"), EmployeeFactory(name="Bob")
    earn(ann, 30)
    fold_rollups_task.call()

    def board() -> tuple[lb.Board, int]:
        with CaptureQueriesContext(connection) as queries:
            found = lb.board(viewer=bob.user, scope=lb.Scope("company"),
                             period=lb.current_period("month"))
        return found, len(queries)

    first, computing = board()  # someone opens the leaderboard
    assert (first.ranked_count, first.me_rank) == (1, 0)

    earn(bob, 50)
    fold_rollups_task.call()
    after, reading = board()
    assert (after.ranked_count, after.me_rank) == (2, 1)
    assert reading == computing - 1  # the ladder of everyone's points was not read again


def test_a_new_value_of_a_point_shows_in_the_liability_at_once():
    earn(EmployeeFactory(), 200)
    fold_rollups_task.call()
    everyone = dashboards.filters_for(user=None)
    update_dashboard_settings(actor=None, cny_per_point="0.10")
    assert dashboards.chart("liability", everyone).facts["outstanding_cny"] == Decimal("20.00")
    update_dashboard_settings(actor=None, cny_per_point="0.50")  # within the same minute
    assert dashboards.chart("liability", everyone).facts["outstanding_cny"] == Decimal("100.00")
