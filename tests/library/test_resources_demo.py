"""The library part of the demo company: ~40 believable HR resources with real small
files and previews, purchases paid through the ledger, contributions waiting for review."""

from __future__ import annotations

import random
from datetime import date

import pytest

from jifen.demo.builder import DemoContext
from jifen.demo.library import build_library
from jifen.demo.people import create_people
from jifen.earning.models import Rule
from jifen.library.models import Purchase, Resource, ReviewState
from jifen.library.selectors import resources as selectors
from tests.conftest import assert_ledger_sound

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_library(library_root):
    ctx = DemoContext(seed=7, today=date.today())
    ctx.rng = random.Random("7/people")
    create_people(ctx)
    ctx.rng = random.Random("7/library")
    build_library(ctx)
    return ctx


def test_the_demo_library_is_believable_and_the_books_balance(demo_library):
    assert 40 <= Resource.objects.filter(review_state=ReviewState.NONE).count() <= 45
    interview = Resource.objects.get(title="绩效面谈模板")
    assert interview.price == 20 and interview.file_kind == "pdf"
    assert interview.previews.count() == 2
    assert {r.file_kind for r in Resource.objects.all()} >= {"pdf", "docx", "xlsx", "pptx",
                                                            "zip", ""}
    assert Resource.objects.filter(kind="link").count() >= 3
    assert Resource.objects.filter(review_state=ReviewState.PENDING).count() == 2
    assert Resource.objects.filter(review_state=ReviewState.REJECTED).count() == 1
    assert Resource.objects.filter(status="withdrawn").count() == 1
    assert Purchase.objects.filter(points__gt=0).count() > 50
    assert Purchase.objects.filter(points__gt=0, txn__isnull=True).count() == 0
    assert set(Rule.objects.values_list("event_type__code", flat=True)) >= {
        "download", "resource_approved", "resource_download_share"}
    figures = selectors.resource_figures(days=120)
    assert figures and all(f.views >= f.buyers for f in figures[:10])
    assert_ledger_sound()
