"""The insights console page, its xlsx downloads, its settings panel and the API: what
each role sees, in its own scope, and the same figures in every form."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from jifen.core.models import AuditEntry
from jifen.core.roles import Role
from jifen.insights.models import DashboardSettings
from jifen.insights.selectors import dashboards
from jifen.integrations.services import create_api_key
from jifen.people.services import issue_access_token
from tests.conftest import login_client
from tests.factories import EmployeeFactory
from tests.insights.dashboards_data import build_company

pytestmark = pytest.mark.django_db
PERIOD = "from=2026-02&to=2026-04"


@pytest.fixture
def company():
    return build_company()


@pytest.fixture
def manager_of_a(company):
    """The manager of A (whose subtree is A and A1)."""
    boss = EmployeeFactory(department=company.a, roles=[Role.MANAGER], name="安经理")
    company.a.manager = boss
    company.a.save(update_fields=["manager"])
    return boss


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_hr_sees_every_chart_with_its_table(company, hr_admin):
    page = login_client(hr_admin.user).get(reverse("console:insights") + f"?{PERIOD}")
    assert page.status_code == 200
    html = page.content.decode()
    for key in dashboards.CHARTS:
        assert f'data-testid="chart-{key}"' in html
        assert f'data-testid="table-{key}"' in html
        assert reverse("console:insights_export", args=[key]) in html
    assert 'id="insights-series"' in html and "<script>" not in html.replace(
        '<script id="insights-series" type="application/json">', "").replace(
        '<script id="insights-words" type="application/json">', "")
    # February–April, the HR admin (an active employee too) included: 0, 0, 10, 16, 20;
    # Σx = 46, Σ i·x = 3·10 + 4·16 + 5·20 = 194; G = 2·194/(5·46) − 6/5 = 0.487
    assert "0.49" in page.context["gini_words"]
    flows = next(c for c in page.context["cards"] if c["key"] == "flows")
    assert flows["cells"] == [["2026-02", 6, 0, 6], ["2026-03", 20, 4, 0],
                              ["2026-04", 20, 5, 0]]


def test_the_page_speaks_english_too(company, hr_admin):
    client = login_client(hr_admin.user)
    html = client.get(reverse("console:insights") + f"?{PERIOD}",
                      HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Points issued, spent and expired" in html or "积分" in html


def test_an_employee_may_not_open_insights(company):
    response = login_client(company.b2.user).get(reverse("console:insights"))
    assert response.status_code in (302, 403)


def test_a_manager_sees_only_their_subtree(company, manager_of_a):
    client = login_client(manager_of_a.user)
    page = client.get(reverse("console:insights") + f"?{PERIOD}")
    assert page.status_code == 200
    flows = next(c for c in page.context["cards"] if c["key"] == "flows")
    # A and A1 only: February 6 issued and expired, March 20 issued 4 spent, April nothing.
    assert flows["cells"] == [["2026-02", 6, 0, 6], ["2026-03", 20, 4, 0], ["2026-04", 0, 0, 0]]
    offered = {d.code for d in page.context["departments"]}
    assert offered == {"A", "A1"}
    assert client.get(reverse("console:insights") + "?department=B").status_code == 404
    assert client.get(reverse("console:insights") + "?department=A1").status_code == 200


def test_bad_months_fall_back_with_a_message(company, hr_admin):
    page = login_client(hr_admin.user).get(reverse("console:insights") + "?from=2026-99")
    assert page.status_code == 200
    assert 'data-testid="filter-problem"' in page.content.decode()


def test_each_chart_downloads_as_xlsx_with_its_table(company, hr_admin):
    client = login_client(hr_admin.user)
    response = client.get(reverse("console:insights_export", args=["flows"]) + f"?{PERIOD}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert len(rows) == 4
    assert rows[1:] == [["2026-02", 6, 0, 6], ["2026-03", 20, 4, 0], ["2026-04", 20, 5, 0]]
    for key in dashboards.CHARTS:
        assert client.get(reverse("console:insights_export", args=[key])
                          + f"?{PERIOD}").status_code == 200
    assert client.get(reverse("console:insights_export", args=["nope"])).status_code == 404


def test_the_inactive_spreadsheet_lists_everyone_not_one_page(company, hr_admin):
    for _ in range(60):
        EmployeeFactory(department=company.b)
    client = login_client(hr_admin.user)
    response = client.get(reverse("console:insights_export", args=["inactive"]) + "?days=30")
    sheet = load_workbook(io.BytesIO(response.content)).active
    # 60 new people with nothing, plus b2 and hr_admin (neither earned nor spent lately)
    assert sheet.max_row - 1 >= 61 > dashboards.INACTIVE_PAGE


def test_hr_sets_the_cny_value_of_a_point_and_it_is_audited(company, hr_admin):
    client = login_client(hr_admin.user)
    response = client.post(reverse("console:insights_settings"), {"cny_per_point": "0.25",
                                                                  "query": PERIOD})
    assert response.status_code == 302 and response["Location"].endswith(f"?{PERIOD}")
    assert DashboardSettings.objects.get().cny_per_point == Decimal("0.25")
    entry = AuditEntry.objects.get(action="insights.settings.update")
    assert entry.before == {"cny_per_point": "0.1000"} or entry.before["cny_per_point"] in (
        "0.10", "0.1", 0.1)
    liability = dashboards.liability(dashboards.filters_for(user=None))
    assert liability.facts["cny_per_point"] == Decimal("0.25")
    client.post(reverse("console:insights_settings"), {"cny_per_point": "-1"})
    client.post(reverse("console:insights_settings"), {"cny_per_point": "abc"})
    assert DashboardSettings.objects.get().cny_per_point == Decimal("0.25")
    assert AuditEntry.objects.filter(action="insights.settings.update").count() == 1


def test_managers_and_auditors_may_not_change_the_value(company, manager_of_a):
    auditor = EmployeeFactory(roles=[Role.AUDITOR])
    for person in (manager_of_a, auditor):
        response = login_client(person.user).post(reverse("console:insights_settings"),
                                                  {"cny_per_point": "9"})
        assert response.status_code == 403
    assert not DashboardSettings.objects.exists()


class TestApi:
    def test_a_reports_key_reads_each_chart(self, client, company):
        key = create_api_key(name="bi", scopes=["reports:read"])[1]
        body = client.get(f"/api/v1/insights/flows?{PERIOD}", **bearer(key)).json()
        assert body["chart"] == "flows"
        assert body["period"] == {"from": "2026-02", "to": "2026-04"}
        assert body["rows"] == [
            {"month": "2026-02", "issued": 6, "spent": 0, "expired": 6},
            {"month": "2026-03", "issued": 20, "spent": 4, "expired": 0},
            {"month": "2026-04", "issued": 20, "spent": 5, "expired": 0}]
        fairness = client.get("/api/v1/insights/fairness?from=2026-03&to=2026-04",
                              **bearer(key)).json()
        assert fairness["facts"]["gini"] == 0.375
        one = client.get("/api/v1/insights/fairness?from=2026-03&to=2026-04&department=B",
                         **bearer(key)).json()
        assert one["facts"]["gini"] == 0.5 and one["department"] == "B"
        for chart in dashboards.CHARTS:
            assert client.get(f"/api/v1/insights/{chart}", **bearer(key)).status_code == 200

    def test_wrong_scope_bad_input_and_unknown_charts(self, client, company):
        other = create_api_key(name="x", scopes=["ledger:read"])[1]
        denied = client.get("/api/v1/insights/flows", **bearer(other))
        assert denied.status_code == 403
        key = create_api_key(name="bi", scopes=["reports:read"])[1]
        assert client.get("/api/v1/insights/nope", **bearer(key)).status_code in (404, 422)
        bad = client.get("/api/v1/insights/flows?from=2026-13", **bearer(key))
        assert bad.status_code == 422 and bad.json()["error"]["code"] in (
            "invalid_period", "validation_error", "invalid")
        reversed_period = client.get("/api/v1/insights/flows?from=2026-05&to=2026-04",
                                     **bearer(key))
        assert reversed_period.status_code == 422
        assert reversed_period.json()["error"]["code"] == "invalid_period"
        unknown = client.get("/api/v1/insights/flows?department=ZZ", **bearer(key))
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "unknown_department"
        assert client.get("/api/v1/insights/inactive?days=45", **bearer(key)).status_code == 422

    def test_a_managers_token_stays_in_their_subtree(self, client, manager_of_a):
        token = issue_access_token(user=manager_of_a.user)[1]
        body = client.get(f"/api/v1/insights/flows?{PERIOD}", **bearer(token)).json()
        assert [r["issued"] for r in body["rows"]] == [6, 20, 0]
        assert client.get("/api/v1/insights/flows?department=B",
                          **bearer(token)).status_code == 404
        plain = EmployeeFactory()
        token = issue_access_token(user=plain.user)[1]
        assert client.get("/api/v1/insights/flows", **bearer(token)).status_code == 403


def test_the_page_reads_a_bounded_number_of_queries(company, hr_admin,
                                                    django_assert_max_num_queries):
    """Every chart is a few aggregate reads, whatever the number of employees or items."""
    client = login_client(hr_admin.user)
    client.get(reverse("console:insights"))  # warm the session and settings caches
    for _ in range(5):
        EmployeeFactory(department=company.b)
    # 35, and one read of the fold time for each of the six charts kept per fold
    with django_assert_max_num_queries(41):
        assert client.get(reverse("console:insights") + f"?{PERIOD}").status_code == 200
