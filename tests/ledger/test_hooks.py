"""The slots apps above the ledger fill in (``jifen.ledger.hooks``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jifen.ledger import hooks
from jifen.mall import selectors as mall_selectors
from jifen.mall.services import save_window

pytestmark = pytest.mark.django_db


@pytest.fixture
def slot():
    """Put the mall's finder back after a test changed the slot."""
    yield
    hooks.register_closed_spell(mall_selectors.next_closed_spell)


def test_the_mall_fills_the_closed_spell_slot_when_it_starts():
    now = timezone.now()
    save_window(actor=None, name="兑换期", mode="periods", is_default=True,
                periods=[(now + timedelta(days=5), now + timedelta(days=6))])
    spell = hooks.next_closed_spell(now)
    assert spell is not None and spell.closes_at is None
    assert spell.opens_at == mall_selectors.next_closed_spell(now).opens_at


def test_an_empty_slot_answers_that_the_mall_never_closes(slot):
    hooks.register_closed_spell(None)
    assert hooks.next_closed_spell(timezone.now()) is None


def test_the_slot_answers_what_its_finder_says(slot):
    spell = object()
    hooks.register_closed_spell(lambda now: spell)
    assert hooks.next_closed_spell(timezone.now()) is spell
