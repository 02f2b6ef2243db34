"""The activity centre (portal) and the console's overview and results pages: what they
show, the notice button, and the exports (formulas neutralised)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from jifen.activities.models import Lottery
from jifen.core.roles import Role
from jifen.notifications.models import Notification
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
)
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db
activities_admin = centre_fixtures.activities_admin


def coming_soon() -> str:
    with translation.override("zh-hans"):
        return translation.gettext("Coming soon")


def test_the_centre_shows_running_upcoming_and_finished_with_my_entries(client, employee,
                                                                         activities_admin):
    fund(employee, 1000)
    now = timezone.now()
    running = make_lottery(title="正在抽奖", entry_cost=20)
    make_lottery(title="下周抽奖", starts_at=now + 7 * 24 * HOUR)
    finished = make_lottery(title="上月抽奖", starts_at=now - 30 * 24 * HOUR,
                            ends_at=now - 29 * 24 * HOUR)
    winner = EmployeeFactory(department=employee.department, name="赵六")
    fund(winner, 100)
    draw(finished, [enter(finished, winner)])
    auction = make_auction(make_item(activities_admin.user), title="耳机竞拍")
    bid(auction, employee, 150)
    enter(running, employee)
    client.force_login(employee.user)

    page = client.get(reverse("portal:activities")).content.decode()
    assert "正在抽奖" in page and "耳机竞拍" in page and "下周抽奖" not in page
    assert 'data-countdown="' in page  # a countdown to the end, with a text fallback
    assert reverse("portal:lottery", args=[running.pk]) in page
    assert reverse("portal:auction", args=[auction.pk]) in page
    mine = page[page.index('data-testid="mine"'):]
    assert "正在抽奖" in mine and "耳机竞拍" in mine

    upcoming = client.get(reverse("portal:activities"), {"tab": "upcoming"}).content.decode()
    assert "下周抽奖" in upcoming and 'data-countdown="' in upcoming
    done = client.get(reverse("portal:activities"), {"tab": "finished"}).content.decode()
    assert "上月抽奖" in done and "赵六" in done
    assert reverse("portal:lottery_verify", args=[finished.pk]) in done


def test_the_centre_says_when_nothing_runs_and_needs_a_login(client, employee):
    assert client.get(reverse("portal:activities")).status_code == 302
    client.force_login(employee.user)
    response = client.get(reverse("portal:activities"))
    assert response.status_code == 200
    assert 'data-testid="empty-section"' in response.content.decode()
    assert coming_soon() not in response.content.decode()


def test_portal_navigation_and_home_link_to_the_centre(client, employee):
    client.force_login(employee.user)
    home = client.get(reverse("portal:home")).content.decode()
    assert home.count(f'href="{reverse("portal:activities")}"') >= 2  # menu and quick link


def test_the_console_list_replaces_coming_soon(client, activities_admin, employee):
    lottery = make_lottery(title="年会抽奖")
    fund(employee, 100)
    enter(lottery, employee)
    enter(lottery, employee)
    make_lottery(title="草稿抽奖", status="draft")
    client.force_login(activities_admin.user)
    response = client.get(reverse("console:activities"))
    page = response.content.decode()
    assert response.status_code == 200 and coming_soon() not in page
    assert "年会抽奖" in page and "草稿抽奖" in page
    assert reverse("console:activities_lottery_new") in page
    assert reverse("console:activities_auction_new") in page
    assert reverse("console:activities_results", args=["lottery", lottery.pk]) in page
    row = page[page.index(f'data-pk="{lottery.pk}"'):]
    assert 'data-testid="participants">1<' in row and 'data-testid="actions">2<' in row
    drafts = client.get(reverse("console:activities"), {"phase": "draft"}).content.decode()
    assert "草稿抽奖" in drafts and "年会抽奖" not in drafts
    # The dashboard no longer marks activities as coming soon.
    sections = {name: soon for name, _t, _i, _d, soon
                in client.get(reverse("console:dashboard")).context["sections"]}
    assert sections["console:activities"] is False


def test_employees_may_not_open_the_console_pages(client, employee):
    lottery = make_lottery()
    client.force_login(employee.user)
    for url in (reverse("console:activities"),
                reverse("console:activities_results", args=["lottery", lottery.pk]),
                reverse("console:activities_export", args=["lottery", lottery.pk, "entries",
                                                           "csv"])):
        assert client.get(url).status_code == 403
    response = client.post(reverse("console:activities_announce", args=["lottery", lottery.pk]))
    assert response.status_code == 403
    assert Lottery.objects.get(pk=lottery.pk).notice_sent_at is None


def test_the_notice_button_sends_once_and_says_so(client, activities_admin, employee):
    lottery = make_lottery(title="年会抽奖")
    client.force_login(activities_admin.user)
    url = reverse("console:activities_announce", args=["lottery", lottery.pk])
    response = client.post(url, {"message": "周五开奖"}, follow=True)
    assert response.status_code == 200
    assert Notification.objects.filter(kind="activities.announced",
                                       recipient=employee.user).count() == 1
    page = response.content.decode()
    assert "年会抽奖" in page and url not in page  # sent: the button is gone
    again = client.post(url, follow=True)
    assert [m.level_tag for m in again.context["messages"]] == ["error"]
    assert Notification.objects.filter(kind="activities.announced",
                                       recipient=employee.user).count() == 1
    assert client.get(url).status_code == 405


def test_results_page_has_live_numbers_charts_data_and_tables(client, activities_admin,
                                                              employee):
    fund(employee, 1000)
    lottery = make_lottery(title="年会抽奖", entry_cost=30)
    enter(lottery, employee)
    enter(lottery, employee)
    client.force_login(activities_admin.user)
    url = reverse("console:activities_results", args=["lottery", lottery.pk])
    response = client.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'hx-trigger="every 10s"' in page and 'id="activity-chart-data"' in page
    assert "/static/vendor/echarts/echarts." in page and "<script>" not in page
    assert 'data-testid="number-actions">2<' in page
    assert 'data-testid="number-points">60<' in page
    partial = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith("<div") and "<html" not in partial
    assert 'data-testid="number-participants">1<' in partial
    data = client.get(reverse("console:activities_results_data",
                              args=["lottery", lottery.pk])).json()
    assert sum(data["counts"]) == 2 and data["prizes"][0]["name"] == "一等奖"
    assert client.get(reverse("console:activities_results", args=["raffle", 1])).status_code \
        == 404
    assert client.get(reverse("console:activities_results",
                              args=["auction", lottery.pk + 999])).status_code == 404


def test_the_centre_page_loads_no_echarts(client, employee):
    client.force_login(employee.user)
    assert "echarts" not in client.get(reverse("portal:activities")).content.decode()


FORMULA = "=HYPERLINK(\"http://evil\",\"x\")"


def test_exports_neutralise_formulas_in_names_and_prizes(client, activities_admin, department):
    sly = EmployeeFactory(department=department, name=FORMULA, employee_no="E666")
    fund(sly, 1000)
    lottery = make_lottery(title="抽奖", tiers=(("+SUM(A1)", 1),),
                           starts_at=timezone.now() - 5 * HOUR, ends_at=timezone.now() - HOUR)
    entry = enter(lottery, sly)
    draw(lottery, [entry])
    auction = make_auction(make_item(activities_admin.user))
    bid(auction, sly, 120)
    client.force_login(activities_admin.user)

    def url(kind, pk, what, fmt):
        return reverse("console:activities_export", args=[kind, pk, what, fmt])

    entries = client.get(url("lottery", lottery.pk, "entries", "csv"))
    assert entries["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(entries.content.decode("utf-8-sig"))))
    assert rows[1][2] == "'" + FORMULA and rows[1][1] == "E666"
    book = load_workbook(io.BytesIO(client.get(url("lottery", lottery.pk, "winners",
                                                   "xlsx")).content))
    sheet = book.active
    values = [cell.value for cell in sheet[2]]
    assert values[1] == "'+SUM(A1)" and values[4] == "'" + FORMULA
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    bids = load_workbook(io.BytesIO(client.get(url("auction", auction.pk, "bids",
                                                   "xlsx")).content)).active
    assert [c.value for c in bids[2]][2] == "'" + FORMULA
    assert client.get(url("auction", auction.pk, "entries", "csv")).status_code == 404
    assert client.get(url("lottery", lottery.pk, "entries", "pdf")).status_code == 404


def test_mall_admins_run_activities(client, make_role_employee):
    admin = make_role_employee(Role.MALL_ADMIN, employee_no="M777")
    client.force_login(admin.user)
    assert client.get(reverse("console:activities")).status_code == 200


def _queries(client, url: str, params: dict | None = None) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url, params or {})  # warm what every page caches (site settings, roles)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params or {}).status_code == 200
    # The reads of activities and what they show (the shell's own reads — session, menu,
    # caches that expire — are not this page's to count).
    return sum(1 for q in captured.captured_queries
               if "activities_" in q["sql"] or "mall_item" in q["sql"]
               or "people_employee" in q["sql"])


def _more_of_everything(admin, people, n: int) -> None:
    for k in range(n):
        lottery = make_lottery(title=f"抽奖{k}")
        auction = make_auction(make_item(admin.user, f"拍品{k}"), title=f"竞拍{k}")
        done = make_lottery(title=f"已开奖{k}", starts_at=timezone.now() - 5 * HOUR,
                            ends_at=timezone.now() - HOUR)
        for person in people:
            enter(lottery, person)
            draw(done, [enter(done, person)]) if person is people[0] else enter(done, person)
        bid(auction, people[k % len(people)], 100 + k)


def test_the_centre_and_console_list_cost_the_same_queries_for_more_activities(
        client, activities_admin, employee):
    from django.test import Client

    other = EmployeeFactory(department=employee.department)
    for person in (employee, other):
        fund(person, 10_000)
    admin_client = Client()
    admin_client.force_login(activities_admin.user)
    client.force_login(employee.user)

    def measure() -> dict:
        counts = {tab: _queries(client, reverse("portal:activities"), {"tab": tab})
                  for tab in ("running", "finished")}
        counts["console"] = _queries(admin_client, reverse("console:activities"))
        return counts

    _more_of_everything(activities_admin, [employee, other], 1)
    few = measure()
    _more_of_everything(activities_admin, [employee, other], 3)
    assert measure() == few


CJK = re.compile(r"[\u3001-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def test_the_activity_pages_in_english_show_no_chinese(client):
    """Data in English, the site language Chinese, the reader English: any Chinese left on
    the page is a word the code failed to translate."""
    from jifen.core.services import update_site_settings

    department = DepartmentFactory(code="HQE", name="Head office")
    admin = EmployeeFactory(department=department, name="Ada Admin", employee_no="A1",
                            roles=[Role.SUPER_ADMIN])
    worker = EmployeeFactory(department=department, name="Wei Zhang", employee_no="W1")
    update_site_settings(actor=admin.user, platform_name="Points Mall")
    fund(worker, 1000)
    now = timezone.now()
    running = make_lottery(title="Tea lottery", tiers=(("First prize", 1),))
    enter(running, worker)
    make_lottery(title="Spring lottery", starts_at=now + 48 * HOUR, tiers=(("Gift", 1),))
    done = make_lottery(title="Year-end lottery", tiers=(("First prize", 1),),
                        starts_at=now - 5 * HOUR, ends_at=now - HOUR)
    draw(done, [enter(done, worker)])
    auction = make_auction(make_item(admin.user, "Headphones"), title="Headphones auction")
    bid(auction, worker, 120)
    make_auction(make_item(admin.user, "Keyboard"), title="Keyboard auction",
                 starts_at=now - 5 * HOUR, ends_at=now - HOUR)
    client.cookies["django_language"] = "en"
    client.force_login(worker.user)
    pages = [reverse("portal:activities") + f"?tab={tab}"
             for tab in ("running", "upcoming", "finished")]
    client_pages = [(client, url) for url in pages]
    from django.test import Client

    console = Client()
    console.cookies["django_language"] = "en"
    console.force_login(admin.user)
    client_pages += [(console, url) for url in (
        reverse("console:activities"),
        reverse("console:activities_results", args=["lottery", running.pk]),
        reverse("console:activities_results", args=["lottery", done.pk]),
        reverse("console:activities_results", args=["auction", auction.pk]))]
    found = []
    for who, url in client_pages:
        page = who.get(url).content.decode()
        page = page.replace("简体中文", "")
        found += [f"{url}: {m.group()!r} near {page[max(0, m.start() - 60):m.end() + 20]!r}"
                  for m in CJK.finditer(page)]
    assert not found, "\n".join(found[:10])
