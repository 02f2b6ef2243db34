"""Leaderboard settings an employee changes themselves."""

from __future__ import annotations

from django.db import transaction

from jifen.insights.models import RankingPrivacy
from jifen.people.models import Employee


@transaction.atomic
def set_ranking_privacy(*, employee: Employee, hidden: bool) -> RankingPrivacy:
    """Hide (or show again) ``employee``'s name on public leaderboards. They keep ranking
    either way; the choice takes effect on the next page load."""
    row, _created = RankingPrivacy.objects.update_or_create(
        employee=employee, defaults={"hidden": hidden})
    return row
