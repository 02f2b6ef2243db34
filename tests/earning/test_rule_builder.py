"""The rule builder: condition rows compiled to CEL (every operator; values stay literals
whatever they contain), drafts that score nothing until published, the preview in words and
the backtest over last month's events."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import pgettext

from jifen.core import errors
from jifen.earning import engine, selectors, services
from jifen.earning.builtins import BUILTIN_EVENT_TYPES
from jifen.earning.engine import builder
from jifen.earning.models import Award, AwardStatus, EventStatus, Rule
from tests.conftest import login_client
from tests.earning.conftest import event, ingest
from tests.earning.test_api import bearer, key_with, post
from tests.factories import DepartmentFactory, EmployeeFactory

TRAINING = BUILTIN_EVENT_TYPES["training_completed"].schema
TASK = BUILTIN_EVENT_TYPES["task_delivered"].schema
CTX_EMPLOYEE = {"employee_no": "E1", "department": "RD", "department_path": ["GM", "RD"],
                "position": "", "grade": "P3", "tenure_years": 2}


def compiled(*rows, join="all", schema=TRAINING) -> str:
    return builder.compile_rows({"join": join, "rows": list(rows)}, schema)[1]


def holds(source: str, payload: dict, employee: dict | None = None) -> bool:
    result = engine.evaluate_condition(source, {"payload": payload,
                                                "employee": employee or CTX_EMPLOYEE})
    assert not result.error, result.error
    return result.matched


# --- the compiler -------------------------------------------------------------------------


@pytest.mark.parametrize(("op", "value", "seen", "expected"), [
    ("eq", "2", 2, True), ("eq", "2", 3, False),
    ("ne", "2", 3, True), ("ne", "2", 2, False),
    ("gt", "2", 3, True), ("gt", "2", 2, False),
    ("ge", "2", 2, True), ("ge", "2", 1.5, False),
    ("lt", "2", 1, True), ("lt", "2", 2, False),
    ("le", "2.5", 2.5, True), ("le", "2.5", 3, False),
    ("in", "1, 2, 3", 2, True), ("in", "1, 2, 3", 4, False),
])
def test_every_number_operator_compiles_and_means_what_it_says(op, value, seen, expected):
    source = compiled({"field": "payload.hours", "op": op, "value": value})
    assert holds(source, {"hours": seen}) is expected


def test_text_operators_contains_in_and_is_set():
    contains = compiled({"field": "payload.course", "op": "contains", "value": "安全"})
    assert holds(contains, {"course": "信息安全入门"})
    assert not holds(contains, {"course": "财务"})
    one_of = compiled({"field": "employee.grade", "op": "in", "value": ["P1", "P2"]})
    assert holds(one_of, {}, {**CTX_EMPLOYEE, "grade": "P2"})
    assert not holds(one_of, {})
    is_set = compiled({"field": "payload.course", "op": "set"})
    assert holds(is_set, {"course": "x"}) and not holds(is_set, {})
    path = compiled({"field": "employee.department_path", "op": "contains", "value": "GM"})
    assert holds(path, {})


def test_enum_and_boolean_fields_take_only_their_values():
    hard = compiled({"field": "payload.difficulty", "op": "eq", "value": "high"}, schema=TASK)
    assert hard == 'payload.difficulty == "high"'
    on_time = compiled({"field": "payload.on_time", "op": "eq", "value": "true"}, schema=TASK)
    assert holds(on_time, {"difficulty": "low", "on_time": True})
    with pytest.raises(errors.ValidationError) as refused:
        compiled({"field": "payload.difficulty", "op": "eq", "value": "extreme"}, schema=TASK)
    assert refused.value.details == {"row": 1, "part": "value"}
    with pytest.raises(errors.ValidationError):
        compiled({"field": "payload.on_time", "op": "gt", "value": "true"}, schema=TASK)


def test_optional_payload_fields_are_tested_for_presence_so_a_missing_one_just_fails():
    source = compiled({"field": "payload.hours", "op": "ge", "value": 2},
                      {"field": "employee.grade", "op": "ne", "value": "P1"})
    assert source == '("hours" in payload && payload.hours >= 2) && (employee.grade != "P1")'
    assert not holds(source, {})


@pytest.mark.parametrize("text", [
    'x" || true || "',           # closes the string and adds a clause
    "x\\\" || true || \\\"",     # backslashes before quotes
    "\\",                        # a lone backslash
    "line\nbreak\ttab\r",        # control characters
    "张伟 — ünïcödé ✓ 🎉",       # unicode, astral too
    "' || true || '",            # the other quote
    "a\x00b\x7f",                # NUL and DEL
    '"""triple"""',
])
def test_a_value_that_looks_like_cel_stays_a_literal(text):
    source = compiled({"field": "payload.course", "op": "eq", "value": text})
    value = text.strip()
    assert holds(source, {"course": value})
    assert not holds(source, {"course": value + "."})
    assert not holds(source, {"course": "x"})
    listed = compiled({"field": "payload.course", "op": "in", "value": [text, "other"]})
    assert holds(listed, {"course": value}) and not holds(listed, {"course": "x"})


def test_cel_string_escapes_quotes_backslashes_and_controls_and_keeps_unicode():
    assert builder.cel_string('a"b\\c') == '"a\\"b\\\\c"'
    assert builder.cel_string("张\n") == '"张\\n"'
    assert builder.cel_string("\x01") == '"\\u0001"'


def test_rows_are_refused_by_row_and_part():
    for row, part in [({"field": "payload.nope", "op": "eq", "value": 1}, "field"),
                      ({"field": "payload.hours", "op": "contains", "value": "1"}, "op"),
                      ({"field": "payload.hours", "op": "ge", "value": "two"}, "value"),
                      ({"field": "payload.hours", "op": "ge", "value": ""}, "value"),
                      ({"field": "payload.hours", "op": "in", "value": ""}, "value")]:
        with pytest.raises(errors.ValidationError) as refused:
            compiled({"field": "employee.grade", "op": "eq", "value": "P1"}, row)
        assert refused.value.code == errors.ErrorCode.INVALID_CONDITION
        assert refused.value.details == {"row": 2, "part": part}
        assert "2" in refused.value.message


def test_any_joins_with_or_and_no_rows_is_always():
    source = compiled({"field": "payload.hours", "op": "ge", "value": 8},
                      {"field": "employee.grade", "op": "eq", "value": "P3"}, join="any")
    assert " || " in source and holds(source, {"hours": 1})
    assert compiled() == ""


def test_a_property_with_an_odd_name_is_reached_by_index():
    schema = {"type": "object", "properties": {"in": {"type": "number"},
                                               "a-b": {"type": "string"}}}
    assert compiled({"field": "payload.in", "op": "eq", "value": 1},
                    schema=schema) == '("in" in payload && payload["in"] == 1)'
    source = compiled({"field": "payload.a-b", "op": "eq", "value": "x"}, schema=schema)
    assert holds(source, {"a-b": "x"})


# --- rules with rows, drafts, publishing --------------------------------------------------

ROWS = {"join": "all", "rows": [{"field": "payload.hours", "op": "ge", "value": 2},
                                {"field": "employee.grade", "op": "ne", "value": "P1"}]}
TRAINING_RULE = {"name": "Training hours", "event_type": "training_completed",
                 "category": "learning", "condition_rows": ROWS,
                 "formula": {"kind": "per_unit", "field": "hours", "points": 5},
                 "caps": {"month": 100}}


@pytest.mark.django_db
def test_a_rule_keeps_its_rows_and_the_cel_they_compile_to(make_rule):
    services.ensure_builtin_event_types()
    rule = make_rule(**TRAINING_RULE)
    assert rule.condition == ('("hours" in payload && payload.hours >= 2) && '
                              '(employee.grade != "P1")')
    assert rule.condition_rows["rows"][0] == {"field": "payload.hours", "op": "ge", "value": 2}
    rule = services.update_rule(rule=rule, actor=None, reason="CEL by hand",
                                condition="payload.hours > 1")
    assert rule.condition_rows is None and rule.condition == "payload.hours > 1"


@pytest.mark.django_db
def test_a_draft_scores_nothing_until_it_is_published(hr_admin, verify_clean):
    services.ensure_builtin_event_types()
    worker = EmployeeFactory(grade="P3")
    draft = services.save_rule_draft(actor=hr_admin.user, **TRAINING_RULE)
    assert draft.is_draft and not draft.active and draft.versions.count() == 0
    first = ingest(event(worker, "training_completed", {"hours": 3}, when="2026-03-02T10:00"))
    assert first[0].status == EventStatus.REJECTED
    rule = services.publish_rule(rule=draft, actor=hr_admin.user)
    assert rule.version == 1 and rule.active and rule.draft is None
    second = ingest(event(worker, "training_completed", {"hours": 3}, when="2026-03-03T10:00"))
    assert second[0].status == EventStatus.CREDITED
    assert Award.objects.get(status=AwardStatus.CREDITED).points == 15
    verify_clean()


@pytest.mark.django_db
def test_a_draft_of_a_published_rule_leaves_the_current_version_scoring(hr_admin, make_rule):
    services.ensure_builtin_event_types()
    rule = make_rule(**TRAINING_RULE)
    rule = services.save_rule_draft(actor=hr_admin.user, rule=rule, reason="more per hour",
                                    formula={"kind": "per_unit", "field": "hours",
                                             "points": 8})
    rule.refresh_from_db()
    assert rule.formula["points"] == 5 and rule.version == 1
    assert rule.draft["fields"]["formula"]["points"] == 8
    with pytest.raises(errors.JifenError):
        services.update_rule(rule=Rule(pk=services.save_rule_draft(
            actor=hr_admin.user, name="new", event_type="idea_adopted", category="culture",
            formula={"kind": "fixed", "points": 1}).pk), actor=None, name="x")
    rule = services.publish_rule(rule=rule, actor=hr_admin.user)
    assert rule.version == 2 and rule.formula["points"] == 8 and rule.draft is None
    assert rule.versions.get(number=2).reason == "more per hour"
    with pytest.raises(errors.Conflict) as refused:
        services.publish_rule(rule=rule, actor=hr_admin.user)
    assert refused.value.code == errors.ErrorCode.NO_DRAFT


# --- preview in words ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_preview_says_who_whether_it_matches_the_points_and_the_cap_left():
    services.ensure_builtin_event_types()
    rd = DepartmentFactory(code="RD", name="研发中心")
    worker = EmployeeFactory(employee_no="JF0001", name="张伟", department=rd, grade="P3")
    answer = services.preview_rule(data=TRAINING_RULE, employee=worker, payload={"hours": 3})
    assert answer["matched"] and answer["points"] == 15 and answer["cap_left"] == 85
    assert "JF0001 张伟 · 研发中心" in answer["summary"]
    assert "+15" in answer["summary"] and "85" in answer["summary"]
    refused = services.preview_rule(data=TRAINING_RULE, employee=worker, payload={"hours": 1})
    assert not refused["matched"]
    assert refused["failed_rows"] == [{"row": 1, "field": "payload.hours", "seen": 1,
                                       "text": refused["failed_rows"][0]["text"]}]
    assert "1" in refused["summary"] and "≥ 2" in refused["summary"]
    bad = services.preview_rule(data=TRAINING_RULE, employee=worker, payload={"hours": "x"})
    assert bad["summary"] and not bad["matched"]


@pytest.mark.django_db
def test_the_editor_preview_names_each_bad_sample_field_and_never_answers_empty(hr_admin):
    services.ensure_builtin_event_types()
    client = login_client(hr_admin.user)
    form = {"name": "", "event_type": "training_completed", "category": "learning",
            "formula_kind": "per_unit", "points": "5", "field": "hours", "preview": "1",
            "condition_rows": '{"join": "all", "rows": []}', "sample__hours": "two"}
    page = client.post(reverse("console:rule_create"), form, HTTP_HX_REQUEST="true")
    text = page.content.decode()
    assert page.status_code == 200 and "{'" not in text
    assert "<li>名称:" in text or "<li>Name:" in text  # the missing name is named
    text = client.post(reverse("console:rule_create"), {**form, "name": "T"},
                       HTTP_HX_REQUEST="true").content.decode()
    assert "<li>小时数：请输入数字</li>" in text  # the bad field, by its title
    text = client.post(reverse("console:rule_create"),
                       {**form, "name": "T", "sample__hours": "3"},
                       HTTP_HX_REQUEST="true").content.decode()
    assert "+15" in text and "alert-success" in text


@pytest.mark.django_db
def test_the_editor_compiles_rows_for_the_page_and_saves_drafts(hr_admin):
    services.ensure_builtin_event_types()
    client = login_client(hr_admin.user)
    rows = '{"join": "all", "rows": [{"field": "payload.hours", "op": "ge", "value": "2"}]}'
    page = client.post(reverse("console:rule_create"),
                       {"compile": "1", "event_type": "training_completed",
                        "condition_rows": rows}, HTTP_HX_REQUEST="true")
    assert "payload.hours &gt;= 2" in page.content.decode()
    form = {"name": "T", "event_type": "training_completed", "category": "learning",
            "formula_kind": "per_unit", "points": "5", "field": "hours",
            "condition_rows": rows, "active": "on", "draft": "1"}
    page = client.post(reverse("console:rule_create"), form)
    rule = Rule.objects.get()
    assert page.status_code == 302 and rule.is_draft and rule.condition_rows
    publish = {k: v for k, v in form.items() if k != "draft"} | {"publish": "1"}
    page = client.post(reverse("console:rule_edit", args=[rule.pk]), publish)
    assert page.status_code == 302
    rule.refresh_from_db()
    assert rule.version == 1 and rule.active and not rule.draft


# --- backtest -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_backtest_counts_last_months_events_by_department_without_writing(hr_admin):
    services.ensure_builtin_event_types()
    rd = DepartmentFactory(code="RD", name="研发中心")
    ops = DepartmentFactory(code="OPS", name="运营部")
    a = EmployeeFactory(department=rd, grade="P3")
    b = EmployeeFactory(department=ops, grade="P4")
    junior = EmployeeFactory(department=rd, grade="P1")
    since, until = selectors.last_month()
    day = since + timedelta(days=3)
    moments = [day + timedelta(hours=i) for i in range(6)]
    ingest(*[event(e, "training_completed", {"hours": h}, when=m.isoformat()[:16])
             for e, h, m in [(a, 4, moments[0]), (a, 1, moments[1]), (junior, 5, moments[2]),
                             (b, 3, moments[3]), (a, 30, moments[4])]],
           event(a, "training_completed", {"hours": 9},
                 when=(until + timedelta(days=1)).isoformat()[:16]))
    before = (Rule.objects.count(), Award.objects.count())
    result = selectors.rule_backtest(data=TRAINING_RULE)
    # a: 20, then 30 hours = 150 but the month's cap of 100 leaves 80; b: 15.
    assert result["examined"] == 5 and result["matched"] == 3
    assert result["points"] == 115 and result["people"] == 2
    assert [(d["department"], d["points"], d["people"]) for d in result["by_department"]] == [
        ("RD", 100, 1), ("OPS", 15, 1)]
    assert not result["truncated"]
    assert (Rule.objects.count(), Award.objects.count()) == before
    capped = selectors.rule_backtest(data=TRAINING_RULE, limit=2)
    assert capped["truncated"] and capped["examined"] == 2


@pytest.mark.django_db
def test_the_backtest_page_answers_in_a_sentence(hr_admin):
    services.ensure_builtin_event_types()
    client = login_client(hr_admin.user)
    form = {"name": "T", "event_type": "training_completed", "category": "learning",
            "formula_kind": "per_unit", "points": "5", "field": "hours",
            "condition_rows": '{"join": "all", "rows": []}', "backtest": "1"}
    page = client.post(reverse("console:rule_create"), form, HTTP_HX_REQUEST="true")
    assert page.status_code == 200
    assert 'data-testid="backtest-summary">' in page.content.decode()
    assert not Rule.objects.exists()


# --- API ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_saves_a_draft_backtests_it_and_publishes_it(client, hr_admin):
    services.ensure_builtin_event_types()
    key = key_with("admin")
    a = EmployeeFactory(grade="P3")
    since, _until = selectors.last_month()
    ingest(event(a, "training_completed", {"hours": 4},
                 when=(since + timedelta(days=2)).isoformat()[:16]))
    created = post(client, "/api/v1/rules/drafts", {**TRAINING_RULE, "reason": "new"}, key)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "draft" and body["version"] == 0 and not body["active"]
    assert body["condition"].startswith('("hours" in payload')
    tried = post(client, f"/api/v1/rules/{body['id']}/backtest", {}, key).json()
    assert tried["points"] == 20 and tried["people"] == 1 and tried["summary"]
    adhoc = post(client, "/api/v1/rules/backtest", {"rule": TRAINING_RULE}, key).json()
    assert adhoc["points"] == 20
    changed = client.put(f"/api/v1/rules/{body['id']}/draft",
                         data='{"caps": {"month": 10}}', content_type="application/json",
                         **bearer(key))
    assert changed.status_code == 200 and changed.json()["draft"]["fields"]["caps"] == {
        "month": 10}
    published = post(client, f"/api/v1/rules/{body['id']}/publish", {}, key)
    assert published.status_code == 200
    assert published.json()["status"] == "published" and published.json()["version"] == 1
    again = post(client, f"/api/v1/rules/{body['id']}/publish", {}, key)
    assert again.status_code == 409 and again.json()["error"]["code"] == "no_draft"
    preview = post(client, "/api/v1/rules/preview",
                   {"rule": TRAINING_RULE, "payload": {"hours": 1},
                    "employee_no": a.employee_no}, key).json()
    assert not preview["matched"] and preview["summary"] and preview["failed_rows"]
    bad = post(client, "/api/v1/rules", {**TRAINING_RULE, "condition_rows": {
        "rows": [{"field": "payload.hours", "op": "ge", "value": '2 || true'}]}}, key)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_condition"
    assert bad.json()["error"]["details"] == {"row": 1, "part": "value"}


@pytest.mark.django_db
def test_in_english_the_builder_and_its_answers_show_no_chinese(hr_admin):
    services.ensure_builtin_event_types()
    rd = DepartmentFactory(code="RD", name="R&D")
    EmployeeFactory(employee_no="JF0001", name="Wei Zhang", department=rd, grade="P3")
    client = login_client(hr_admin.user)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("console:rule_create")).content.decode()
    data = re.search(r'<script id="rule-builder-data" type="application/json">(.*?)</script>',
                     html, re.S).group(1)
    cjk = re.compile(r"[\u3400-\u9fff]")
    assert not cjk.search(json.dumps(json.loads(data), ensure_ascii=False))
    assert "Active" in html and "Save draft" in html and "Create and publish" in html
    form = {"name": "T", "event_type": "training_completed", "category": "learning",
            "formula_kind": "per_unit", "points": "5", "field": "hours",
            "cap_month": "100", "preview": "1", "sample_employee_no": "JF0001",
            "condition_rows": json.dumps(ROWS)}
    text = client.post(reverse("console:rule_create"), {**form, "sample__hours": "3"},
                       HTTP_HX_REQUEST="true").content.decode()
    assert "JF0001 Wei Zhang · R&amp;D: matches — +15 points; the monthly cap leaves 85" in text
    text = client.post(reverse("console:rule_create"), {**form, "sample__hours": "1"},
                       HTTP_HX_REQUEST="true").content.decode()
    assert "does not match — Hours is 1, the rule needs ≥ 2" in text
    assert not cjk.search(text)


def test_rules_say_active_as_enabled_in_chinese():
    with translation.override("zh-hans"):
        assert pgettext("rule", "Active") == "启用"


@pytest.mark.django_db
def test_the_rules_list_and_history_show_rows_in_words(hr_admin, make_rule):
    services.ensure_builtin_event_types()
    rule = make_rule(**TRAINING_RULE)
    services.update_rule(rule=rule, actor=hr_admin.user, reason="juniors too",
                         condition_rows={"join": "any", "rows": ROWS["rows"][:1]})
    client = login_client(hr_admin.user)
    client.cookies["django_language"] = "en"
    rules = client.get(reverse("console:rules")).content.decode()
    assert "Hours ≥ 2" in rules
    history = client.get(reverse("console:rule_history", args=[rule.pk])).content.decode()
    assert "Hours ≥ 2 and Grade ≠ P1" in history
    assert '{"join"' not in history and "&quot;join&quot;" not in history
