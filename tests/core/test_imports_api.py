"""/api/v1/imports: the console's spreadsheet imports for systems — the same jobs as the
pages, driven with an API key: upload → the worker checks every row → per-row report →
commit → the worker imports."""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings

from jifen.core.models import AuditEntry, ImportJob
from jifen.core.roles import Role
from jifen.people.models import Employee
from tests.earning.test_api import key_with

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
HEADER = ["工号", "姓名", "部门编码", "状态"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@contextmanager
def worker():
    """What a request enqueues runs at the end of the block, as `jifen worker` would."""
    with override_settings(TASKS=IMMEDIATE), TestCase.captureOnCommitCallbacks(execute=True):
        yield


def sheet(*rows: list[str], name: str = "people.csv") -> SimpleUploadedFile:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER, *rows])
    return SimpleUploadedFile(name, buffer.getvalue().encode())


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def upload(client, token, file, kind="people.employees"):
    with worker():
        answer = client.post("/api/v1/imports/jobs", {"kind": kind, "file": file},
                             **bearer(token))
    return answer


def call(client, method, path, token, body=None):
    with worker():
        return getattr(client, method)(path, data=body or {}, content_type="application/json",
                                       **bearer(token))


def test_an_hr_system_imports_employees_with_a_per_row_report(client, department):
    token = key_with("employees:write")
    started = upload(client, token, sheet(["E1", "王芳", "HQ", "在职"],
                                          ["E2", "李雷", "NOPE", "在职"],
                                          ["E3", "韩梅", "HQ", ""]))
    assert started.status_code == 202, started.content
    job_id = started.json()["id"]

    job = call(client, "get", f"/api/v1/imports/jobs/{job_id}", token).json()
    assert job["status"] == "previewed"
    assert (job["total_rows"], job["valid_rows"], job["error_count"]) == (3, 2, 1)
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(3, "department_code")]
    assert job["mapping"]["employee_no"] == 0 and job["mapping"]["email"] is None

    refused = call(client, "post", f"/api/v1/imports/jobs/{job_id}/commit", token,
                   {"mode": "all"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "import_has_errors"
    assert not Employee.objects.filter(employee_no__in=["E1", "E3"]).exists()

    done = call(client, "post", f"/api/v1/imports/jobs/{job_id}/commit", token,
                {"mode": "valid_only"})
    assert done.status_code == 202
    job = call(client, "get", f"/api/v1/imports/jobs/{job_id}", token).json()
    assert job["status"] == "done" and job["result"]["imported"] == 2
    assert set(Employee.objects.filter(employee_no__in=["E1", "E2", "E3"])
               .values_list("employee_no", flat=True)) == {"E1", "E3"}
    # Who did it is the key, by name, on the audit trail.
    assert AuditEntry.objects.filter(actor_label__startswith="API key test").exists()

    report = call(client, "get", f"/api/v1/imports/jobs/{job_id}/errors?format=csv", token)
    assert report.status_code == 200
    assert "NOPE" in report.content.decode("utf-8-sig")


def test_a_new_mapping_checks_every_row_again(client, department):
    token = key_with("employees:write")
    job_id = upload(client, token, sheet(["E1", "王芳", "HQ", "在职"])).json()["id"]
    unknown = call(client, "put", f"/api/v1/imports/jobs/{job_id}/mapping", token,
                   {"mapping": {"salary": 3}})
    assert unknown.status_code == 422
    incomplete = call(client, "put", f"/api/v1/imports/jobs/{job_id}/mapping", token,
                      {"mapping": {"employee_no": 0}})
    assert incomplete.status_code == 422
    assert incomplete.json()["error"]["code"] == "incomplete_mapping"
    # The status column left out: the worker checks every row again without it.
    remapped = call(client, "put", f"/api/v1/imports/jobs/{job_id}/mapping", token,
                    {"mapping": {"employee_no": 0, "name": 1, "department_code": 2}})
    assert remapped.status_code == 202
    job = call(client, "get", f"/api/v1/imports/jobs/{job_id}", token).json()
    assert job["status"] == "previewed" and job["mapping"]["status"] is None


def test_bad_files_and_kinds_are_refused_and_nothing_is_stored(client, department):
    token = key_with("employees:write")
    text = upload(client, token, SimpleUploadedFile("people.pdf", b"%PDF-1.4"))
    assert text.status_code == 422 and text.json()["error"]["code"] == "unsupported_file"
    missing = call(client, "post", "/api/v1/imports/jobs", token)
    assert missing.status_code in (404, 422)
    with worker():
        no_file = client.post("/api/v1/imports/jobs", {"kind": "people.employees"},
                              **bearer(token))
    assert no_file.status_code == 422
    unknown = upload(client, token, sheet(["E1", "王芳", "HQ", ""]), kind="people.salaries")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_import"
    broken = upload(client, token, SimpleUploadedFile("people.xlsx", b"not a zip"))
    assert broken.status_code == 422
    assert ImportJob.objects.count() == 0


def test_a_key_needs_the_importers_scope(client, department):
    events_key = key_with("events:write")
    refused = upload(client, events_key, sheet(["E1", "王芳", "HQ", ""]))
    assert refused.status_code == 403
    assert refused.json()["error"]["details"]["required_scope"] == "employees:write"
    assert ImportJob.objects.count() == 0

    job_id = upload(client, key_with("employees:write"),
                    sheet(["E1", "王芳", "HQ", ""])).json()["id"]
    assert call(client, "get", f"/api/v1/imports/jobs/{job_id}", events_key).status_code == 403
    kinds = call(client, "get", "/api/v1/imports/kinds", events_key).json()
    assert [k["kind"] for k in kinds] == ["earning.events"]


def test_a_key_cannot_offboard_a_super_admin_by_import(client, make_role_employee):
    admin = make_role_employee(Role.SUPER_ADMIN)
    token = key_with("employees:write")
    job_id = upload(client, token, sheet(
        [admin.employee_no, admin.name, admin.department.code, "离职"])).json()["id"]
    job = call(client, "get", f"/api/v1/imports/jobs/{job_id}", token).json()
    # The worker checks the rows for the key, which is not a super admin.
    assert job["error_count"] == 1 and job["errors"][0]["field"] == "status"
    assert call(client, "post", f"/api/v1/imports/jobs/{job_id}/commit", token,
                {"mode": "all"}).status_code == 409
    assert Employee.objects.get(pk=admin.pk).status == "active"


def test_a_cancelled_job_cannot_be_committed(client, department):
    token = key_with("employees:write")
    job_id = upload(client, token, sheet(["E1", "王芳", "HQ", ""])).json()["id"]
    cancelled = call(client, "post", f"/api/v1/imports/jobs/{job_id}/cancel", token)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = call(client, "post", f"/api/v1/imports/jobs/{job_id}/commit", token,
                 {"mode": "valid_only"})
    assert again.status_code == 409
    assert not Employee.objects.filter(employee_no="E1").exists()
