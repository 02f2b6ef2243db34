from __future__ import annotations

from datetime import date, timedelta

import pytest

from jifen.core.roles import Role
from jifen.demo.builder import build_demo
from jifen.ledger.verify import verify_ledger
from jifen.library.models import CheckIn, Comment, CommentStatus, Rating, ShareVisit
from jifen.library.selectors import engagement as selectors


@pytest.mark.django_db
def test_the_demo_has_streaks_comments_ratings_shares_and_a_moderation_queue():
    today = date(2026, 11, 20)
    ctx = build_demo(seed=7, today=today)
    assert CheckIn.objects.count() > 1000
    assert CheckIn.objects.filter(streak__gte=7).exists()
    me = ctx.logins[Role.EMPLOYEE]
    # The demo login has checked in six days running: today's tap is the 7-day bonus.
    assert selectors.current_streak(me, today) == 6
    assert not CheckIn.objects.filter(employee=me, day=today).exists()
    assert CheckIn.objects.filter(employee=me, day=today - timedelta(days=1), streak=6).exists()
    assert Comment.objects.filter(status=CommentStatus.VISIBLE).count() > 20
    assert Comment.objects.filter(status=CommentStatus.REPORTED).count() == 1
    assert Comment.objects.filter(status=CommentStatus.HIDDEN).count() == 1
    assert Rating.objects.count() > 20 and ShareVisit.objects.exists()
    heat = selectors.check_in_heatmap(today - timedelta(days=30), today)
    assert max(max(row) for row in heat) > 0
    assert verify_ledger() == []
