"""A file is served only to whoever owns it (or may take a free one), streamed with byte
ranges; guessing ids, another employee's signed link and an expired link all fail."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from jifen.library.models import Download, Purchase
from jifen.library.services import resources as services
from tests.conftest import login_client
from tests.factories import DepartmentFactory, EmployeeFactory
from tests.library.conftest import spendable

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def download_url(resource) -> str:
    return reverse("portal:library_download", args=[resource.pk])


def test_owner_downloads_the_very_file_again_and_again(make_resource, buyer):
    resource = make_resource(price=30)
    services.buy(resource=resource, employee=buyer)
    client = login_client(buyer.user)
    first = client.get(download_url(resource))
    assert first.status_code == 200
    assert first["Content-Type"] == "application/pdf"
    assert "attachment" in first["Content-Disposition"]
    content = body(first)
    assert content.startswith(b"%PDF-") and len(content) == resource.file_size
    second = client.get(download_url(resource))
    assert body(second) == content
    assert spendable(buyer) == 70  # charged once, whatever the downloads
    assert Download.objects.filter(resource=resource, employee=buyer).count() == 2


def test_a_paid_file_is_not_served_to_someone_who_has_not_paid(make_resource, buyer):
    resource = make_resource(price=30)
    response = login_client(buyer.user).get(download_url(resource))
    assert response.status_code == 404
    assert spendable(buyer) == 100  # a GET never charges
    assert not Purchase.objects.exists()


def test_guessing_ids_of_hidden_drafts_and_others_finds_nothing(make_resource, buyer, editor):
    sales = DepartmentFactory(code="SALES", name="销售部")
    hidden = make_resource(price=0, departments=[sales])
    draft = make_resource(price=0, status="draft")
    client = login_client(buyer.user)
    for resource in (hidden, draft):
        assert client.get(download_url(resource)).status_code == 404
        assert client.get(reverse("portal:library_resource", args=[resource.pk])
                          ).status_code == 404
        assert client.get(reverse("portal:library_preview", args=[resource.pk, 1])
                          ).status_code == 404
    assert client.get(reverse("portal:library_download", args=[99999])).status_code == 404
    anonymous = Client().get(download_url(hidden))
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]


def test_a_free_file_is_served_and_becomes_the_employees(make_resource, buyer):
    resource = make_resource(price=0)
    response = login_client(buyer.user).get(download_url(resource))
    assert response.status_code == 200
    assert body(response).startswith(b"%PDF-")
    assert Purchase.objects.filter(resource=resource, employee=buyer, points=0).exists()


def test_withdrawn_resources_stay_downloadable_for_buyers_only(make_resource, buyer,
                                                               other_employee, editor):
    resource = make_resource(price=0)
    services.buy(resource=resource, employee=buyer)
    services.withdraw_resource(actor=editor.user, resource=resource)
    assert login_client(buyer.user).get(download_url(resource)).status_code == 200
    page = login_client(buyer.user).get(reverse("portal:library_resource", args=[resource.pk]))
    assert page.status_code == 200 and 'data-testid="download"' in page.content.decode()
    # Free or not, a withdrawn resource is no longer given to anyone new.
    assert login_client(other_employee.user).get(download_url(resource)).status_code == 404


def test_files_never_lie_under_media(make_resource, settings, library_root, buyer):
    resource = make_resource(price=0)
    stored = (library_root / resource.file.name).resolve()
    assert stored.is_file()
    assert settings.MEDIA_ROOT.resolve() not in stored.parents
    # Whatever URL the storage would make up for it serves nothing.
    assert login_client(buyer.user).get(f"/media/{resource.file.name}").status_code == 404


# --- signed links (the API's) ----------------------------------------------------------


def signed_url(resource, employee) -> str:
    token = services.download_token(resource=resource, employee=employee)
    return reverse("portal:library_signed_download", args=[token])


def test_signed_link_works_for_its_employee(make_resource, buyer):
    resource = make_resource()
    services.buy(resource=resource, employee=buyer)
    response = login_client(buyer.user).get(signed_url(resource, buyer))
    assert response.status_code == 200 and body(response).startswith(b"%PDF-")


def test_another_employees_signed_link_fails(make_resource, buyer, other_employee):
    resource = make_resource()
    services.buy(resource=resource, employee=buyer)
    stolen = signed_url(resource, buyer)
    assert login_client(other_employee.user).get(stolen).status_code == 404
    assert Client().get(stolen).status_code == 404  # nobody signed in: nothing
    # Nor does a link made for the other employee open what they do not own.
    assert login_client(other_employee.user).get(
        signed_url(resource, other_employee)).status_code == 404
    assert spendable(other_employee) == 100


def test_expired_or_tampered_signed_link_fails(make_resource, buyer, monkeypatch):
    resource = make_resource()
    services.buy(resource=resource, employee=buyer)
    url = signed_url(resource, buyer)
    client = login_client(buyer.user)
    with monkeypatch.context() as patched:  # five minutes later, as far as the link knows
        patched.setattr(services, "DOWNLOAD_LINK_SECONDS", -1)
        assert client.get(url).status_code == 404
    assert client.get(url[:-3] + "xx/").status_code == 404
    assert client.get(url).status_code == 200


# --- byte ranges -----------------------------------------------------------------------


@pytest.fixture
def owned(make_resource, buyer):
    resource = make_resource(price=0)
    services.buy(resource=resource, employee=buyer)
    return resource, login_client(buyer.user)


def test_range_request_gets_206_with_the_asked_bytes(owned):
    resource, client = owned
    whole = body(client.get(download_url(resource)))
    part = client.get(download_url(resource), HTTP_RANGE="bytes=5-14")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 5-14/{len(whole)}"
    assert part["Content-Length"] == "10"
    assert body(part) == whole[5:15]
    tail = client.get(download_url(resource), HTTP_RANGE="bytes=-6")
    assert tail.status_code == 206 and body(tail) == whole[-6:]
    rest = client.get(download_url(resource), HTTP_RANGE=f"bytes={len(whole) - 4}-")
    assert body(rest) == whole[-4:]


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=20-10", "bytes=-0",
                                    "bytes=abc", "lines=1-2"])
def test_unsatisfiable_range_is_416(owned, header):
    resource, client = owned
    response = client.get(download_url(resource), HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{resource.file_size}"


def test_if_range_with_a_stale_etag_sends_the_whole_file(owned):
    resource, client = owned
    etag = client.get(download_url(resource))["ETag"]
    fresh = client.get(download_url(resource), HTTP_RANGE="bytes=0-3", HTTP_IF_RANGE=etag)
    assert fresh.status_code == 206
    stale = client.get(download_url(resource), HTTP_RANGE="bytes=0-3", HTTP_IF_RANGE='"old"')
    assert stale.status_code == 200 and len(body(stale)) == resource.file_size


def test_range_request_of_someone_who_has_not_paid_is_404(make_resource, other_employee):
    resource = make_resource(price=30)
    response = login_client(other_employee.user).get(download_url(resource),
                                                      HTTP_RANGE="bytes=0-10")
    assert response.status_code == 404


def test_employee_of_another_grade_sees_nothing(make_resource, department):
    resource = make_resource(price=0, grades="M1,M2")
    junior = EmployeeFactory(department=department, grade="P3")
    senior = EmployeeFactory(department=department, grade="M2")
    assert login_client(junior.user).get(download_url(resource)).status_code == 404
    assert login_client(senior.user).get(download_url(resource)).status_code == 200
