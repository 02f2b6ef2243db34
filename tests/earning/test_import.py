from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from jifen.core import errors
from jifen.core.imports import create_import_job, error_report, start_import_commit
from jifen.core.models import ImportJob
from jifen.earning.imports import EventImporter
from jifen.earning.models import Event
from jifen.ledger.selectors import balance
from tests.factories import EmployeeFactory

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def attendance_sheet(employees, rows: int) -> tuple[bytes, set[int]]:
    """A sheet of late arrivals and full months; every 500th row is bad."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["工号", "事件类型", "发生时间", "迟到分钟"])
    bad = set()
    for n in range(rows):
        employee = employees[n % len(employees)]
        day = 1 + n // len(employees) % 28
        month = 1 + n // (len(employees) * 28) % 12
        year = 2024 + n // (len(employees) * 28 * 12)
        if n % 500 == 7:
            writer.writerow(["NOBODY", "attendance_late",
                             f"{year}-{month:02d}-{day:02d} 09:{n % 60:02d}", 5])
            bad.add(n + 2)
        elif n % 2:
            writer.writerow([employee.employee_no, "attendance_full_month",
                             f"{year}-{month:02d}-{day:02d} 18:{n % 60:02d}", ""])
        else:
            writer.writerow([employee.employee_no, "attendance_late",
                             f"{year}-{month:02d}-{day:02d} 09:{n % 60:02d}", 3 + n % 20])
    return buffer.getvalue().encode("utf-8"), bad


def run(upload: bytes, actor, capture) -> ImportJob:
    """Upload and commit, the worker (the immediate backend) reading and committing."""
    with capture(execute=True):
        job = create_import_job(importer=EventImporter(),
                                upload=SimpleUploadedFile("attendance.csv", upload), actor=actor)
    job.refresh_from_db()
    with capture(execute=True):
        start_import_commit(job=job, mode="valid_only", actor=actor)
    job.refresh_from_db()
    return job


@pytest.mark.django_db
@override_settings(TASKS=IMMEDIATE)
def test_ten_thousand_rows_with_bad_ones_credit_once_even_when_run_twice(
        department, hr_admin, make_rule, django_capture_on_commit_callbacks, verify_clean):
    make_rule(name="Full attendance", event_type="attendance_full_month",
              category="attendance", formula={"kind": "fixed", "points": 10})
    make_rule(name="Late", event_type="attendance_late", category="attendance",
              formula={"kind": "fixed", "points": -5})
    employees = [EmployeeFactory(department=department) for _ in range(20)]
    data, bad_rows = attendance_sheet(employees, 10_000)

    first = run(data, hr_admin.user, django_capture_on_commit_callbacks)
    assert first.status == "done", first.failure_reason
    assert first.progress_percent == 100
    assert first.error_count == len(bad_rows) == 20
    assert {e["row"] for e in first.error_rows} == bad_rows
    assert first.result["credited"] == 10_000 - 20
    content, _type, _name = error_report(first, "csv")
    assert "NOBODY" in content.decode("utf-8-sig")
    balances = {e.pk: balance(employee=e).spendable for e in employees}
    assert Event.objects.count() == 10_000 - 20

    again = run(data, hr_admin.user, django_capture_on_commit_callbacks)
    assert again.status == "done"
    assert again.result["duplicate"] == 10_000 - 20 and again.result["credited"] == 0
    assert {e.pk: balance(employee=e).spendable for e in employees} == balances
    assert Event.objects.count() == 10_000 - 20
    verify_clean()


@pytest.mark.django_db(transaction=True)  # the chunks commit: see them survive a failure
@override_settings(TASKS=IMMEDIATE)
def test_an_import_that_stops_midway_keeps_whole_chunks_and_a_rerun_finishes_it(
        department, hr_admin, make_rule, monkeypatch, verify_clean):
    from jifen.earning import services
    from jifen.earning.services import intake
    from jifen.ledger import services as ledger

    ledger.ensure_company_accounts()  # a flush between transactional tests removed them
    services.ensure_builtin_event_types()
    make_rule(name="Full attendance", event_type="attendance_full_month",
              category="attendance", formula={"kind": "fixed", "points": 10})
    make_rule(name="Late", event_type="attendance_late", category="attendance",
              formula={"kind": "fixed", "points": -5})
    employees = [EmployeeFactory(department=department) for _ in range(20)]
    data, bad_rows = attendance_sheet(employees, 2_500)  # chunks of 1,000, 1,000 and 500
    real_ingest = intake.ingest_events
    calls = []

    def ingest_failing_the_second_chunk(*, events, **kwargs):
        calls.append(len(events))
        if len(calls) == 2:
            raise errors.ValidationError("the database went away", code="test")
        return real_ingest(events=events, **kwargs)

    def run_committed(upload):
        job = create_import_job(importer=EventImporter(),
                                upload=SimpleUploadedFile("attendance.csv", upload),
                                actor=hr_admin.user)
        job.refresh_from_db()  # read by the worker (immediate) once the upload committed
        start_import_commit(job=job, mode="valid_only", actor=hr_admin.user)
        job.refresh_from_db()
        return job

    from django.utils import translation

    monkeypatch.setattr(intake, "ingest_events", ingest_failing_the_second_chunk)
    with translation.override("en"):
        stopped = run_committed(data)
    assert stopped.status == "failed"
    assert "the database went away" in stopped.failure_reason
    assert "run the same file again" in stopped.failure_reason
    assert Event.objects.count() == 1_000  # the first chunk, whole; nothing of the second
    verify_clean()

    monkeypatch.setattr(intake, "ingest_events", real_ingest)
    finished = run_committed(data)
    assert finished.status == "done", finished.failure_reason
    assert finished.result["duplicate"] == 1_000
    assert Event.objects.count() == 2_500 - len(bad_rows)
    verify_clean()
