"""The activities part of the demo company: a finished lottery whose draw checks out, a
running auction with bids, an upcoming lottery — or, while the lottery and auction services
are not there, a demo that still builds and says what it skipped."""

from __future__ import annotations

import importlib.util
import random
from datetime import date

import pytest
from django.utils import timezone

from jifen.activities.models import ActivityStatus, Auction, Lottery, Phase
from jifen.demo.activities import activities as activities_step
from jifen.demo.builder import DemoContext, registered_steps
from jifen.demo.mall import build_mall
from jifen.demo.people import create_people

pytestmark = pytest.mark.django_db


def _have(name: str) -> bool:
    return importlib.util.find_spec(f"jifen.activities.services.{name}") is not None


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    lines: list[str] = []
    ctx = DemoContext(seed=7, today=date.today(), log=lines.append)
    ctx.rng = random.Random("7/people")
    create_people(ctx)
    ctx.rng = random.Random("7/mall")
    build_mall(ctx)
    ctx.rng = random.Random("7/activities")
    activities_step(ctx)
    return ctx, lines


def test_the_activities_step_runs_after_the_mall():
    orders = {step.name: step.order for step in registered_steps()}
    assert orders["activities"] > orders["mall"]


def test_the_demo_has_a_finished_a_running_and_an_upcoming_activity(demo):
    ctx, lines = demo
    made = ctx.created["activities"]
    now = timezone.now()
    if _have("lottery"):
        finished = Lottery.objects.get(pk=made["finished_lottery"])
        assert finished.status == ActivityStatus.FINISHED and finished.seed
        assert finished.revealed_at and finished.snapshot_hash and finished.commitment
        assert finished.wins.count() >= 1 and finished.entries.count() > 10
        upcoming = Lottery.objects.get(pk=made["upcoming_lottery"])
        assert upcoming.phase_at(now) == Phase.UPCOMING and not upcoming.revealed_at
    else:
        assert "finished_lottery" not in made
        assert any("lottery services are not there yet" in line for line in lines)
    if _have("auction"):
        running = Auction.objects.get(pk=made["running_auction"])
        assert running.phase_at(now) == Phase.RUNNING and running.bids.count() >= 2
    else:
        assert "running_auction" not in made
        assert any("auction services are not there yet" in line for line in lines)
