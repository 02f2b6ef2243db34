"""The engagement API: check in, my month, comments, ratings, share links, moderation."""

from __future__ import annotations

import json

import pytest

from jifen.core.roles import Role
from jifen.integrations.services import create_api_key
from jifen.library.models import Comment, CommentStatus
from jifen.people.services import issue_access_token
from tests.factories import EmployeeFactory
from tests.library.engage_fixtures import *  # noqa: F403 - the fixtures
from tests.library.engage_fixtures import spendable

pytestmark = pytest.mark.django_db

LONG = "这本指南讲得非常清楚，尤其是面谈前的准备清单。"


def auth(employee) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {issue_access_token(user=employee.user)[1]}"}


def send(client, method: str, path: str, body: dict | None, who, **headers):
    call = getattr(client, method)
    return call(path, data=json.dumps(body or {}), content_type="application/json",
                **auth(who), **headers)


def test_check_in_then_again_then_my_month(client, employee, engagement_rules):
    first = send(client, "post", "/api/v1/check-ins", None, employee)
    assert first.status_code == 201, first.content
    assert first.json()["streak"] == 1 and first.json()["earned"] == 1
    again = send(client, "post", "/api/v1/check-ins", None, employee)
    assert again.status_code == 200
    assert again.json()["created"] is False and again.json()["earned"] == 0
    month = client.get("/api/v1/check-ins", **auth(employee)).json()
    assert month["checked_today"] is True and month["streak"] == 1
    assert [d["day"] for d in month["days"]] == [first.json()["day"]]
    assert spendable(employee) == 1
    bad = client.get("/api/v1/check-ins", {"month": "2026-13"}, **auth(employee))
    assert bad.status_code == 422


def test_a_system_key_has_no_me_to_check_in(client, db):
    key = create_api_key(name="erp", scopes=["events:write"])[1]
    response = client.post("/api/v1/check-ins", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "employee_only"


def test_comment_list_rate_and_share_an_item(client, employee, item, engagement_rules):
    posted = send(client, "post", "/api/v1/comments",
                  {"kind": "item", "target_id": item.pk, "text": LONG}, employee,
                  HTTP_IDEMPOTENCY_KEY="c-1")
    assert posted.status_code == 201, posted.content
    assert posted.json()["earned"] == 2
    replay = send(client, "post", "/api/v1/comments",
                  {"kind": "item", "target_id": item.pk, "text": LONG}, employee,
                  HTTP_IDEMPOTENCY_KEY="c-1")
    assert replay.json()["id"] == posted.json()["id"]
    assert Comment.objects.count() == 1
    rated = send(client, "put", "/api/v1/ratings",
                 {"kind": "item", "target_id": item.pk, "stars": 4}, employee)
    assert rated.status_code == 200 and rated.json()["average"] == 4.0
    listed = client.get("/api/v1/comments", {"kind": "item", "target_id": item.pk},
                        **auth(employee)).json()
    assert [c["text"] for c in listed["items"]] == [LONG]
    assert (listed["rating"], listed["ratings"], listed["my_rating"]) == (4.0, 1, 4)
    shared = send(client, "post", "/api/v1/share-links",
                  {"kind": "item", "target_id": item.pk}, employee)
    assert shared.status_code == 200
    assert shared.json()["url"].endswith(f"/s/{shared.json()['code']}/")


@pytest.mark.parametrize("body, status, code", [
    ({"kind": "item", "target_id": 999999, "text": LONG}, 404, "not_found"),
    ({"kind": "course", "target_id": 1, "text": LONG}, 422, "invalid_kind"),
    ({"kind": "item", "target_id": "ITEM", "text": "  "}, 422, "message_required"),
])
def test_bad_comments_are_4xx_and_store_nothing(client, employee, item, body, status, code):
    if body["target_id"] == "ITEM":
        body = {**body, "target_id": item.pk}
    response = send(client, "post", "/api/v1/comments", body, employee)
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert Comment.objects.count() == 0


def test_stars_out_of_range_are_a_422(client, employee, item):
    for stars in (0, 6, "5", 4.5):
        response = send(client, "put", "/api/v1/ratings",
                        {"kind": "item", "target_id": item.pk, "stars": stars}, employee)
        assert response.status_code == 422, (stars, response.content)


def test_hidden_comments_leave_the_api_and_moderation_needs_the_capability(
        client, employee, item, hr_admin):
    comment_id = send(client, "post", "/api/v1/comments",
                      {"kind": "item", "target_id": item.pk, "text": LONG}, employee).json()["id"]
    colleague = EmployeeFactory()
    reported = send(client, "post", f"/api/v1/comments/{comment_id}/report",
                    {"reason": "广告"}, colleague)
    assert reported.status_code == 200 and reported.json()["status"] == "reported"
    assert send(client, "post", f"/api/v1/moderation/comments/{comment_id}",
                {"action": "hide"}, colleague).status_code == 403
    queue = client.get("/api/v1/moderation/comments", **auth(hr_admin)).json()
    assert [(c["id"], c["reports"]) for c in queue["items"]] == [(comment_id, 1)]
    hidden = send(client, "post", f"/api/v1/moderation/comments/{comment_id}",
                  {"action": "hide", "reason": "广告"}, hr_admin)
    assert hidden.status_code == 200 and hidden.json()["status"] == "hidden"
    listed = client.get("/api/v1/comments", {"kind": "item", "target_id": item.pk},
                        **auth(colleague)).json()
    assert listed["items"] == []
    assert send(client, "post", f"/api/v1/comments/{comment_id}/report", {},
                EmployeeFactory()).status_code == 404
    assert Comment.objects.get().status == CommentStatus.HIDDEN


def test_make_up_without_cards_is_a_409(client, employee):
    response = send(client, "post", "/api/v1/check-ins/make-up", {"day": "2026-12-01"},
                    employee)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_available"


def test_a_manager_without_the_library_capability_cannot_moderate(client, make_role_employee):
    manager = make_role_employee(Role.MANAGER)
    response = client.get("/api/v1/moderation/comments", **auth(manager))
    assert response.status_code == 403


def test_settings_and_figures_for_those_who_manage_the_library(client, employee, hr_admin,
                                                              item):
    from jifen.core.models import AuditEntry
    from jifen.library.services import engagement as services

    assert client.get("/api/v1/engagement/settings", **auth(employee)).status_code == 403
    changed = send(client, "patch", "/api/v1/engagement/settings",
                   {"comment_min_length": 20, "sensitive_words": ["刷分", "代刷"]}, hr_admin)
    assert changed.status_code == 200, changed.content
    assert changed.json()["sensitive_words"] == ["刷分", "代刷"]
    assert changed.json()["makeup_cards_enabled"] is False
    refused = send(client, "patch", "/api/v1/engagement/settings",
                   {"makeup_cards_enabled": True}, hr_admin)
    assert refused.status_code == 422
    enabled = send(client, "patch", "/api/v1/engagement/settings",
                   {"makeup_cards_enabled": True, "makeup_item_id": item.pk}, hr_admin)
    assert enabled.json()["makeup_item_id"] == item.pk
    assert AuditEntry.objects.filter(action="library.settings.update").count() == 2
    services.check_in(employee=employee)
    figures = client.get("/api/v1/engagement/figures", {"days": 7}, **auth(hr_admin)).json()
    assert len(figures["days"]) == 7 and figures["days"][-1]["check_ins"] == 1
    assert sum(map(sum, figures["heatmap"])) == 1


def test_a_replayed_make_up_spends_one_card(client, employee, hr_admin, make_item):
    from datetime import timedelta

    from jifen.library.models import MakeUpUse
    from jifen.library.selectors import engagement as selectors
    from jifen.library.services import engagement as services
    from jifen.mall import services as mall
    from tests.mall.conftest import fund

    card = make_item(name="补签卡", points=20, auto_approve=True)
    services.update_engagement_settings(actor=hr_admin.user, makeup_cards_enabled=True,
                                        makeup_item_id=card.pk)
    fund(employee, 100)
    mall.create_order(employee=employee, item=card, quantity=2, idempotency_key="cards")
    day = (selectors.today() - timedelta(days=2)).isoformat()
    answers = [send(client, "post", "/api/v1/check-ins/make-up", {"day": day}, employee,
                    HTTP_IDEMPOTENCY_KEY="mend-1") for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["made_up"] is True
    assert MakeUpUse.objects.count() == 1
    again = send(client, "post", "/api/v1/check-ins/make-up", {"day": day}, employee)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_checked_in"
