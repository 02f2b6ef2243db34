"""The library's pages: the portal's library, resource, buying, my library, contribute;
the console's resources, editing, publishing, review queue and operators' view."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from jifen.core.models import AuditEntry
from jifen.library.models import Resource, ResourceView
from jifen.library.services import resources as services
from tests.conftest import login_client
from tests.library.conftest import pdf_upload, spendable

pytestmark = pytest.mark.django_db


def test_resource_page_shows_price_balance_and_previews_then_buying_works(make_resource,
                                                                        buyer):
    resource = make_resource(price=30)
    client = login_client(buyer.user)
    page = client.get(reverse("portal:library_resource", args=[resource.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="confirm-price">30' in text
    assert 'data-testid="confirm-balance">100' in text
    assert text.count('data-testid="preview-page"') == 2
    assert ResourceView.objects.filter(resource=resource, employee=buyer).count() == 1
    preview = client.get(reverse("portal:library_preview", args=[resource.pk, 1]))
    assert preview.status_code == 200 and preview["Content-Type"] == "image/png"
    bought = client.post(reverse("portal:library_buy", args=[resource.pk]))
    assert bought.status_code == 302
    assert spendable(buyer) == 70
    again = client.get(reverse("portal:library_resource", args=[resource.pk])).content.decode()
    assert 'data-testid="download"' in again and 'data-testid="buy"' not in again
    mine = client.get(reverse("portal:library_mine")).content.decode()
    assert resource.title in mine


def test_a_poor_employee_sees_what_is_missing_and_cannot_buy(make_resource, employee):
    resource = make_resource(price=30)
    client = login_client(employee.user)
    text = client.get(reverse("portal:library_resource", args=[resource.pk])).content.decode()
    assert 'data-testid="buy" disabled' in text
    client.post(reverse("portal:library_buy", args=[resource.pk]))
    assert not resource.purchases.exists()


def test_library_home_filters(make_resource, buyer):
    make_resource(title="免费资料", price=0)
    make_resource(title="付费资料", price=10)
    client = login_client(buyer.user)
    free = client.get(reverse("portal:library"), {"price": "free"}).content.decode()
    assert "免费资料" in free and "付费资料" not in free


def test_contributing_from_the_portal(employee, library_root):
    client = login_client(employee.user)
    assert client.get(reverse("portal:library_contribute")).status_code == 200
    response = client.post(reverse("portal:library_contribute"), {
        "title": "客服面谈实例", "description": "脱敏案例", "file": pdf_upload()})
    assert response.status_code == 302
    resource = Resource.objects.get(title="客服面谈实例")
    assert resource.contributor == employee and resource.review_state == "pending"
    assert resource.status == "draft"


def test_console_pages_need_the_capability(make_resource, employee, editor):
    resource = make_resource()
    for name, args in (("console:library_resources", []), ("console:library_reviews", []),
                       ("console:library_insights", []),
                       ("console:library_resource_edit", [resource.pk]),
                       ("console:library_file", [resource.pk])):
        assert login_client(employee.user).get(reverse(name, args=args)).status_code == 403
        assert login_client(editor.user).get(reverse(name, args=args)).status_code == 200


def test_editor_creates_publishes_and_withdraws_from_the_console(editor, library_root):
    client = login_client(editor.user)
    response = client.post(reverse("console:library_resource_new"), {
        "title": "薪酬结构设计指南", "description": "宽带薪酬", "price": 50, "kind": "file",
        "status": "draft", "file": pdf_upload("薪酬.pdf")})
    assert response.status_code == 302, response.content.decode()[:2000]
    resource = Resource.objects.get(title="薪酬结构设计指南")
    client.post(reverse("console:library_resource_status", args=[resource.pk, "publish"]))
    resource.refresh_from_db()
    assert resource.status == "published"
    client.post(reverse("console:library_resource_status", args=[resource.pk, "withdraw"]))
    resource.refresh_from_db()
    assert resource.status == "withdrawn"
    actions = set(AuditEntry.objects.filter(object_type="library.resource",
                                            object_id=str(resource.pk))
                  .values_list("action", flat=True))
    assert actions == {"library.resource.create", "library.resource.publish",
                       "library.resource.withdraw"}
    edited = client.post(reverse("console:library_resource_edit", args=[resource.pk]), {
        "title": "薪酬结构设计指南（新版）", "price": 60, "kind": "file"})
    assert edited.status_code == 302
    resource.refresh_from_db()
    assert resource.title.endswith("（新版）") and resource.price == 60
    assert resource.file  # the file stays when none is uploaded


def test_review_queue_approves_and_rejects(employee, editor, library_root):
    first = services.submit_contribution(employee=employee, title="带教计划",
                                         upload=pdf_upload())
    second = services.submit_contribution(employee=employee, title="年会方案",
                                          upload=SimpleUploadedFile("年会.pdf",
                                                                    pdf_upload().read()))
    client = login_client(editor.user)
    page = client.get(reverse("console:library_reviews")).content.decode()
    assert "带教计划" in page and "年会方案" in page
    client.post(reverse("console:library_reviews"), {"resource": first.pk,
                                                      "decision": "approve"})
    client.post(reverse("console:library_reviews"), {"resource": second.pk,
                                                      "decision": "reject", "reason": ""})
    second.refresh_from_db()
    assert second.review_state == "pending"  # a rejection needs its reason
    client.post(reverse("console:library_reviews"), {"resource": second.pk,
                                                      "decision": "reject", "reason": "重复"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.review_state, first.status) == ("approved", "published")
    assert (second.review_state, second.review_reason) == ("rejected", "重复")


def test_operators_view_and_its_export(make_resource, buyer, other_employee, editor):
    resource = make_resource(price=30)
    for person in (buyer, other_employee):
        services.record_view(resource=resource, employee=person)
    services.buy(resource=resource, employee=buyer)
    client = login_client(editor.user)
    page = client.get(reverse("console:library_insights")).content.decode()
    assert resource.title in page and "50%" in page
    export = client.get(reverse("console:library_insights_export"))
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:5] == (resource.title, 2, 0, 1, 30)
    assert rows[1][5] == 0.5


def test_editors_see_the_previews_of_drafts_employees_do_not(make_resource, editor, employee):
    draft = make_resource(status="draft")
    url = reverse("portal:library_preview", args=[draft.pk, 1])
    assert login_client(editor.user).get(url).status_code == 200
    assert login_client(employee.user).get(url).status_code == 404
