"""The built-in event types of DESIGN.md §4, as data: code → name, description and payload
JSON Schema. ``services.ensure_builtin_event_types`` writes them.

Names, descriptions, the schemas' property ``title``\\ s and their ``enumNames`` (labels
for an ``enum``'s values, in the same order) are English message ids: they are stored as
written here and translated when shown (``EventType.display_name``,
``jifen.earning.display``), the way a category's label is. Admin-created types are shown
exactly as they were typed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_noop


@dataclass(frozen=True)
class BuiltinEventType:
    name: str
    description: str
    schema: dict[str, Any]


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or [],
            "additionalProperties": True}


def _num(title: str) -> dict[str, Any]:
    return {"type": "number", "minimum": 0, "title": title}


def _str(title: str) -> dict[str, Any]:
    return {"type": "string", "maxLength": 500, "title": title}


def _bool(title: str) -> dict[str, Any]:
    return {"type": "boolean", "title": title}


def _choice(title: str, choices: list[tuple[str, str]]) -> dict[str, Any]:
    return {"type": "string", "title": title, "enum": [value for value, _label in choices],
            "enumNames": [label for _value, label in choices]}


_LOW, _MEDIUM, _HIGH = ("low", gettext_noop("Low")), ("medium", gettext_noop("Medium")), (
    "high", gettext_noop("High"))
_TARGET = _str(gettext_noop("Content"))

BUILTIN_EVENT_TYPES: dict[str, BuiltinEventType] = {
    "attendance_full_month": BuiltinEventType(
        gettext_noop("Full attendance for a month"),
        gettext_noop("No late arrivals or absences in a calendar month."),
        _obj({"month": {"type": "string", "pattern": r"^\d{4}-\d{2}$",
                        "title": gettext_noop("Month")}})),
    "attendance_late": BuiltinEventType(
        gettext_noop("Late arrival"),
        gettext_noop("Arrived after the start of the working day."),
        _obj({"minutes": _num(gettext_noop("Minutes"))})),
    "attendance_absent": BuiltinEventType(
        gettext_noop("Absence"),
        gettext_noop("Absent from work without leave."),
        _obj({"days": _num(gettext_noop("Days"))})),
    "performance_rating": BuiltinEventType(
        gettext_noop("Performance rating"),
        gettext_noop("A rating from the performance review."),
        _obj({"rating": {"type": "string", "enum": ["S", "A", "B", "C", "D"],
                         "title": gettext_noop("Rating")},
              "period": _str(gettext_noop("Period"))}, ["rating"])),
    "task_delivered": BuiltinEventType(
        gettext_noop("Task or project delivered"),
        gettext_noop("A task or project was delivered, with its difficulty and importance."),
        _obj({"name": _str(gettext_noop("Task")),
              "difficulty": _choice(gettext_noop("Difficulty"),
                                    [_LOW, _MEDIUM, _HIGH,
                                     ("critical", gettext_noop("Critical"))]),
              "importance": _choice(gettext_noop("Importance"), [_LOW, _MEDIUM, _HIGH]),
              "on_time": _bool(gettext_noop("On time")),
              "acclaim": _bool(gettext_noop("Acclaim"))}, ["difficulty"])),
    "sales_target_reached": BuiltinEventType(
        gettext_noop("Sales target reached"),
        gettext_noop("A sales target was reached, in percent of the target."),
        _obj({"percent": _num(gettext_noop("Percent"))}, ["percent"])),
    "training_completed": BuiltinEventType(
        gettext_noop("Training completed"),
        gettext_noop("A training course was completed."),
        _obj({"course": _str(gettext_noop("Course")), "days": _num(gettext_noop("Days")),
              "hours": _num(gettext_noop("Hours"))})),
    "certificate_obtained": BuiltinEventType(
        gettext_noop("Certificate obtained"),
        gettext_noop("A professional certificate was obtained."),
        _obj({"name": _str(gettext_noop("Certificate")),
              "level": _choice(gettext_noop("Level"),
                               [("junior", gettext_noop("Junior")),
                                ("intermediate", gettext_noop("Intermediate")),
                                ("senior", gettext_noop("Senior"))])},
             ["level"])),
    "idea_adopted": BuiltinEventType(
        gettext_noop("Idea adopted"),
        gettext_noop("A suggestion was adopted by the company."),
        _obj({"title": _str(gettext_noop("Title"))})),
    "helped_colleague": BuiltinEventType(
        gettext_noop("Helped a colleague or another department"),
        gettext_noop("Help given to a colleague or to another department."),
        _obj({"description": _str(gettext_noop("Description")),
              "other_department": _bool(gettext_noop("Other department")),
              "colleague_employee_no": _str(gettext_noop("Colleague (employee number)"))})),
    "volunteering": BuiltinEventType(
        gettext_noop("Volunteering"),
        gettext_noop("Volunteer work, in hours."),
        _obj({"activity": _str(gettext_noop("Activity")),
              "hours": _num(gettext_noop("Hours"))})),
    "social_post_approved": BuiltinEventType(
        gettext_noop("Approved social media post"),
        gettext_noop("A post about the company, approved before it counts."),
        _obj({"url": _str(gettext_noop("Link")), "platform": _str(gettext_noop("Platform"))})),
    "daily_checkin": BuiltinEventType(
        gettext_noop("Daily check-in"),
        gettext_noop("Checked in for the day."),
        _obj({})),
    "comment": BuiltinEventType(
        gettext_noop("Comment"), gettext_noop("A comment on a document or course."),
        _obj({"target": _TARGET})),
    "share": BuiltinEventType(
        gettext_noop("Share"), gettext_noop("A document or course was shared."),
        _obj({"target": _TARGET})),
    "download": BuiltinEventType(
        gettext_noop("Download"), gettext_noop("A document or course was downloaded."),
        _obj({"target": _TARGET})),
    # Reported by the library (jifen.library.services.resources).
    "resource_approved": BuiltinEventType(
        gettext_noop("Contribution approved"),
        gettext_noop("A resource the employee contributed was approved for the library."),
        _obj({"target": _TARGET})),
    "resource_download_share": BuiltinEventType(
        gettext_noop("Contributed resource bought"),
        gettext_noop("A colleague paid points for a resource the employee contributed."),
        _obj({"target": _TARGET, "price": _num(gettext_noop("Price"))})),
}


def untitled(schema: Any) -> Any:
    """The schema without its titles and value labels (what it validates is unchanged by
    them): how a data migration tells an untouched built-in schema from an edited one.
    The keys of ``properties`` are field names — a field may be called "title"."""
    if isinstance(schema, list):
        return [untitled(value) for value in schema]
    if not isinstance(schema, dict):
        return schema
    return {key: ({name: untitled(field) for name, field in value.items()}
                  if key == "properties" and isinstance(value, dict) else untitled(value))
            for key, value in schema.items() if key not in ("title", "enumNames")}
