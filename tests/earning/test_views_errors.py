"""Bad input on the earning pages is answered on the page (422/403/404), never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import login_client

BASE = {"name": "X", "event_type": "idea_adopted", "category": "performance",
        "approver_role": "manager", "active": "on"}

@pytest.mark.django_db
@pytest.mark.parametrize("extra", [
    {"formula_kind": "range"},
    {"formula_kind": "range", "min_points": "50", "max_points": "10"},
    {"formula_kind": "table", "table": "S=abc"},
    {"formula_kind": "table", "table": ""},
    {"formula_kind": "per_unit", "points": "3"},
    {"formula_kind": "fixed"},
    {"formula_kind": "fixed", "points": "5", "expiry_mode": "months"},
    {"formula_kind": "fixed", "points": "5", "valid_from": "2026-05-01T00:00",
     "valid_until": "2026-04-01T00:00"},
])
def test_a_bad_rule_form_is_shown_again_and_its_preview_explains(hr_admin, extra):
    c = login_client(hr_admin.user)
    r = c.post(reverse("console:rule_create"), {**BASE, **extra})
    assert r.status_code in (302, 422), r.status_code
    r = c.post(reverse("console:rule_create"),
               {**BASE, **extra, "preview": "1", "sample_payload": "[1"}, HTTP_HX_REQUEST="true")
    assert r.status_code in (200, 422)

@pytest.mark.django_db
def test_bad_event_types_budgets_thanks_and_foreign_pages_are_refused(hr_admin, employee):
    admin = login_client(hr_admin.user)
    refused_by_admin = [
        ("console:event_types", {"code": "a", "name": "b", "schema": "{"}),
        ("console:event_types", {"code": "a", "name": "b", "schema": '{"type": 5}'}),
        ("console:budgets", {"budget-department": "NOPE", "budget-points": "5",
                             "budget-category": "performance"}),
        ("console:budgets", {"allowance": "1", "settings-monthly_allowance": "-1"}),
    ]
    for name, data in refused_by_admin:
        assert admin.post(reverse(name), data).status_code == 422, (name, data)
    assert admin.post(reverse("console:approval_decide", args=[999])).status_code == 404
    worker = login_client(employee.user)
    for recipient in ("NOPE", employee.employee_no):
        response = worker.post(reverse("portal:recognition"),
                               {"recipient": recipient, "points": "5", "message": "x"})
        assert response.status_code == 422
    assert worker.get(reverse("portal:team_awards")).status_code == 403
    assert worker.get(reverse("console:approvals")).status_code == 403
