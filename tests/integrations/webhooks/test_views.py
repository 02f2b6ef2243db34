"""The webhook pages: an admin adds an endpoint, sees its secret once, sends a test, reads
the delivery log and redelivers; other roles are kept out."""

from __future__ import annotations

import pytest

from jifen.integrations.models import WebhookDelivery, WebhookEndpoint
from jifen.integrations.webhooks import services
from tests.conftest import login_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(super_admin, settings):
    settings.JIFEN_OUTBOUND_ALLOW_HOSTS = ["127.0.0.1"]
    return login_client(super_admin.user)


def test_adding_an_endpoint_shows_its_secret_once(admin):
    page = admin.post("/console/webhooks/", {"url": "http://127.0.0.1:9/h",
                                             "event_types": ["order.placed"]})
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert b"whsec_" in page.content
    assert WebhookEndpoint.objects.get().event_types == ["order.placed"]
    again = admin.get("/console/webhooks/")
    assert b"whsec_" not in again.content and b"http://127.0.0.1:9/h" in again.content


def test_a_private_address_is_refused_on_the_form(admin, settings):
    settings.JIFEN_OUTBOUND_ALLOW_HOSTS = []
    page = admin.post("/console/webhooks/", {"url": "http://127.0.0.1:9/h",
                                             "event_types": ["order.placed"]})
    assert "JIFEN_OUTBOUND_ALLOW_HOSTS" in page.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_test_event_log_redeliver_rotate_disable_delete(admin):
    endpoint, _secret = services.create_endpoint(url="http://127.0.0.1:9/h",
                                                 event_types=["order.placed"], actor=None)
    base = f"/console/webhooks/{endpoint.pk}/"
    assert admin.get(base).status_code == 200
    assert admin.post(base + "test/").status_code == 302
    delivery = WebhookDelivery.objects.get()
    page = admin.get(base)
    assert delivery.message_id.encode() in page.content
    assert admin.get(f"/console/webhook-deliveries/{delivery.pk}/").status_code == 200
    assert admin.post(f"/console/webhook-deliveries/{delivery.pk}/").status_code == 302
    rotated = admin.post(base + "rotate/")
    assert b"whsec_" in rotated.content and rotated["Cache-Control"] == "no-store"
    admin.post(base + "disable/")
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    admin.post(base + "delete/")
    assert not WebhookEndpoint.objects.exists()


def test_an_employee_cannot_open_the_pages(employee):
    client = login_client(employee.user)
    assert client.get("/console/webhooks/").status_code in (302, 403)
