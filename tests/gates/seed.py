"""Seed a gate's own database through the services, in a process of its own:

    python -m tests.gates.seed '<json spec>'

Prints one JSON line: the employees (number, user id, bearer token), the items' ids and
the system key. The spec (every part optional):

    {"employees": 16, "points": 5000, "poor": {"0": 15},
     "items": [{"name": "…", "points": 10, "stock": null}],
     "event_rule_points": 10, "key_scopes": ["ledger:write", "events:write"],
     "expired_lots": 3, "expiring_lots": 2}

``expired_lots`` credits each employee that many small lots already past their date (the
daily expiry sweep's work); ``expiring_lots`` that many lots expiring within the notice
period (its notices)."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from typing import Any


def seed(spec: dict[str, Any]) -> dict[str, Any]:
    from django.utils import timezone

    from jifen.earning import services as earning
    from jifen.integrations.services import create_api_key
    from jifen.ledger import services as ledger
    from jifen.mall import services as mall
    from jifen.mall.models import Fulfilment, ItemStatus
    from jifen.people import services as people

    people.upsert_department(code="GATE", name="Gate")
    now = timezone.now()
    poor = {int(k): v for k, v in spec.get("poor", {}).items()}
    employees = []
    for n in range(spec.get("employees", 0)):
        number = f"G{n:04d}"
        employee, _created = people.upsert_employee(data=people.EmployeeData(
            employee_no=number, name=f"Gate {n}", department_code="GATE"))
        points = poor.get(n, spec.get("points", 0))
        if points:
            ledger.credit(employee=employee, amount=points, category="performance",
                          idempotency_key=f"gate:seed:{number}", cause=("gate.seed", number),
                          expires_at=None)
        for lot in range(spec.get("expired_lots", 0)):
            ledger.credit(employee=employee, amount=3, category="learning",
                          idempotency_key=f"gate:expired:{number}:{lot}",
                          cause=("gate.seed", number), earned_at=now - timedelta(days=400),
                          expires_at=now - timedelta(days=1 + lot))
        for lot in range(spec.get("expiring_lots", 0)):
            ledger.credit(employee=employee, amount=2, category="learning",
                          idempotency_key=f"gate:expiring:{number}:{lot}",
                          cause=("gate.seed", number), expires_at=now + timedelta(days=5 + lot))
        _token, plain = people.issue_access_token(user=employee.user)
        employees.append({"no": number, "id": employee.pk, "user_id": employee.user_id,
                          "token": plain})

    items = []
    if spec.get("items"):
        category = mall.save_category(actor=None, name="Gate goods")
        for item in spec["items"]:
            items.append(mall.create_item(
                actor=None, name=item["name"], category=category, points=item["points"],
                stock=item.get("stock"), status=ItemStatus.LISTED,
                fulfilment=Fulfilment.SERVICE).pk)

    if spec.get("event_rule_points"):
        earning.create_rule(actor=None, name="Gate attendance",
                            event_type="attendance_full_month", category="attendance",
                            formula={"kind": "fixed", "points": spec["event_rule_points"]})

    key = None
    if spec.get("key_scopes"):
        api_key, plain = create_api_key(name="gate", scopes=spec["key_scopes"])
        key = {"id": api_key.pk, "token": plain}
    return {"employees": employees, "items": items, "key": key}


def main() -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jifen.settings")
    django.setup()
    print(json.dumps(seed(json.loads(sys.argv[1]))))


if __name__ == "__main__":
    main()
