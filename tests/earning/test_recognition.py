"""Thanking a colleague by name (#12): the people picker's endpoint, a typed name resolved
without script, company values as tags, @mentions kept as references and shown as links,
the company values an admin edits — on the page and through the API."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from jifen.core import errors
from jifen.core.models import AuditEntry
from jifen.earning import services
from jifen.earning.models import CompanyValue, Recognition
from jifen.integrations.services import create_api_key
from jifen.ledger.selectors import balance
from jifen.people.models import EmployeeStatus
from jifen.people.services import issue_access_token
from tests.conftest import login_client
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(department):
    services.ensure_company_values()
    rd = DepartmentFactory(code="RD", name="研发中心", parent=department)
    return {
        "me": EmployeeFactory(department=rd, name="李雷", employee_no="E001"),
        "zhang": EmployeeFactory(department=rd, name="张伟", employee_no="E002"),
        "zhang2": EmployeeFactory(department=department, name="张伟", employee_no="E003"),
        "han": EmployeeFactory(department=rd, name="韩梅梅", employee_no="E004"),
        "shan": EmployeeFactory(department=rd, name="单丽", employee_no="E005"),
    }


def value(name: str) -> CompanyValue:
    return CompanyValue.objects.get(name=name)


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def post_json(client: Client, path: str, body: dict, token: str, method: str = "post"):
    return getattr(client, method)(path, data=json.dumps(body),
                                   content_type="application/json", **bearer(token))


# --- the service --------------------------------------------------------------------------


def test_a_thank_you_carries_several_values_and_the_mentions_its_message_names(
        team, verify_clean):
    gift = services.give_recognition(
        giver=team["me"], recipient=team["zhang"], points=10,
        message="谢谢 @韩梅梅 和你一起熬夜", values=[value("团队合作"), value("敬业")],
        mentions=[team["han"], team["shan"], team["me"]])
    assert [v.name for v in gift.values.all()] == ["团队合作", "敬业"]
    assert gift.value == value("团队合作")  # what older readers of one value see
    # 单丽 was picked but her "@单丽" is no longer in the message; the giver is never kept.
    assert list(gift.mentions.all()) == [team["han"]]
    assert balance(employee=team["zhang"]).spendable == 10
    verify_clean()


def test_a_colleague_who_left_cannot_be_mentioned(team):
    team["han"].status = EmployeeStatus.LEFT
    team["han"].save()
    with pytest.raises(errors.ValidationError) as refused:
        services.give_recognition(giver=team["me"], recipient=team["zhang"], points=1,
                                  message="@韩梅梅 谢谢", mentions=[team["han"]])
    assert refused.value.code == "inactive_employee"
    assert not Recognition.objects.exists()


def test_a_value_out_of_use_or_too_many_values_are_refused(team):
    retired = value("激情")
    services.update_company_value(actor=None, value=retired, active=False)
    with pytest.raises(errors.ValidationError):
        services.give_recognition(giver=team["me"], recipient=team["zhang"], points=1,
                                  message="谢谢", values=[retired])
    with pytest.raises(errors.ValidationError):
        services.give_recognition(giver=team["me"], recipient=team["zhang"], points=1,
                                  message="谢谢", values=list(CompanyValue.objects.all()))
    assert not Recognition.objects.exists()


def test_the_starting_values_have_english_names(team):
    assert value("团队合作").name_en == "Teamwork"
    with translation.override("en"):
        assert value("团队合作").label == "Teamwork"
    with translation.override("zh-hans"):
        assert value("团队合作").label == "团队合作"


# --- the page -----------------------------------------------------------------------------


def test_the_picker_endpoint_finds_colleagues_by_initials_but_not_me(team):
    client = login_client(team["me"].user)
    url = reverse("portal:recognition_people")
    items = client.get(url, {"q": "zw"}).json()["items"]
    assert [i["employee_no"] for i in items] == ["E002", "E003"]
    assert items[0]["department"] == "研发中心" and items[0]["avatar"]["initials"] == "张伟"
    assert client.get(url, {"q": "ll"}).json()["items"] == []  # 李雷 is me
    assert Client().get(url, {"q": "zw"}).status_code == 302  # to the sign-in page


def test_a_typed_name_is_enough_without_the_picker(team, verify_clean):
    client = login_client(team["me"].user)
    response = client.post(reverse("portal:recognition"), {
        "recipient": "hmm", "points": "5", "message": "谢谢"})
    assert response.status_code == 302
    assert Recognition.objects.get().recipient == team["han"]
    verify_clean()


def test_a_name_two_people_share_asks_which_one(team):
    client = login_client(team["me"].user)
    response = client.post(reverse("portal:recognition"), {
        "recipient": "张伟", "points": "5", "message": "谢谢"})
    assert response.status_code == 422
    page = response.content.decode()
    assert "E002" in page and "E003" in page and "研发中心" in page
    assert not Recognition.objects.exists()


def test_the_picked_colleague_tags_and_mentions_show_on_the_feed(team, verify_clean):
    client = login_client(team["me"].user)
    response = client.post(reverse("portal:recognition"), {
        "recipient": "张伟", "recipient_no": "E003", "points": "8",
        "values": [value("客户第一").pk, value("诚信").pk],
        "message": "谢谢 @韩梅梅 <b>帮忙</b>", "mentions": "E004"})
    assert response.status_code == 302, response.content.decode()
    gift = Recognition.objects.get()
    assert gift.recipient == team["zhang2"]
    page = client.get(reverse("portal:recognition")).content.decode()
    feed = page[page.index('data-testid="recognition-feed"'):]
    assert "客户第一" in feed and "诚信" in feed
    link = re.search(r'<a class="jf-mention" href="([^"]+)"[^>]*>@韩梅梅</a>', feed)
    assert link and link.group(1) == "/earn/thanks/?person=E004"
    # What people type never becomes HTML.
    assert "&lt;b&gt;帮忙&lt;/b&gt;" in feed and "<b>帮忙" not in feed
    # The link opens the thank-yous about 韩梅梅, the one that mentions her among them.
    about = client.get(link.group(1)).content.decode()
    assert "&lt;b&gt;帮忙" in about
    verify_clean()


def test_thanks_pages_have_one_h1_and_every_input_a_label(team):
    team["rd"] = team["me"].department
    team["rd"].manager = team["me"]
    team["rd"].save()
    client = login_client(team["me"].user)
    for name in ("portal:recognition", "portal:team_awards"):
        page = client.get(reverse(name)).content.decode()
        assert page.count("<h1") == 1, name
        for field in re.findall(r'<(?:input|textarea|select)\b[^>]*>', page):
            if 'type="hidden"' in field:
                continue
            field_id = re.search(r'id="([^"]+)"', field)
            assert field_id, field
            assert f'for="{field_id.group(1)}"' in page, field


def test_the_portal_menu_links_to_the_thanks_page(team):
    page = login_client(team["me"].user).get(reverse("portal:home")).content.decode()
    assert f'href="{reverse("portal:recognition")}"' in page


# --- company values, console and API -------------------------------------------------------


def test_hr_renames_adds_and_retires_values_in_the_console(team, hr_admin):
    client = login_client(hr_admin.user)
    url = reverse("console:company_values")
    assert client.get(url).status_code == 200
    teamwork = value("团队合作")
    response = client.post(url, {"value": teamwork.pk, f"v{teamwork.pk}-name": "协作",
                                 f"v{teamwork.pk}-name_en": "Collaboration"})
    assert response.status_code == 302
    teamwork.refresh_from_db()
    assert (teamwork.name, teamwork.name_en, teamwork.active) == ("协作", "Collaboration", False)
    assert client.post(url, {"new-name": "创新", "new-name_en": "Innovation"}).status_code == 302
    assert value("创新").name_en == "Innovation"
    assert client.post(url, {"new-name": "创新"}).status_code == 422  # taken
    assert AuditEntry.objects.filter(action__startswith="earning.value.").count() == 2
    assert login_client(team["me"].user).get(url).status_code == 403


def test_the_api_lists_values_and_admins_change_them(client, team):
    token = issue_access_token(user=team["me"].user)[1]
    listed = client.get("/api/v1/company-values", **bearer(token)).json()
    assert {"name": "团队合作", "name_en": "Teamwork"}.items() <= listed[1].items()
    assert post_json(client, "/api/v1/company-values", {"name": "创新"}, token).status_code == 403
    admin = create_api_key(name="t", scopes=["admin"])[1]
    created = post_json(client, "/api/v1/company-values",
                        {"name": "创新", "name_en": "Innovation"}, admin)
    assert created.status_code == 201, created.content
    again = post_json(client, "/api/v1/company-values", {"name": "创新"}, admin)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "conflict")
    patched = post_json(client, f"/api/v1/company-values/{created.json()['id']}",
                        {"active": False}, admin, method="patch")
    assert patched.json()["active"] is False
    names = [v["name"] for v in client.get("/api/v1/company-values", **bearer(token)).json()]
    assert "创新" not in names


def test_the_api_takes_values_and_mentions_and_the_feed_returns_them(client, team,
                                                                      verify_clean):
    token = issue_access_token(user=team["me"].user)[1]
    response = post_json(client, "/api/v1/recognitions", {
        "recipient_employee_no": "E002", "points": 5, "message": "多谢 @单丽 的提醒",
        "values": ["Teamwork", "诚信"], "mentions": ["E005"]}, token)
    assert response.status_code == 201, response.content
    assert (response.json()["values"], response.json()["mentions"]) == (
        ["团队合作", "诚信"], ["E005"])
    item = client.get("/api/v1/recognitions", **bearer(token)).json()["items"][0]
    assert item["values"] == ["团队合作", "诚信"] and item["value"] == "团队合作"
    assert item["mentions"] == [{"employee_no": "E005", "name": "单丽"}]
    unknown = post_json(client, "/api/v1/recognitions", {
        "recipient_employee_no": "E002", "points": 5, "message": "@某人", "mentions": ["NOPE"]},
        token)
    assert unknown.json()["error"]["code"] == "unknown_employee"
    verify_clean()


def test_the_english_page_shows_the_values_english_names(team):
    services.give_recognition(giver=team["han"], recipient=team["zhang"], points=1,
                              message="thanks", values=[value("团队合作")])
    client = login_client(team["me"].user)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("portal:recognition"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Teamwork" in page and "Customer first" in page
    assert "团队合作" not in page and "客户第一" not in page


def test_the_feed_costs_the_same_queries_for_one_thank_you_or_many(
        team, django_assert_max_num_queries):
    client = login_client(team["me"].user)

    def give(n: int) -> None:
        for _ in range(n):
            services.give_recognition(giver=team["han"], recipient=team["zhang"], points=1,
                                      message="谢谢 @单丽", values=[value("诚信"), value("敬业")],
                                      mentions=[team["shan"]])

    give(1)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("portal:recognition"))
    give(9)
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(reverse("portal:recognition"))
