"""The points dashboards' numbers on a small company worked out by hand
(tests/insights/dashboards_data.py): flows, categories, per head, liability with its
expiry buckets and breakage, inactive employees and fairness (Gini)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jifen.core import errors
from jifen.insights.selectors import dashboards
from jifen.insights.selectors.dashboards import Filters
from jifen.people.models import EmployeeStatus
from tests.factories import EmployeeFactory
from tests.insights.dashboards_data import NOW, build_company

pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    return build_company()


def everyone(start: str = "2026-02", end: str = "2026-04", department: str | None = None):
    return dashboards.filters_for(user=None, start=start, end=end, department=department,
                                  now=NOW)


def test_gini_of_a_known_list():
    # sorted 0, 10, 10, 20: Σx = 40, Σ i·x = 1·0 + 2·10 + 3·10 + 4·20 = 130
    # G = 2·130 / (4·40) − 5/4 = 1.625 − 1.25 = 0.375
    assert dashboards.gini([10, 0, 20, 10]) == 0.375
    assert dashboards.gini([5, 5, 5]) == 0
    assert dashboards.gini([0, 0, 0, 9]) == 0.75  # 2·4·9/(4·9) − 5/4
    assert dashboards.gini([]) == 0


def test_issued_spent_and_expired_per_month(company):
    chart = dashboards.flows(everyone())
    assert chart.rows == [
        {"month": "2026-02", "issued": 6, "spent": 0, "expired": 6},
        {"month": "2026-03", "issued": 20, "spent": 4, "expired": 0},
        {"month": "2026-04", "issued": 20, "spent": 5, "expired": 0},
    ]
    assert chart.series["issued"] == [6, 20, 20]


def test_flows_follow_the_department_subtree_and_the_period(company):
    a_subtree = dashboards.flows(everyone(department="A"))  # A and its child A1
    assert [(r["month"], r["issued"], r["spent"], r["expired"]) for r in a_subtree.rows] == [
        ("2026-02", 6, 0, 6), ("2026-03", 20, 4, 0), ("2026-04", 0, 0, 0)]
    only_a1 = dashboards.flows(everyone(department="A1"))
    assert [r["issued"] for r in only_a1.rows] == [6, 10, 0]
    march = dashboards.flows(everyone("2026-03", "2026-03"))
    assert march.rows == [{"month": "2026-03", "issued": 20, "spent": 4, "expired": 0}]


def test_points_issued_by_category(company):
    chart = dashboards.categories(everyone("2026-03", "2026-04"))
    assert [(r["code"], r["points"], r["share"]) for r in chart.rows] == [
        ("learning", 30, 75.0), ("teamwork", 10, 25.0)]
    learning = chart.series["categories"][0]  # the largest first
    assert learning["data"] == [10, 20]  # March, April


def test_points_per_head_by_department(company):
    EmployeeFactory(department=company.b, status=EmployeeStatus.LEFT)  # not a head
    chart = dashboards.per_head(everyone("2026-03", "2026-04"))
    rows = {r["department"]: (r["headcount"], r["issued"], r["per_head"]) for r in chart.rows}
    # A: a1 10; A1: a2 10; B: b1 20 over two heads
    assert rows == {"研发部": (1, 10, 10.0), "平台组": (1, 10, 10.0), "销售部": (2, 20, 10.0)}
    feb = dashboards.per_head(everyone("2026-02", "2026-02"))
    assert {r["department"]: r["per_head"] for r in feb.rows} == {
        "研发部": 0.0, "平台组": 6.0, "销售部": 0.0}


def test_liability_buckets_and_projected_breakage(company):
    chart = dashboards.liability(everyone(), now=NOW, rate=Decimal("0.10"))
    # Balances: a1 10−4 = 6, a2 10, b1 20−5 = 15 (10 in the wallet, 5 held), b2 3.
    assert chart.facts["outstanding"] == 34
    assert chart.facts["outstanding_cny"] == Decimal("3.40")
    # Expiry from 15 Apr: a1's 6 on 1 May (16 days), a2's 10 on 30 Jun (76 days),
    # b1's 15 on 31 Dec (260 days), b2's 3 never.
    points = {r["code"]: r["points"] for r in chart.rows}
    assert points == {"30": 6, "90": 10, "365": 15, "later": 0, "never": 3}
    # Last 12 whole months (Apr 2025 – Mar 2026): 6 expired, 4 spent → rate 6/10 = 0.6;
    # points that can expire 6 + 10 + 15 = 31 → breakage 18.6 points = ¥1.86.
    assert chart.facts["breakage_rate"] == Decimal("0.6")
    assert {r["code"]: r["breakage"] for r in chart.rows} == {
        "30": 3.6, "90": 6.0, "365": 9.0, "later": 0, "never": 0}
    assert chart.facts["breakage"] == 18.6
    assert chart.facts["breakage_cny"] == Decimal("1.86")


def test_liability_of_one_department_and_the_configured_value(company):
    chart = dashboards.liability(everyone(department="B"), now=NOW, rate=Decimal("0.25"))
    assert chart.facts["outstanding"] == 18
    assert chart.facts["outstanding_cny"] == Decimal("4.50")
    assert chart.facts["breakage_rate"] == 0  # B neither spent nor lost points before April
    assert chart.facts["breakage"] == 0


def test_inactive_employees_by_whole_months(company):
    thirty = dashboards.inactive(everyone(), days=30, now=NOW)  # since 1 March
    assert thirty.rows == [{"employee_no": company.b2.employee_no, "name": "白二",
                            "department": "销售部", "last_active": "2026-01"}]
    assert thirty.facts["total"] == 1 and thirty.facts["headcount"] == 4
    assert thirty.facts["since"] == "2026-03"
    assert dashboards.inactive(everyone(), days=90, now=NOW).rows == []  # since 1 January
    assert dashboards.inactive(everyone(department="A"), days=30, now=NOW).rows == []
    with pytest.raises(errors.ValidationError):
        dashboards.inactive(everyone(), days=45, now=NOW)


def test_inactive_employees_are_paged(company):
    for _ in range(3):
        EmployeeFactory(department=company.b)
    first = dashboards.inactive(everyone(), days=30, size=2, now=NOW)
    second = dashboards.inactive(everyone(), days=30, page=2, size=2, now=NOW)
    assert first.facts["total"] == 4 and first.facts["pages"] == 2
    assert len(first.rows) == 2 and len(second.rows) == 2
    assert {r["employee_no"] for r in first.rows}.isdisjoint(
        {r["employee_no"] for r in second.rows})


def test_fairness_gini_and_spread(company):
    chart = dashboards.fairness(everyone("2026-03", "2026-04"))
    # Earned in March–April: a1 10, a2 10, b1 20, b2 0 → Gini 0.375 (see above).
    assert chart.facts["gini"] == 0.375
    assert chart.facts["people"] == 4
    # mean 40/4 = 10; median (10+10)/2 = 10; p10 rank ⌈0.4⌉ = 1 → 0; p90 rank ⌈3.6⌉ = 4 → 20
    assert (chart.facts["mean"], chart.facts["median"], chart.facts["p10"],
            chart.facts["p90"]) == (10, 10, 0, 20)
    rows = {(r["kind"], r["value"]): (r["people"], r["mean"], r["median"], r["p10"], r["p90"],
                                      r["gini"]) for r in chart.rows}
    assert rows == {
        ("department", "研发部"): (1, 10, 10, 10, 10, 0),
        ("department", "平台组"): (1, 10, 10, 10, 10, 0),
        # B: [0, 20]: G = 2·(2·20)/(2·20) − 3/2 = 0.5
        ("department", "销售部"): (2, 10, 10, 0, 20, 0.5),
        ("grade", "P5"): (2, 10, 10, 10, 10, 0),
        ("grade", "P6"): (2, 10, 10, 0, 20, 0.5),
    }


def test_fairness_of_one_department(company):
    chart = dashboards.fairness(everyone("2026-03", "2026-04", department="B"))
    assert chart.facts["gini"] == 0.5 and chart.facts["people"] == 2


def test_bad_filters_are_refused():
    with pytest.raises(errors.ValidationError) as bad:
        dashboards.filters_for(user=None, start="2026-13", now=NOW)
    assert bad.value.code == errors.ErrorCode.INVALID_PERIOD
    with pytest.raises(errors.ValidationError):
        dashboards.filters_for(user=None, start="2026-05", end="2026-04", now=NOW)
    with pytest.raises(errors.NotFound):
        dashboards.filters_for(user=None, department="nope", now=NOW)


def test_default_period_is_the_last_twelve_months():
    filters = dashboards.filters_for(user=None, now=NOW)
    assert (filters.start, filters.end) == (date(2025, 5, 1), date(2026, 4, 1))
    assert len(Filters(start=date(2025, 11, 1), end=date(2026, 2, 1)).months) == 4
