"""The earning pages speak the reader's language: payload fields and values by their
schema titles, built-in event types by their name in Chinese or English, rule formulas
and rule history in words rather than JSON."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from jifen.core.roles import Role
from jifen.earning import services
from jifen.earning.builtins import BUILTIN_EVENT_TYPES, untitled
from jifen.earning.display import PayloadLabels
from jifen.earning.models import EventType
from tests.conftest import login_client
from tests.earning.conftest import event, ingest
from tests.factories import DepartmentFactory, EmployeeFactory

DIFFICULTY = {"kind": "table", "field": "difficulty",
              "points": {"low": 50, "medium": 100, "high": 150, "critical": 200}}


def zh(text: str) -> str:
    """``text`` as the Chinese UI shows it."""
    with translation.override("zh-hans"):
        return gettext(text)


def page(user, name: str, *args, language: str = "zh-hans", **query) -> str:
    client = login_client(user)
    client.cookies["django_language"] = language
    response = client.get(reverse(name, args=args), query)
    assert response.status_code == 200
    return response.content.decode()


# --- 1. rule badges on /earn/ -----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_how_to_earn_names_payload_fields_and_values_by_their_titles(employee, make_rule,
                                                                     language):
    make_rule(name="模块按时交付", event_type="task_delivered", formula=DIFFICULTY)
    make_rule(name="培训", event_type="training_completed", category="learning",
              formula={"kind": "per_unit", "field": "days", "points": 15})
    make_rule(name="好评", event_type="task_delivered",
              formula={"kind": "table", "field": "acclaim", "points": {"true": 30}})
    html = page(employee.user, "portal:earn", language=language)
    assert "difficulty" not in html and "low: +50" not in html and "per days" not in html
    if language == "en":
        assert "by Difficulty (Low: +50, Medium: +100, High: +150, Critical: +200) points" in html
        assert "+15 points × Days" in html
        assert "by Acclaim (Yes: +30) points" in html
        assert "Task or project delivered" in html
    else:
        assert f"按 难度（{zh('Low')}: +50, {zh('Medium')}: +100, {zh('High')}: +150, " \
               f"{zh('Critical')}: +200）积分" in html
        assert "+15 积分 × 天数" in html
        assert "按 好评（是: +30）积分" in html
        assert zh("Task or project delivered") in html


@pytest.mark.django_db
def test_an_admin_type_without_titles_shows_raw_names_and_its_titles_as_typed(employee,
                                                                               hr_admin,
                                                                               make_rule):
    services.create_event_type(actor=hr_admin.user, code="hackathon", name="黑客松", schema={
        "type": "object", "properties": {
            "place": {"type": "string", "title": "名次",
                      "oneOf": [{"const": "1", "title": "冠军"}, {"const": "2", "title": "亚军"}]},
            "team_size": {"type": "integer"}}})
    make_rule(name="黑客松获奖", event_type="hackathon",
              formula={"kind": "table", "field": "place", "points": {"1": 100, "2": 50}})
    make_rule(name="黑客松参与", event_type="hackathon",
              formula={"kind": "per_unit", "field": "team_size", "points": 2})
    html = page(employee.user, "portal:earn", language="en")
    assert "by 名次 (冠军: +100, 亚军: +50) points" in html
    assert "+2 points × team_size" in html
    assert "黑客松" in html


def test_payload_labels_follow_nested_properties_and_fall_back_to_the_raw_name():
    labels = PayloadLabels({"properties": {"project": {"title": "Project", "properties": {
        "size": {"title": "Size", "enum": ["s", "l"], "enumNames": ["Small", "Large"]}}}}})
    assert labels.field("project.size") == "Size"
    assert labels.value("project.size", "l") == "Large"
    assert labels.field("project.owner") == "project.owner"
    assert labels.value("project.owner", "x") == "x"
    assert labels.pairs({"other": [1, 2], "project": {"size": "s"}}) == [
        ("Project", '{"size": "s"}'), ("other", "1, 2")]


# --- 2. built-in event types in both languages --------------------------------------------


@pytest.mark.django_db
def test_builtin_event_types_are_named_in_the_readers_language(hr_admin):
    services.create_event_type(actor=hr_admin.user, code="hackathon", name="黑客松",
                               description="年度黑客松")
    english = page(hr_admin.user, "console:event_types", language="en")
    assert "Full attendance for a month" in english
    assert "No late arrivals or absences in a calendar month." in english
    assert "全勤" not in english and "黑客松" in english and "年度黑客松" in english
    chinese = page(hr_admin.user, "console:event_types")
    assert zh("Full attendance for a month") in chinese
    assert zh("No late arrivals or absences in a calendar month.") in chinese
    assert "黑客松" in chinese and "年度黑客松" in chinese


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_rule_form_and_event_log_filter_name_builtin_types_in_the_readers_language(
        hr_admin, language):
    name = "Late arrival" if language == "en" else zh("Late arrival")
    form = page(hr_admin.user, "console:rule_create", language=language)
    assert f'value="attendance_late">{name}</option>' in form
    log = page(hr_admin.user, "console:event_log", language=language)
    assert f">{name} (attendance_late)</option>" in log
    if language == "en":
        assert "迟到" not in form and "迟到" not in log


@pytest.mark.django_db
def test_a_renamed_builtin_type_keeps_the_name_the_admin_gave_it(hr_admin):
    late = EventType.objects.get(code="attendance_late")
    services.update_event_type(event_type=late, actor=hr_admin.user, name="晚到")
    assert "晚到" in page(hr_admin.user, "console:event_types", language="en")


@pytest.mark.django_db
def test_the_api_names_builtin_types_in_the_sites_language(api_client_for_admin):
    found = {t["code"]: t for t in api_client_for_admin.get("/api/v1/event-types").json()}
    assert found["attendance_late"]["name"] == zh("Late arrival")


@pytest.fixture
def api_client_for_admin(db):
    from django.test import Client

    from jifen.integrations.services import create_api_key

    return Client(HTTP_AUTHORIZATION=f"Bearer {create_api_key(name='t', scopes=['admin'])[1]}")


@pytest.mark.django_db
def test_the_migration_renames_untouched_builtin_rows_and_keeps_admin_edits():
    migration = importlib.import_module(
        "jifen.earning.migrations.0005_builtin_event_type_names")
    late = EventType.objects.get(code="attendance_late")
    late.name, late.description = "迟到", "Late arrival"
    late.schema = untitled(late.schema)
    late.save()
    task = EventType.objects.get(code="task_delivered")
    task.name, task.description = "交付（自定义）", "我们的说明"
    task.schema = {"type": "object"}
    task.save()
    migration.forwards(apps, None)
    late.refresh_from_db()
    task.refresh_from_db()
    seed = BUILTIN_EVENT_TYPES["attendance_late"]
    assert (late.name, late.description, late.schema) == (seed.name, seed.description,
                                                          seed.schema)
    assert (task.name, task.description, task.schema) == ("交付（自定义）", "我们的说明",
                                                          {"type": "object"})
    migration.backwards(apps, None)
    late.refresh_from_db()
    assert (late.name, late.description) == ("迟到", "Late arrival")
    assert late.schema == untitled(seed.schema)


def test_a_payload_field_called_title_is_a_field_not_a_label():
    """idea_adopted has a field named "title": stripping labels must keep it."""
    seed = BUILTIN_EVENT_TYPES["idea_adopted"].schema
    assert "title" in seed["properties"]
    stripped = untitled(seed)
    assert "title" in stripped["properties"]
    assert "title" not in stripped["properties"]["title"]  # its label is gone
    edited = {**seed, "properties": {**seed["properties"], "title": {"type": "integer"}}}
    assert untitled(edited) != stripped  # an admin's edit to it is seen as an edit


# --- 3. rules list -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_rules_list_shows_the_formula_in_words(hr_admin, make_rule, language):
    make_rule(name="交付", event_type="task_delivered", formula=DIFFICULTY)
    html = page(hr_admin.user, "console:rules", language=language)
    assert '"kind"' not in html and "&quot;kind&quot;" not in html
    if language == "en":
        assert "by Difficulty (Low: +50, Medium: +100, High: +150, Critical: +200)" in html
    else:
        assert f"按 难度（{zh('Low')}: +50" in html


@pytest.mark.django_db
def test_rules_search_finds_a_builtin_type_by_its_shown_name(hr_admin, make_rule):
    make_rule(name="Punctuality", event_type="attendance_late",
              formula={"kind": "fixed", "points": -5})
    html = page(hr_admin.user, "console:rules", language="en", q="Late arr")
    assert "Punctuality" in html
    html = page(hr_admin.user, "console:rules", q=zh("Late arrival"))
    assert "Punctuality" in html


# --- 4. rule history ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_rule_history_names_fields_and_shows_values_in_words(hr_admin, make_rule, language):
    rule = make_rule(name="协作", event_type="helped_colleague", category="teamwork",
                     formula={"kind": "range", "min": 30, "max": 80})
    services.update_rule(rule=rule, actor=hr_admin.user, reason="更严格",
                         formula={"kind": "range", "min": 30, "max": 100},
                         approver_role="hr", caps={"month": 200}, active=False,
                         expiry={"mode": "months", "months": 6})
    html = page(hr_admin.user, "console:rule_history", rule.pk, language=language)
    assert "requires_approval" not in html and "approver_role" not in html
    assert '"max"' not in html and "&quot;max&quot;" not in html
    assert 'data-testid="rule-changes"' in html and 'class="table-responsive' in html
    if language == "en":
        for text in ("Requires approval", "Approver", "Caps", "Formula", "Expiry override",
                     "Active", "<del>Yes</del>", ">No</td>", "6 months after earning",
                     "30–80 points, decided by an approver",
                     "30–100 points, decided by an approver",
                     "at most 200 points per month", "HR",
                     "Teamwork", "Helped a colleague or another department"):
            assert text in html, text
    else:
        for text in ("需要审批", "审批人", "上限", "公式", "30–100 积分，由审批人决定",
                     "<del>是</del>", ">否</td>"):
            assert text in html, text


# --- 5. approvals --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_approval_queue_shows_the_payload_as_labelled_values(make_rule, language):
    team = DepartmentFactory(code="OPS")
    manager = EmployeeFactory(department=team, roles=[Role.MANAGER])
    team.manager = manager
    team.save()
    worker = EmployeeFactory(department=team)
    make_rule(name="协作", event_type="helped_colleague", category="teamwork",
              formula={"kind": "range", "min": 30, "max": 80})
    ingest(event(worker, "helped_colleague",
                 {"description": "协助其他部门完成上线", "other_department": True}))
    html = page(manager.user, "console:approvals", language=language)
    assert "&quot;other_department&quot;" not in html and "other_department" not in html
    assert "协助其他部门完成上线" in html
    if language == "en":
        assert "Description:</dt> <dd" in html and "Other department:</dt> <dd" in html
        assert '<dd class="d-inline mb-0">Yes</dd>' in html
    else:
        assert "其他部门" in html and '<dd class="d-inline mb-0">是</dd>' in html


# --- 6. event log --------------------------------------------------------------------------


@pytest.mark.django_db
def test_event_log_shows_the_type_by_name(hr_admin, employee, make_rule):
    make_rule(name="交付", event_type="task_delivered", formula=DIFFICULTY)
    ingest(event(employee, "task_delivered", {"difficulty": "low"}),
           event(employee, "no_such_type", {}))
    html = page(hr_admin.user, "console:event_log", language="en")
    assert '<td data-label="Type">Task or project delivered<div' in html
    assert '<td data-label="Type">no_such_type</td>' in html
    assert '<span class="small">Unknown event type</span>' in html
