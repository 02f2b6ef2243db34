"""Shared helpers of the activities tests (lotteries here; auctions and the centre keep
their own conftest files)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from jifen.core.roles import Role
from tests.ledger.helpers import fund, held, spendable  # noqa: F401 (tests import them from here)


def lottery_data(**overrides: Any) -> dict[str, Any]:
    now = timezone.now()
    data = {"title": "年会抽奖", "description": "", "starts_at": now - timedelta(hours=1),
            "ends_at": now + timedelta(days=1), "entry_cost": 10, "entry_limit": 1}
    data.update(overrides)
    return data


def make_lottery(actor: Any, *, publish: bool = True, tiers: list[dict] | None = None,
                 **overrides: Any):
    from jifen.activities.services import lottery as services
    lottery = services.save_lottery(
        actor=actor, data=lottery_data(**overrides),
        tiers=tiers or [{"name": "一等奖", "kind": "points", "points": 100, "quantity": 1},
                        {"name": "纪念品", "kind": "custom", "quantity": 2}])
    if publish:
        lottery = services.publish_lottery(lottery=lottery, actor=actor)
    return lottery


@pytest.fixture
def activities_admin(make_role_employee):
    return make_role_employee(Role.HR_ADMIN, name="活动管理员")
