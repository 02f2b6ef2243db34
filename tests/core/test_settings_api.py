"""/api/v1/settings and /api/v1/audit: the console's site settings and audit log for
systems and admins' tokens, through the same service and selector."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from jifen.core.models import AuditEntry
from jifen.core.roles import Role
from jifen.core.selectors import site_settings
from jifen.ledger import services as ledger
from jifen.people.services import issue_access_token
from tests.earning.test_api import key_with
from tests.images import bomb_png

pytestmark = pytest.mark.django_db


def auth(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def patch(client, token, body):
    return client.patch("/api/v1/settings", data=json.dumps(body),
                        content_type="application/json", **auth(token))


def png() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (214, 57, 57)).save(out, format="PNG")
    return SimpleUploadedFile("logo.png", out.getvalue(), content_type="image/png")


def test_an_admin_key_reads_and_changes_the_settings(client):
    token = key_with("admin")
    before = client.get("/api/v1/settings", **auth(token)).json()
    assert before["decimals_locked"] is False
    changed = patch(client, token, {"platform_name": "福利积分", "primary_color": "#1e88e5"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["platform_name"] == "福利积分"
    assert site_settings().primary_color == "#1e88e5"
    entry = AuditEntry.objects.get(action="settings.update")
    assert entry.actor_label.startswith("API key test")
    assert entry.after["platform_name"] == "福利积分"


def test_bad_values_are_refused_and_nothing_changes(client, employee):
    token = key_with("admin")
    for body in ({"primary_color": "red"}, {"decimals": 5}, {"default_language": "fr"},
                 {"platform_name": ""}):
        answer = patch(client, token, body)
        assert answer.status_code == 422, (body, answer.content)
    # Decimals are fixed once points exist.
    ledger.adjust(employee=employee, amount=5, reason="test", actor=None,
                  idempotency_key="settings-api")
    locked = patch(client, token, {"decimals": 2})
    assert locked.status_code == 409 and locked.json()["error"]["code"] == "decimals_locked"
    assert site_settings().decimals == 0
    assert not AuditEntry.objects.filter(action="settings.update").exists()


def test_the_logo_is_checked_like_on_the_page(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    token = key_with("admin")
    bomb = client.post("/api/v1/settings/logo", data={"logo": bomb_png()}, **auth(token))
    assert bomb.status_code == 422
    assert not site_settings().logo
    uploaded = client.post("/api/v1/settings/logo", data={"logo": png()}, **auth(token))
    assert uploaded.status_code == 200, uploaded.content
    assert uploaded.json()["logo_url"]
    removed = client.delete("/api/v1/settings/logo", **auth(token))
    assert removed.json()["logo_url"] == "" and not site_settings().logo


def test_only_admins_change_settings(client, make_role_employee):
    assert patch(client, key_with("employees:write"), {"contact": "x"}).status_code == 403
    hr = make_role_employee(Role.HR_ADMIN)
    assert patch(client, issue_access_token(user=hr.user)[1],
                 {"contact": "x"}).status_code == 403
    assert site_settings().contact == ""


def test_the_audit_log_pages_and_filters_for_auditors(client, make_role_employee):
    admin = key_with("admin")
    for name in ("一", "二", "三"):
        patch(client, admin, {"platform_name": name})
    auditor = make_role_employee(Role.AUDITOR)
    token = issue_access_token(user=auditor.user)[1]
    first = client.get("/api/v1/audit?action=settings.update&limit=2", **auth(token)).json()
    assert [e["after"]["platform_name"] for e in first["items"]] == ["三", "二"]
    rest = client.get(f"/api/v1/audit?action=settings.update&limit=2"
                      f"&cursor={first['next_cursor']}", **auth(token)).json()
    assert [e["after"]["platform_name"] for e in rest["items"]] == ["一"]
    assert rest["next_cursor"] is None
    assert client.get("/api/v1/audit", **auth(key_with("employees:read"))).status_code == 403
    hr = make_role_employee(Role.HR_ADMIN)
    assert client.get("/api/v1/audit",
                      **auth(issue_access_token(user=hr.user)[1])).status_code == 403
