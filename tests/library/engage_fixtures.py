"""Fixtures for the engagement tests (imported by each test module: tests/library/conftest.py
belongs to the resource half of the library)."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jifen.earning import services as earning
from jifen.mall import services as mall
from jifen.mall.models import Fulfilment, ItemStatus
from tests.ledger.helpers import spendable  # noqa: F401 (tests import them from here)

UTC = ZoneInfo("UTC")
SHANGHAI = ZoneInfo("Asia/Shanghai")
_n = itertools.count(1)


def at(text: str, zone: ZoneInfo = SHANGHAI) -> datetime:
    """An aware moment: at("2026-12-31 23:30", UTC)."""
    return datetime.fromisoformat(text).replace(tzinfo=zone)


@pytest.fixture
def engagement_rules(db, hr_admin):
    """HR's engagement rules as the demo has them: check-in +1 (1 a day), a streak bonus
    of 10 on day 7 and 50 on day 30, comments +2 (at most 6 points a day), a colleague opening a
    share link +5 (at most 10 points a day). Caps are in points, not in counts."""
    earning.ensure_builtin_event_types()
    actor = hr_admin.user

    def rule(**data):
        return earning.create_rule(actor=actor, reason="test", category="engagement", **data)

    return {
        "checkin": rule(name="签到", event_type="daily_checkin",
                        formula={"kind": "fixed", "points": 1}, caps={"day": 1}),
        "streak7": rule(name="连续 7 天", event_type="daily_checkin",
                        condition="has(payload.streak) && payload.streak == 7",
                        formula={"kind": "fixed", "points": 10}),
        "streak30": rule(name="连续 30 天", event_type="daily_checkin",
                         condition="has(payload.streak) && payload.streak == 30",
                         formula={"kind": "fixed", "points": 50}),
        "comment": rule(name="评论", event_type="comment",
                        formula={"kind": "fixed", "points": 2}, caps={"day": 6}),
        "share": rule(name="分享", event_type="share",
                      formula={"kind": "fixed", "points": 5}, caps={"day": 10}),
    }


@pytest.fixture
def mall_admin(make_role_employee):
    from jifen.core.roles import Role

    return make_role_employee(Role.MALL_ADMIN, name="商城管理员")


@pytest.fixture
def make_item(db, mall_admin):
    category = mall.save_category(actor=mall_admin.user, name=f"虚拟商品{next(_n)}")

    def make(**fields: Any):
        fields.setdefault("name", "无线蓝牙耳机")
        fields.setdefault("points", 100)
        fields.setdefault("status", ItemStatus.LISTED)
        fields.setdefault("fulfilment", Fulfilment.SERVICE)
        fields.setdefault("category", category)
        return mall.create_item(actor=mall_admin.user, **fields)

    return make


@pytest.fixture
def item(make_item):
    return make_item()


__all__ = ["engagement_rules", "item", "make_item", "mall_admin"]
