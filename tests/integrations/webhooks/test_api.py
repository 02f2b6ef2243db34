"""/api/v1/webhooks: an integrator sets up, tests and reads an endpoint with an admin key."""

from __future__ import annotations

import pytest
from django.test import Client
from standardwebhooks import Webhook

from jifen.core.models import AuditEntry
from jifen.integrations import services as keys
from jifen.integrations.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def client_with(*scopes: str) -> Client:
    _key, plain = keys.create_api_key(name="hooks", scopes=list(scopes))
    return Client(HTTP_AUTHORIZATION=f"Bearer {plain}")


@pytest.fixture
def admin(settings):
    settings.JIFEN_OUTBOUND_ALLOW_HOSTS = ["127.0.0.1"]
    return client_with("admin")


def create(api: Client, **body):
    return api.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/hooks",
                                         "event_types": ["points.credited"], **body},
                    content_type="application/json", HTTP_IDEMPOTENCY_KEY=body.pop("key", "k1"))


def test_creating_an_endpoint_shows_its_secret_once(admin):
    response = create(admin)
    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("whsec_")
    Webhook(body["secret"])  # a usable Standard Webhooks secret
    assert body["event_types"] == ["points.credited"] and body["is_active"]
    shown = admin.get(f"/api/v1/webhooks/{body['id']}").json()
    assert "secret" not in shown
    assert body["secret"] not in WebhookEndpoint.objects.get().secret  # stored encrypted
    assert AuditEntry.objects.filter(action="webhook.create").exists()
    listed = admin.get("/api/v1/webhooks").json()
    assert [e["id"] for e in listed["items"]] == [body["id"]] and listed["next_cursor"] is None


def test_a_replayed_create_answers_the_first_time_again(admin):
    first, again = create(admin), create(admin)
    assert first.json() == again.json() and WebhookEndpoint.objects.count() == 1


@pytest.mark.parametrize(("url", "code"), [
    ("http://10.1.2.3/hooks", "private_address"),
    ("http://[::1]:8000/", "private_address"),
    ("http://169.254.169.254/latest/meta-data", "private_address"),
    ("ftp://example.com/x", "invalid_url"),
    ("not a url", "invalid_url"),
])
def test_private_and_malformed_addresses_are_refused(admin, url, code):
    response = create(admin, url=url)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


def test_the_allow_list_lets_a_private_network_through(admin, settings):
    settings.JIFEN_OUTBOUND_ALLOW_HOSTS = ["10.0.0.0/8"]
    assert create(admin, url="http://10.1.2.3/hooks").status_code == 201


def test_unknown_event_types_are_refused(admin):
    response = create(admin, event_types=["points.stolen"])
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_event_type"


def test_only_admin_keys_manage_webhooks():
    reader = client_with("ledger:read")
    assert reader.get("/api/v1/webhooks").status_code == 403
    assert create(reader).status_code == 403


def test_update_test_deliveries_redeliver_rotate_delete(admin):
    pk = create(admin).json()["id"]
    patched = admin.patch(f"/api/v1/webhooks/{pk}", {"is_active": False,
                                                     "description": "payroll"},
                          content_type="application/json")
    assert patched.status_code == 200
    assert patched.json()["is_active"] is False and patched.json()["description"] == "payroll"
    queued = admin.post(f"/api/v1/webhooks/{pk}/test")
    assert queued.status_code == 202 and queued.json()["event_type"] == "webhook.test"
    page = admin.get(f"/api/v1/webhooks/{pk}/deliveries").json()
    assert [d["message_id"] for d in page["items"]] == [queued.json()["message_id"]]
    again = admin.post(f"/api/v1/webhook-deliveries/{page['items'][0]['id']}/redeliver")
    assert again.status_code == 202 and again.json()["status"] == "pending"
    rotated = admin.post(f"/api/v1/webhooks/{pk}/rotate-secret").json()
    assert rotated["secret"].startswith("whsec_") and rotated["previous_secret_until"]
    assert admin.delete(f"/api/v1/webhooks/{pk}").status_code == 204
    assert admin.get(f"/api/v1/webhooks/{pk}").status_code == 404
    assert not WebhookDelivery.objects.exists()
    assert admin.get("/api/v1/webhooks/abc").status_code in (404, 422)
