"""The library's API: list/search, get, buy with an Idempotency-Key, signed download
links, my library, contributions and their review."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jifen.core.models import AuditEntry
from jifen.library import samples
from jifen.library.models import Purchase, Resource
from jifen.notifications.models import Notification
from jifen.people.services import issue_access_token
from tests.factories import DepartmentFactory
from tests.library.conftest import pdf_upload, spendable, stored_files

pytestmark = pytest.mark.django_db


def bearer(employee, **headers: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {issue_access_token(user=employee.user)[1]}",
            **headers}


def test_list_finds_chinese_words_and_hides_what_is_not_for_me(client, make_resource, buyer):
    make_resource(title="销售岗绩效提升指南", description="面向一线销售的绩效改进方法")
    make_resource(title="招聘技巧大全", description="结构化面试与人才画像")
    make_resource(title="销售激励方案", departments=[DepartmentFactory(code="S", name="销售")])
    found = client.get("/api/v1/library/resources", {"q": "绩效"}, **bearer(buyer)).json()
    assert [r["title"] for r in found["items"]] == ["销售岗绩效提升指南"]
    found = client.get("/api/v1/library/resources", {"q": "面试"}, **bearer(buyer)).json()
    assert [r["title"] for r in found["items"]] == ["招聘技巧大全"]  # inside a description
    every = client.get("/api/v1/library/resources", **bearer(buyer)).json()["items"]
    assert "销售激励方案" not in [r["title"] for r in every]


def test_buy_charges_once_and_replays_with_the_same_key(client, make_resource, buyer):
    resource = make_resource(price=30)
    url = f"/api/v1/library/resources/{resource.pk}/buy"
    first = client.post(url, **bearer(buyer, HTTP_IDEMPOTENCY_KEY="k1"))
    assert first.status_code == 201, first.content
    replay = client.post(url, **bearer(buyer, HTTP_IDEMPOTENCY_KEY="k1"))
    assert replay.json() == first.json() and replay["Idempotent-Replayed"] == "true"
    again = client.post(url, **bearer(buyer, HTTP_IDEMPOTENCY_KEY="k2"))
    assert again.json()["id"] == first.json()["id"]
    assert spendable(buyer) == 70
    mine = client.get("/api/v1/library/mine", **bearer(buyer)).json()["items"]
    assert [r["id"] for r in mine] == [resource.pk] and mine[0]["owned"]


def test_buy_without_enough_points_is_409(client, make_resource, buyer):
    resource = make_resource(price=1000)
    response = client.post(f"/api/v1/library/resources/{resource.pk}/buy", **bearer(buyer))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_points"
    assert not Purchase.objects.exists()


def test_buy_of_a_hidden_resource_is_404(client, make_resource, buyer):
    resource = make_resource(departments=[DepartmentFactory(code="S", name="销售")])
    response = client.post(f"/api/v1/library/resources/{resource.pk}/buy", **bearer(buyer))
    assert response.status_code == 404
    assert client.get(f"/api/v1/library/resources/{resource.pk}", **bearer(buyer)
                      ).status_code == 404


def test_download_link_is_signed_short_lived_and_only_mine(client, make_resource, buyer,
                                                          other_employee):
    resource = make_resource(price=30)
    link = f"/api/v1/library/resources/{resource.pk}/download-link"
    refused = client.post(link, **bearer(buyer))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_available"
    client.post(f"/api/v1/library/resources/{resource.pk}/buy", **bearer(buyer))
    answer = client.post(link, **bearer(buyer)).json()
    url = answer["url"].removeprefix("http://testserver")
    file = client.get(url, **bearer(buyer))
    assert file.status_code == 200
    assert b"".join(file.streaming_content).startswith(b"%PDF-")
    assert client.get(url, **bearer(other_employee)).status_code == 404
    assert client.get(url).status_code == 404


def test_contribution_then_review_by_an_editor(client, buyer, editor, library_root):
    response = client.post("/api/v1/library/contributions", {
        "title": "绩效面谈模板", "description": "季度面谈用", "file": pdf_upload()},
        **bearer(buyer))
    assert response.status_code == 201, response.content
    contribution = response.json()
    assert contribution["review_state"] == "pending" and contribution["status"] == "draft"
    assert client.get("/api/v1/library/resources", **bearer(buyer)).json()["items"] == []
    queue = client.get("/api/v1/library/reviews", **bearer(editor)).json()["items"]
    assert [r["id"] for r in queue] == [contribution["id"]]
    assert client.get("/api/v1/library/reviews", **bearer(buyer)).status_code == 403
    review = f"/api/v1/library/resources/{contribution['id']}/review"
    no_reason = client.post(review, {"approve": False}, content_type="application/json",
                            **bearer(editor))
    assert no_reason.json()["error"]["code"] == "reason_required"
    approved = client.post(review, {"approve": True}, content_type="application/json",
                           **bearer(editor))
    assert approved.json()["status"] == "published"
    assert AuditEntry.objects.filter(action="library.contribution.approve").exists()
    assert Notification.objects.filter(recipient=buyer.user,
                                       kind="library.contribution_approved").exists()
    twice = client.post(review, {"approve": False, "reason": "重复"},
                        content_type="application/json", **bearer(editor))
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_decided"


def test_malicious_contribution_is_a_422_and_stores_nothing(client, buyer, library_root):
    response = client.post("/api/v1/library/contributions", {
        "title": "伪装", "file": SimpleUploadedFile("a.pdf", samples.make_zip({"x": "y"}))},
        **bearer(buyer))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "file_type_mismatch"
    assert not Resource.objects.exists() and stored_files(library_root) == []


def test_oversized_contribution_is_refused_from_its_length(client, buyer, library_root,
                                                          settings):
    settings.LIBRARY_MAX_UPLOAD_BYTES = 1000
    response = client.post("/api/v1/library/contributions", {
        "title": "大", "file": SimpleUploadedFile("a.pdf", b"%PDF-" + b"0" * 300_000)},
        **bearer(buyer))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "file_too_large"
    assert not Resource.objects.exists()


def test_editor_publishes_and_withdraws_and_buyers_keep_it(client, make_resource, editor,
                                                           buyer):
    resource = make_resource(status="draft", price=0)
    assert client.post(f"/api/v1/library/resources/{resource.pk}/buy", **bearer(buyer)
                       ).status_code == 404
    published = client.post(f"/api/v1/library/resources/{resource.pk}/publish",
                            **bearer(editor))
    assert published.json()["status"] == "published"
    assert client.post(f"/api/v1/library/resources/{resource.pk}/buy", **bearer(buyer)
                       ).status_code == 201
    client.post(f"/api/v1/library/resources/{resource.pk}/withdraw", **bearer(editor))
    got = client.get(f"/api/v1/library/resources/{resource.pk}", **bearer(buyer)).json()
    assert got["status"] == "withdrawn" and got["owned"]
    assert client.post(f"/api/v1/library/resources/{resource.pk}/publish", **bearer(buyer)
                       ).status_code == 403
