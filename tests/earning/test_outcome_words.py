"""What became of an event is stored as codes and read in the reader's language: an
event rejected while the site spoke Chinese reads in English on an English page."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.utils import translation

from jifen.earning.models import Event, EventStatus, RejectReason
from tests.earning.conftest import event, ingest
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def test_a_false_condition_is_stored_as_a_code_and_read_in_either_language(make_rule, employee):
    make_rule(name="Training", event_type="training_completed",
              condition="payload.hours >= 100", formula={"kind": "fixed", "points": 5})
    with translation.override("zh-hans"):
        [result] = ingest(event(employee, "training_completed", {"hours": 2, "course": "x"}))
    assert result.status == EventStatus.REJECTED
    stored = Event.objects.get()
    assert stored.reason == RejectReason.NO_MATCHING_RULE and stored.detail == ""
    assert stored.notes == [{"code": "condition_false", "rule": "Training"}]
    with translation.override("en"):
        assert stored.detail_words == "Training: The condition is false."
    with translation.override("zh-hans"):
        assert stored.detail_words == "Training: 条件不成立。"


def test_an_award_keeps_how_it_was_worked_out_as_a_code(make_rule, employee):
    make_rule(name="Per hour", event_type="training_completed",
              formula={"kind": "per_unit", "field": "hours", "points": 3})
    with translation.override("zh-hans"):
        ingest(event(employee, "training_completed", {"hours": 2, "course": "x"}))
    award = Event.objects.get().awards.get()
    assert award.notes == [{"code": "per_unit",
                            "params": {"units": 2, "per": 3, "field": "hours"}}]
    with translation.override("en"):
        assert award.explanation_words == "2 × 3 per hours"


def test_an_unknown_employee_is_named_in_the_readers_language(db):
    with translation.override("zh-hans"):
        ingest(event("NOBODY", "training_completed", {"hours": 2, "course": "x"}))
    stored = Event.objects.get()
    with translation.override("en"):
        assert stored.detail_words == "No employee has the number NOBODY."


def test_the_migration_turns_known_stored_words_into_notes(db):
    migration = importlib.import_module("jifen.earning.migrations.0006_event_award_notes")
    person = EmployeeFactory()
    with translation.override("en"):
        ingest(event(person, "training_completed", {"hours": 2, "course": "x"}, id_="a"),
               event(person, "training_completed", {"hours": 2, "course": "x"}, id_="b"),
               event(person, "training_completed", {"hours": 2, "course": "x"}, id_="c"))
    Event.objects.filter(external_id="a").update(
        notes=[], detail="培训积分: 条件不成立。; Late: The rule had ended by then.")
    Event.objects.filter(external_id="b").update(notes=[], detail="员工 E9 已离职。")
    Event.objects.filter(external_id="c").update(notes=[], detail="something a person wrote")
    migration.to_notes(apps, None)
    got = {e.external_id: (e.notes, e.detail) for e in Event.objects.all()}
    assert got["a"] == ([{"code": "condition_false", "rule": "培训积分"},
                         {"code": "ended", "rule": "Late"}], "")
    assert got["b"] == ([{"code": "employee_left", "params": {"employee_no": "E9"}}], "")
    assert got["c"] == ([], "something a person wrote")
