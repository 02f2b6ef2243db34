from __future__ import annotations

from datetime import date

import pytest

from jifen.demo.builder import build_demo
from jifen.earning.models import Award, Event, Recognition, Rule
from jifen.ledger.verify import verify_ledger


@pytest.mark.django_db
def test_demo_has_the_example_rules_and_a_year_of_scored_events():
    build_demo(seed=7, today=date(2026, 11, 20))
    assert Rule.objects.filter(active=True).count() >= 12
    assert Rule.objects.get(name="迟到").versions.count() == 3
    months = {e.occurred_at.strftime("%Y-%m") for e in Event.objects.only("occurred_at")}
    assert len(months) >= 12
    assert Event.objects.filter(status="credited").count() > 1000
    assert Award.objects.filter(status="pending").exists()
    assert Award.objects.filter(uncollected__gt=0).exists()
    assert Recognition.objects.exists()
    assert verify_ledger() == []
