"""Engagement pages: the home card and the check-in calendar, the comments panel on the
item page, the share landing, and the console's moderation, settings and operators' view
with their exports."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from jifen.library.models import CheckIn, ShareVisit
from jifen.library.services import engagement as services
from jifen.library.services import engagement_comments as comments
from jifen.library.services import engagement_shares as shares
from tests.conftest import login_client
from tests.factories import EmployeeFactory
from tests.library.engage_fixtures import *  # noqa: F403 - the fixtures
from tests.library.engage_fixtures import spendable

pytestmark = pytest.mark.django_db

LONG = "这个耳机音质很好，降噪也不错，推荐给通勤的同事。"
HIDDEN_TEXT = "请加我微信买便宜的积分，绝对靠谱。"


def test_the_home_card_checks_in_with_one_tap(employee, engagement_rules):
    client = login_client(employee.user)
    home = client.get("/").content.decode()
    assert 'data-testid="checkin-button"' in home
    card = client.post("/checkin/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="checked-today"' in card and 'data-testid="checkin-done"' in card
    assert CheckIn.objects.filter(employee=employee).count() == 1
    assert spendable(employee) == 1
    assert 'data-testid="checked-today"' in client.get("/").content.decode()


def test_the_calendar_marks_checked_days_and_the_streak(employee):
    now = timezone.now()
    services.check_in(employee=employee, now=now - timedelta(days=1))
    services.check_in(employee=employee, now=now)
    client = login_client(employee.user)
    page = client.get("/checkin/").content.decode()
    today = services.company_day(now)
    assert f'data-testid="day-{today.day}" data-checked="1"' in page
    assert '<div class="display-5 fw-bold" data-testid="streak">2</div>' in page
    # A month from the future is not shown; nonsense falls back to this month.
    for month in ("2999-01", "junk", "2026-13"):
        assert client.get("/checkin/", {"month": month}).status_code == 200


def test_a_plain_post_checks_in_and_comes_back_to_the_calendar(employee):
    client = login_client(employee.user)
    response = client.post("/checkin/")
    assert response.status_code == 302 and response["Location"] == "/checkin/"
    assert CheckIn.objects.filter(employee=employee).exists()


def test_the_item_page_loads_the_panel_and_the_panel_comments(employee, item,
                                                              engagement_rules):
    client = login_client(employee.user)
    page = client.get(f"/mall/items/{item.pk}/").content.decode()
    assert f'hx-get="/engage/item/{item.pk}/"' in page
    panel = client.post(f"/engage/item/{item.pk}/", {"text": LONG},
                        HTTP_HX_REQUEST="true").content.decode()
    assert LONG in panel and 'data-testid="engagement-notice"' in panel
    assert spendable(employee) == 2
    refused = client.post(f"/engage/item/{item.pk}/", {"text": " "}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 200 and 'data-testid="comment-error"' in refused.content.decode()
    rated = client.post(f"/engage/item/{item.pk}/rate/", {"stars": "5"},
                        HTTP_HX_REQUEST="true").content.decode()
    assert 'aria-pressed="true" data-testid="rate-5"' in rated
    assert client.post(f"/engage/item/{item.pk}/rate/", {"stars": "9"},
                       HTTP_HX_REQUEST="true").status_code == 200
    assert client.get("/engage/item/999999/").status_code == 404
    assert client.get(f"/engage/course/{item.pk}/").status_code == 404


def test_a_hidden_comment_is_gone_from_the_page_the_panel_and_the_export(employee, item,
                                                                         hr_admin):
    comments.post_comment(employee=employee, kind="item", target_id=item.pk,
                          text=LONG)
    hidden, _ = comments.post_comment(employee=EmployeeFactory(), kind="item",
                                      target_id=item.pk, text=HIDDEN_TEXT)
    admin = login_client(hr_admin.user)
    response = admin.post(f"/console/library/moderation/{hidden.pk}/", {"action": "hide"})
    assert response.status_code == 302
    panel = login_client(employee.user).get(f"/engage/item/{item.pk}/",
                                            HTTP_HX_REQUEST="true").content.decode()
    assert LONG in panel and HIDDEN_TEXT not in panel
    export = admin.get("/console/library/engagement/comments.xlsx")
    cells = [c.value for row in load_workbook(io.BytesIO(export.content)).active.iter_rows()
             for c in row]
    assert LONG in cells and HIDDEN_TEXT not in cells
    csv = admin.get("/console/library/engagement/comments.csv").content.decode("utf-8-sig")
    assert LONG in csv and HIDDEN_TEXT not in csv
    hidden_queue = admin.get("/console/library/moderation/", {"status": "hidden"})
    assert HIDDEN_TEXT in hidden_queue.content.decode()


def test_the_share_landing_counts_a_colleague_once_and_not_the_sharer(employee, item,
                                                                      engagement_rules):
    link = shares.create_share_link(employee=employee, kind="item", target_id=item.pk)
    sharer = login_client(employee.user)
    assert sharer.get(f"/s/{link.code}/")["Location"] == f"/mall/items/{item.pk}/"
    colleague = login_client(EmployeeFactory().user)
    for _ in range(2):
        assert colleague.get(f"/s/{link.code}/").status_code == 302
    assert ShareVisit.objects.count() == 1
    assert spendable(employee) == 5
    assert colleague.get("/s/nope/").status_code == 404


def test_the_share_button_shows_the_link(employee, item):
    panel = login_client(employee.user).post(f"/engage/item/{item.pk}/share/",
                                             HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="share-url"' in panel and "/s/" in panel


def test_console_pages_need_the_library_capability(employee, hr_admin):
    for url in ("/console/library/moderation/", "/console/library/engagement/",
                "/console/library/engagement/settings/",
                "/console/library/engagement/export.xlsx"):
        assert login_client(employee.user).get(url).status_code == 403
        assert login_client(hr_admin.user).get(url).status_code == 200


def test_settings_are_saved_from_the_console(hr_admin):
    client = login_client(hr_admin.user)
    response = client.post("/console/library/engagement/settings/", {
        "makeup_window_days": "5", "comment_min_length": "10",
        "sensitive_words": "垃圾\n骗子"})
    assert response.status_code == 302
    current = services.current_settings()
    assert (current.makeup_window_days, current.comment_min_length) == (5, 10)
    assert current.word_list == ["垃圾", "骗子"]
    refused = client.post("/console/library/engagement/settings/", {
        "makeup_cards_enabled": "on", "makeup_window_days": "5", "comment_min_length": "10"})
    assert refused.status_code == 200 and "alert-danger" in refused.content.decode()


def test_the_operators_page_and_its_export_count_check_ins(employee, hr_admin):
    services.check_in(employee=employee)
    client = login_client(hr_admin.user)
    page = client.get("/console/library/engagement/", {"days": "7"}).content.decode()
    assert '<div class="h1 mb-0" data-testid="total-checkins">1</div>' in page
    assert 'id="engagement-data"' in page
    export = client.get("/console/library/engagement/export.xlsx", {"days": "7"})
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert len(rows) == 1 + 7
    assert sum(row[1] for row in rows[1:]) == 1
    assert client.get("/console/library/engagement/export.pdf").status_code == 404


def test_the_engagement_pages_read_in_english(employee, hr_admin, item, engagement_rules):
    import re

    from jifen.core.models import SiteSettings

    cjk = re.compile(r"[\u3001-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
    stored = {employee.name, employee.department.name, hr_admin.name, item.name, "简体中文",
              employee.name[-2:], hr_admin.name[-2:],  # the avatar's initials
              SiteSettings().platform_name}
    services.check_in(employee=employee)
    portal, console = login_client(employee.user), login_client(hr_admin.user)
    for client in (portal, console):
        client.cookies["django_language"] = "en"
    pages = [(portal, "/"), (portal, "/checkin/"), (portal, f"/engage/item/{item.pk}/"),
             (console, "/console/library/moderation/"), (console, "/console/library/engagement/"),
             (console, "/console/library/engagement/settings/")]
    for client, url in pages:
        text = client.get(url).content.decode()
        for name in sorted(stored, key=len, reverse=True):
            text = text.replace(name, "")
        text = re.sub(r'<option value="[^"]*"[^>]*>[^<]*</option>', "", text)
        assert not cjk.findall(text), (url, sorted(set(cjk.findall(text)))[:20])


def test_a_hidden_comment_is_gone_from_a_resource_panel_too(employee, hr_admin):
    """Resources register their kind at merge; the panel is the same for every kind."""
    from jifen.library import targets

    found = targets.TargetInfo(kind="resource", id=7, title="绩效面谈模板", url="/checkin/")
    targets.register_target("resource", lambda pk, who: found if pk == 7 else None)
    try:
        hidden, _ = comments.post_comment(employee=EmployeeFactory(), kind="resource",
                                          target_id=7, text=HIDDEN_TEXT)
        comments.post_comment(employee=employee, kind="resource", target_id=7, text=LONG)
        comments.hide_comment(actor=hr_admin.user, comment_id=hidden.pk)
        panel = login_client(employee.user).get("/engage/resource/7/",
                                                HTTP_HX_REQUEST="true").content.decode()
        assert LONG in panel and HIDDEN_TEXT not in panel
        assert login_client(employee.user).get("/engage/resource/8/").status_code == 404
    finally:
        targets.unregister_target("resource")
        targets.register_resource_target()
