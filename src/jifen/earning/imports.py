"""The spreadsheet import of events (any size, in the background) on the shared import
mechanism of ``jifen.core.imports``. Each row is one event; a row without an id gets one
derived from its content, so importing the same sheet again credits nothing twice."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jifen.core.imports import (
    RESULT_LABELS,
    Importer,
    ImportField,
    Problem,
    RowResult,
    cell_date,
    cell_text,
    register,
)
from jifen.core.models import ImportJob
from jifen.earning import engine
from jifen.earning.models import EventStatus, EventType
from jifen.earning.services import EventIn, EventResult, ingest_many, row_event_id
from jifen.people.models import Employee, EmployeeStatus

RESULT_LABELS.update({
    "credited": gettext_lazy("Credited"),
    "pending_approval": gettext_lazy("Pending approval"),
    "duplicate": gettext_lazy("Already imported (duplicates)"),
    "rejected": gettext_lazy("Rejected when scored"),
})

NUMBER_FIELDS = ("minutes", "days", "hours", "percent")
BOOL_FIELDS = ("acclaim", "on_time", "other_department")
TEXT_FIELDS = ("month", "rating", "difficulty", "importance", "level", "course", "title",
               "description", "activity")
TRUE = {"true", "1", "yes", "y", "是", "有", "√"}
FALSE = {"false", "0", "no", "n", "否", "无", ""}


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(9, 0))
    else:
        text = cell_text(value)
        moment = parse_datetime(text.replace("/", "-")) if text else None
        if moment is None:
            day = cell_date(value)  # raises ValueError when it is not a date either
            if day is None:
                raise ValueError(text)
            moment = datetime.combine(day, time(9, 0))
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


@register
class EventImporter(Importer):
    kind = "earning.events"
    scope = "events:write"
    verbose_name = gettext_lazy("events")
    # Each chunk of 1,000 events commits on its own (``ingest_many``): events are unique
    # by source and id, and a row without an id gets a stable one from its content, so a
    # re-run applies only what is missing.
    atomic = False
    fields = (
        ImportField("employee_no", gettext_lazy("Employee number"),
                    ("工号", "员工编号", "员工号", "employee number"), required=True),
        ImportField("type", gettext_lazy("Event type"), ("事件类型", "类型", "event type"),
                    required=True, help_text=gettext_lazy("A code, e.g. attendance_late.")),
        ImportField("occurred_at", gettext_lazy("Occurred at"),
                    ("发生时间", "日期", "时间", "date", "time"), required=True),
        ImportField("source", gettext_lazy("Source"), ("来源", "系统"),
                    help_text=gettext_lazy("Defaults to import.")),
        ImportField("id", gettext_lazy("Event id"), ("事件编号", "编号", "event id"),
                    help_text=gettext_lazy("Unique per source; derived from the row if empty.")),
        ImportField("payload", gettext_lazy("Payload (JSON)"), ("数据", "附加数据", "json")),
        ImportField("month", gettext_lazy("Month"), ("月份",)),
        ImportField("minutes", gettext_lazy("Minutes"), ("分钟", "迟到分钟")),
        ImportField("days", gettext_lazy("Days"), ("天数",)),
        ImportField("hours", gettext_lazy("Hours"), ("小时", "时长")),
        ImportField("rating", gettext_lazy("Rating"), ("评级", "绩效")),
        ImportField("difficulty", gettext_lazy("Difficulty"), ("难度",)),
        ImportField("importance", gettext_lazy("Importance"), ("重要性",)),
        ImportField("acclaim", gettext_lazy("Acclaim"), ("好评",)),
        ImportField("on_time", gettext_lazy("On time"), ("按时",)),
        ImportField("percent", gettext_lazy("Percent"), ("百分比", "达成率")),
        ImportField("level", gettext_lazy("Level"), ("等级", "级别")),
        ImportField("course", gettext_lazy("Course"), ("课程",)),
        ImportField("title", gettext_lazy("Title"), ("标题",)),
        ImportField("description", gettext_lazy("Description"), ("说明", "描述")),
        ImportField("activity", gettext_lazy("Activity"), ("活动",)),
        ImportField("other_department", gettext_lazy("Other department"), ("跨部门",)),
    )
    example_row = {"employee_no": "E10001", "type": "attendance_late",
                   "occurred_at": "2026-03-02 09:12", "source": "attendance", "id": "A-1",
                   "minutes": 12}

    def begin(self) -> dict[str, Any]:
        return {
            "types": {t.code: t for t in EventType.objects.filter(active=True)},
            "employees": dict(Employee.objects.values_list("employee_no", "status")),
        }

    def parse(self, values: dict[str, Any], context: dict[str, Any],
              ) -> tuple[EventIn | None, list[Problem]]:
        text = {name: cell_text(value) for name, value in values.items()}
        problems: list[Problem] = []
        event_type: EventType | None = context["types"].get(text.get("type", ""))
        if event_type is None:
            problems.append(("type", _("Unknown event type %s.") % text.get("type", "")))
        status = context["employees"].get(text.get("employee_no", ""))
        if status is None:
            problems.append(("employee_no", _("No employee has the number %s.")
                             % text.get("employee_no", "")))
        elif status != EmployeeStatus.ACTIVE:
            problems.append(("employee_no", _("This employee has left.")))
        occurred_at = None
        try:
            occurred_at = _moment(values.get("occurred_at"))
        except (ValueError, TypeError):
            problems.append(("occurred_at", _("%s is not a date and time.")
                             % text.get("occurred_at", "")))
        payload: dict[str, Any] = {}
        if text.get("payload"):
            try:
                payload = json.loads(text["payload"])
            except ValueError:
                problems.append(("payload", _("The payload is not valid JSON.")))
            if not isinstance(payload, dict):
                problems.append(("payload", _("The payload must be a JSON object.")))
                payload = {}
        for name in NUMBER_FIELDS:
            raw = values.get(name)
            if raw is None or text.get(name) == "":
                continue
            try:
                number = float(raw)
            except (TypeError, ValueError):
                problems.append((name, _("%s is not a number.") % text[name]))
                continue
            payload[name] = int(number) if number.is_integer() else number
        for name in BOOL_FIELDS:
            if text.get(name):
                lowered = text[name].lower()
                if lowered not in TRUE | FALSE:
                    problems.append((name, _("Write yes or no.")))
                payload[name] = lowered in TRUE
        for name in TEXT_FIELDS:
            if text.get(name):
                payload[name] = text[name]
        problem = (engine.schema_problem(event_type.schema, payload)
                   if event_type is not None and not problems else "")
        if problem:
            problems.append(("payload", problem))
        if problems or occurred_at is None:
            return None, problems
        source = text.get("source") or "import"
        ext_id = text.get("id") or row_event_id(
            text["type"], text["employee_no"], occurred_at.isoformat(),
            json.dumps(payload, sort_keys=True, ensure_ascii=False))
        if len(source) > 60 or len(ext_id) > 120:
            return None, [("id", _("The source or id is too long."))]
        return EventIn(source=source, id=ext_id, type=text["type"],
                       employee_no=text["employee_no"], occurred_at=occurred_at,
                       payload=payload), []

    def check_batch(self, results: list[RowResult], context: Any) -> None:
        seen: dict[tuple[str, str], int] = {}
        for result in results:
            if not result.ok or result.item is None:
                continue
            result.item.row_number = result.row
            key = (result.item.source, result.item.id)
            if key in seen:
                result.add("id", _("The same event as row %d.") % seen[key])
            else:
                seen[key] = result.row

    def commit(self, items: list[EventIn], *, actor: Any, job: ImportJob,
               progress: Callable[[int], None]) -> dict[str, int]:
        counts = {status.value: 0 for status in EventStatus}
        done = 0

        def record(chunk: list[EventIn], results: list[EventResult]) -> None:
            nonlocal done
            rejected = []
            for item, result in zip(chunk, results, strict=True):
                counts[result.status] += 1
                if result.status == EventStatus.REJECTED:
                    rejected.append({"row": item.row_number, "field": "", "message": _(
                        "Rejected when scored: %(reason)s %(detail)s")
                        % {"reason": result.reason, "detail": result.detail}})
            # Saved with its chunk, which is committed: should a later chunk fail, the
            # report still lists these rows.
            if rejected:
                job.error_rows = [*job.error_rows, *rejected]
                job.save(update_fields=["error_rows", "updated_at"])
            done += len(chunk)
            progress(done)

        ingest_many(events=items, actor=actor, import_job=job,
                    received_by=_("Import #%d") % job.pk, after_chunk=record)
        return counts
