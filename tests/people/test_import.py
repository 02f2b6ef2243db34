"""The employee spreadsheet import, through its pages as an HR admin uses it."""

from __future__ import annotations

import codecs
import csv
import io
import re
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from jifen.core import errors
from jifen.core.models import AuditEntry, ImportJob
from jifen.core.roles import Role
from jifen.people.models import AccessToken, Employee, EmployeeStatus, User
from jifen.people.services import EmployeeData, import_employees
from tests.conftest import login_client
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db

HEADER = ["工号", "姓名", "部门编码", "邮箱", "手机", "职位", "职级", "入职日期", "状态"]
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@contextmanager
def worker():
    """What the request enqueues on commit runs at the end of the block, as `jifen worker`
    would (the reading and checking of an upload, a commit)."""
    with override_settings(TASKS=IMMEDIATE), TestCase.captureOnCommitCallbacks(execute=True):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def rd(db):
    return DepartmentFactory(code="RD", name="研发部")


@pytest.fixture
def admin_client(hr_admin):
    client = login_client(hr_admin.user)
    # English messages, whatever translations are compiled.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def person(i: int, **changes) -> list:
    row = {"no": f"P{i:05d}", "name": f"员工{i}", "dept": "RD", "email": f"e{i}@example.com",
           "phone": 13800000000 + i, "position": "工程师", "grade": "P5",
           "hired": datetime(2024, 3, 1), "status": "在职"}
    row.update(changes)
    return list(row.values())


def xlsx_upload(rows: list[list], header: list | None = None, name: str = "employees.xlsx",
                ) -> SimpleUploadedFile:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(header or HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def csv_upload(rows: list[list], encoding: str, bom: bool = False) -> SimpleUploadedFile:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER, *rows])
    data = (codecs.BOM_UTF8 if bom else b"") + buffer.getvalue().encode(encoding)
    return SimpleUploadedFile("employees.csv", data)


def upload(client, file) -> ImportJob:
    """Upload through the page; the worker then reads and checks the file."""
    with worker():
        response = client.post(reverse("people_import:start"), {"file": file})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.latest("pk")
    assert response["Location"] == reverse("people_import:preview", args=[job.pk])
    return job


def commit(client, job: ImportJob, mode: str):
    with worker():
        return client.post(reverse("people_import:commit", args=[job.pk]), {"mode": mode})


def imported() -> dict[str, Employee]:
    return {e.employee_no: e for e in Employee.objects.filter(employee_no__startswith="P0")
            .select_related("user", "department")}


def test_acceptance_5000_rows_with_3_bad_ones_preview_then_import_the_valid_rows(
        admin_client, rd, django_assert_max_num_queries):
    rows = [person(i) for i in range(5000)]
    rows[100] = person(100, dept="NOPE")            # sheet row 102
    rows[2000] = person(2000, email="not-an-email")  # sheet row 2002
    rows[4999] = person(4999, name="")               # sheet row 5001
    employees_before = Employee.objects.count()

    job = upload(admin_client, xlsx_upload(rows))
    page = admin_client.get(reverse("people_import:preview", args=[job.pk]))

    # The preview names exactly the three bad rows, by sheet row number, with the reason.
    html = page.content.decode()
    assert page.status_code == 200
    assert sorted(int(n) for n in re.findall(r'<tr data-row="(\d+)"', html)) == [102, 2002, 5001]
    assert "Unknown department NOPE." in html
    assert "not-an-email is not a valid e-mail address." in html
    assert "A name is required." in html
    assert [(e["row"], e["field"]) for e in job.error_rows] == [
        (102, "department_code"), (2002, "email"), (5001, "name")]
    assert (job.total_rows, job.valid_rows, job.error_count) == (5000, 4997, 3)
    assert 'data-testid="import-all"' not in html
    assert "Import only the 4997 valid rows" in html
    # The first good rows, under the right headings.
    assert re.search(r"<th>Employee number</th><th>Name</th><th>Department code</th>", html)
    assert re.search(r"<td>2</td><td>P00000</td><td>员工0</td><td>RD</td>", html)
    # Nothing is written by the preview.
    assert Employee.objects.count() == employees_before

    # "Import all" is refused while errors exist.
    refused = commit(admin_client, job, "all")
    assert refused.status_code == 409
    assert "3 rows have errors" in refused.content.decode()
    assert Employee.objects.count() == employees_before

    # The error report holds the bad rows.
    report = admin_client.get(reverse("people_import:errors", args=[job.pk, "xlsx"]))
    sheet = load_workbook(io.BytesIO(report.content)).active
    lines = [[c.value for c in row] for row in sheet.iter_rows()]
    assert lines[0] == [*HEADER, "Row", "Error"]
    assert [(line[0], line[-2]) for line in lines[1:]] == [
        ("P00100", 102), ("P02000", 2002), ("P04999", 5001)]
    assert "Unknown department NOPE." in lines[1][-1]

    # "Import only the valid rows": a bulk path, not 5,000 round trips. (Bulk inserts come
    # in batches SQLite's parameter limit sets: ~80 for the 9,994 wallet and hold accounts.)
    with django_assert_max_num_queries(400):
        done = commit(admin_client, job, "valid_only")
    assert done.status_code == 302
    assert done["Location"] == reverse("people_import:result", args=[job.pk])

    employees = imported()
    assert len(employees) == 4997
    assert {"P00100", "P02000", "P04999"}.isdisjoint(employees)
    sample = employees["P00042"]
    assert (sample.name, sample.department, sample.phone) == ("员工42", rd, "13800000042")
    assert sample.hire_date.isoformat() == "2024-03-01"
    assert sample.user.username == "P00042"
    assert not sample.user.has_usable_password()
    employee_group = Group.objects.get(name=Role.EMPLOYEE)
    assert User.objects.filter(employee__in=employees.values(), groups=employee_group
                               ).count() == 4997

    result = admin_client.get(done["Location"])
    text = result.content.decode()
    assert 'data-status="done"' in text
    assert "4,997" in text or "4997" in text
    job.refresh_from_db()
    assert job.result == {"created": 4997, "updated": 0, "unchanged": 0,
                          "accounts_created": 4997, "imported": 4997, "skipped": 3}
    audit = AuditEntry.objects.get(action="employee.import")
    assert audit.actor.pk == job.committed_by_id
    assert audit.after["created"] == 4997


def test_reimporting_the_same_sheet_updates_the_same_employees(admin_client, rd):
    first = upload(admin_client, xlsx_upload([person(1), person(2)]))
    commit(admin_client, first, "all")

    again = upload(admin_client, xlsx_upload([person(1, name="张伟"), person(2), person(3)]))
    commit(admin_client, again, "all")

    employees = imported()
    assert sorted(employees) == ["P00001", "P00002", "P00003"]
    assert employees["P00001"].name == "张伟"
    assert User.objects.filter(username__in=["P00001", "P00002", "P00003"]).count() == 3
    again.refresh_from_db()
    assert again.result["created"] == 1
    assert again.result["updated"] == 1
    assert again.result["unchanged"] == 1


@pytest.mark.parametrize(("encoding", "bom"), [("gb18030", False), ("utf-8", True)])
def test_csv_from_chinese_excel_or_with_a_utf8_bom_imports_the_chinese_names(
        admin_client, rd, encoding, bom):
    rows = [person(1, name="张伟", hired="2024/3/1", phone="13800138000"),
            person(2, name="李娜", hired="2023-12-31", status="离职")]

    job = upload(admin_client, csv_upload(rows, encoding, bom))
    assert (job.valid_rows, job.error_count) == (2, 0)
    commit(admin_client, job, "all")

    employees = imported()
    assert employees["P00001"].name == "张伟"
    assert employees["P00001"].hire_date.isoformat() == "2024-03-01"
    assert employees["P00002"].name == "李娜"
    assert employees["P00002"].status == EmployeeStatus.LEFT
    assert employees["P00002"].user.is_active is False


def test_an_employee_without_manage_people_gets_403(rd, employee, make_role_employee):
    auditor = make_role_employee(Role.AUDITOR)
    job = upload(_hr_client(), xlsx_upload([person(1)]))
    for user in (employee.user, auditor.user):
        client = login_client(user)
        assert client.get(reverse("people_import:start")).status_code == 403
        assert client.post(reverse("people_import:start"),
                           {"file": xlsx_upload([person(9)])}).status_code == 403
        assert commit(client, job, "all").status_code == 403
        assert client.get(reverse("people_import:errors", args=[job.pk, "csv"])
                          ).status_code == 403
    assert imported() == {}


def _hr_client():
    return login_client(EmployeeFactory(roles=[Role.HR_ADMIN]).user)


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("people_import:start"))
    assert response.status_code == 302
    assert "next=" in response["Location"]


def test_the_template_has_the_headers_and_an_example_row_that_imports(admin_client, department):
    response = admin_client.get(reverse("people_import:template", args=["xlsx"]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    header, example = [[c.value for c in row] for row in sheet.iter_rows()]
    assert header[:3] == ["employee_no", "name", "department_code"]
    assert example[:3] == ["E10001", "张三", "HQ"]

    job = upload(admin_client, SimpleUploadedFile("template.xlsx", response.content))

    assert (job.valid_rows, job.error_count) == (1, 0)


def test_the_csv_template_opens_in_excel_with_chinese_headers(hr_admin):
    client = login_client(hr_admin.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.get(reverse("people_import:template", args=["csv"]))
    assert response.content.startswith(codecs.BOM_UTF8)
    assert response.content.decode("utf-8-sig").splitlines()[0].startswith("工号,姓名,部门编码")


def test_a_department_name_is_accepted_only_when_unique(admin_client, rd):
    DepartmentFactory(code="S1", name="销售部")
    DepartmentFactory(code="S2", name="销售部")
    header = ["工号", "姓名", "部门"]

    job = upload(admin_client, xlsx_upload([["P00001", "甲", "研发部"], ["P00002", "乙", "销售部"]],
                                           header=header))

    assert job.error_rows == [{
        "row": 3, "field": "department_code",
        "message": "More than one department is called 销售部; give the department code instead.",
    }]
    commit(admin_client, job, "valid_only")
    assert imported()["P00001"].department == rd


def test_duplicate_employee_numbers_in_the_sheet_mark_every_copy(admin_client, rd):
    job = upload(admin_client, xlsx_upload([person(1), person(2), person(1, name="又一个")]))

    assert sorted({e["row"] for e in job.error_rows}) == [2, 4]
    assert all(e["field"] == "employee_no" for e in job.error_rows)


def test_a_username_belonging_to_another_employee_is_an_error(admin_client, rd):
    EmployeeFactory(employee_no="X1", department=rd)  # account "X1"
    header = [*HEADER, "用户名"]

    job = upload(admin_client, xlsx_upload([[*person(1), "X1"], [*person(2), "zhang.wei"]],
                                           header=header))

    assert job.error_rows == [{"row": 2, "field": "username",
                               "message": "The username X1 is taken."}]
    commit(admin_client, job, "valid_only")
    assert imported()["P00002"].user.username == "zhang.wei"


def test_bad_dates_and_statuses_are_row_errors(admin_client, rd):
    job = upload(admin_client, xlsx_upload([person(1, hired="next week"),
                                            person(2, status="休假")]))

    assert job.error_rows == [
        {"row": 2, "field": "hire_date",
         "message": "next week is not a date; write it like 2024-03-01."},
        {"row": 3, "field": "status", "message": "Status must be active or left."},
    ]


def test_a_database_error_imports_nothing_and_the_result_page_says_why(
        admin_client, rd, monkeypatch):
    def broken(**kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr("jifen.people.services.bulk_import.record_audit", broken)
    job = upload(admin_client, xlsx_upload([person(1), person(2)]))

    response = commit(admin_client, job, "all")

    assert imported() == {}
    assert not User.objects.filter(username="P00001").exists()
    page = admin_client.get(response["Location"]).content.decode()
    assert 'data-status="failed"' in page
    assert "disk full" in page


def test_marking_employees_left_by_import_disables_their_login_and_tokens(admin_client, rd):
    leaver = EmployeeFactory(employee_no="P00001", department=rd)
    AccessToken.objects.create(user=leaver.user, token_hash="x" * 64,
                               expires_at=timezone.now() + timedelta(days=30))

    job = upload(admin_client, xlsx_upload([person(1, status="离职")]))
    commit(admin_client, job, "all")

    leaver.refresh_from_db()
    leaver.user.refresh_from_db()
    assert leaver.status == EmployeeStatus.LEFT and leaver.left_on is not None
    assert leaver.user.is_active is False
    assert AccessToken.objects.get(user=leaver.user).revoked_at is not None


def test_changing_the_mapping_checks_the_rows_again(admin_client, rd):
    header = ["工号", "全名", "部门编码"]  # "全名" is not a known header for the name
    job = upload(admin_client, xlsx_upload([["P00001", "甲", "RD"]], header=header))
    page = admin_client.get(reverse("people_import:preview", args=[job.pk])).content.decode()
    assert 'data-testid="mapping-problems"' in page
    assert 'data-testid="import-all"' not in page

    mapping = {name: "" for name in job.mapping}
    mapping.update(employee_no="0", name="1", department_code="2")
    with worker():
        admin_client.post(reverse("people_import:preview", args=[job.pk]), mapping)

    job.refresh_from_db()
    assert (job.valid_rows, job.error_count) == (1, 0)
    assert 'data-testid="import-all"' in admin_client.get(
        reverse("people_import:preview", args=[job.pk])).content.decode()


def test_the_progress_partial_polls_only_while_importing(admin_client, rd):
    job = upload(admin_client, xlsx_upload([person(1), person(2)]))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.COMMITTING,
                                               processed_rows=1)
    url = reverse("people_import:progress", args=[job.pk])

    busy = admin_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-get" in busy and 'aria-valuenow="50"' in busy
    assert "<html" not in busy

    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.DONE)
    assert "hx-get" not in admin_client.get(url, headers={"HX-Request": "true"}).content.decode()


def test_a_file_that_is_not_a_spreadsheet_is_refused_on_the_upload_page(admin_client):
    response = admin_client.post(reverse("people_import:start"),
                                 {"file": SimpleUploadedFile("photo.png", b"\x89PNG")})
    assert response.status_code == 422
    assert "Upload an .xlsx or .csv file." in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_import_employees_refuses_an_invalid_batch_without_writing(rd, hr_admin):
    rows = [EmployeeData(employee_no="P00001", name="甲", department_code="RD"),
            EmployeeData(employee_no="P00002", name="", department_code="RD")]

    with pytest.raises(errors.ValidationError):
        import_employees(rows=rows, actor=hr_admin.user)
    assert imported() == {}


# --- off-boarding a super admin: only a super admin may (people.services) -----------------


@pytest.fixture
def other_admin(make_role_employee, rd):
    """A super admin whose record a sheet marks as left."""
    return make_role_employee(Role.SUPER_ADMIN, name="另一位管理员", department=rd)


def offboarding_sheet(admin) -> SimpleUploadedFile:
    """Two ordinary new employees around a row marking ``admin`` as left (sheet row 3)."""
    return xlsx_upload([
        person(1),
        person(0, no=admin.employee_no, name=admin.name, email=admin.email, status="离职"),
        person(2),
    ])


def still_in(employee: Employee) -> bool:
    employee.refresh_from_db()
    employee.user.refresh_from_db()
    return employee.status == EmployeeStatus.ACTIVE and employee.user.is_active


def test_hr_sees_in_the_preview_that_a_super_admin_cannot_be_marked_left_and_imports_the_rest(
        admin_client, rd, other_admin):
    refusal = (f"{other_admin.name} ({other_admin.employee_no}) is a super admin; only a "
               "super admin can mark them as left.")

    job = upload(admin_client, offboarding_sheet(other_admin))

    assert job.error_rows == [{"row": 3, "field": "status", "message": refusal}]
    assert (job.total_rows, job.valid_rows, job.error_count) == (3, 2, 1)
    html = admin_client.get(reverse("people_import:preview", args=[job.pk])).content.decode()
    assert re.findall(r'<tr data-row="(\d+)"', html) == ["3"]
    assert refusal in html
    assert "Import only the 2 valid rows" in html

    done = commit(admin_client, job, "valid_only")

    assert done["Location"] == reverse("people_import:result", args=[job.pk])
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.failure_reason
    assert (job.result["imported"], job.result["skipped"]) == (2, 1)
    assert sorted(imported()) == ["P00001", "P00002"]
    assert still_in(other_admin)


def test_a_super_admin_previews_the_same_sheet_without_errors_and_marks_them_left(
        super_admin, rd, other_admin):
    client = login_client(super_admin.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    job = upload(client, offboarding_sheet(other_admin))

    assert job.error_rows == []
    assert (job.valid_rows, job.error_count) == (3, 0)
    commit(client, job, "all")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.failure_reason
    assert sorted(imported()) == ["P00001", "P00002"]
    assert not still_in(other_admin)
    assert other_admin.left_on is not None


def test_the_commit_checks_the_rows_again_for_whoever_commits(
        admin_client, super_admin, rd, other_admin):
    """A super admin's clean preview committed by HR: the row is skipped, not the import."""
    client = login_client(super_admin.user)
    job = upload(client, offboarding_sheet(other_admin))
    assert job.error_count == 0

    commit(admin_client, job, "valid_only")

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.failure_reason
    assert [(e["row"], e["field"]) for e in job.error_rows] == [(3, "status")]
    assert sorted(imported()) == ["P00001", "P00002"]
    assert still_in(other_admin)


# --- the upload request only stores the file; the worker reads it (issue 10, finding 9) ---


@pytest.mark.django_db(transaction=True)  # the request's enqueue commits; the worker closes
def test_the_upload_request_reads_no_row_and_the_page_polls_until_the_worker_has(  # its link
        hr_admin, monkeypatch):
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    from jifen.core.imports import readers

    DepartmentFactory(code="RD", name="研发部")
    client = login_client(hr_admin.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    real_stream = readers.stream_rows
    streamed = []
    monkeypatch.setattr(readers, "stream_rows",
                        lambda *a, **k: streamed.append(1) or real_stream(*a, **k))

    response = client.post(reverse("people_import:start"),
                           {"file": xlsx_upload([person(i) for i in range(30)])})

    job = ImportJob.objects.get()
    assert response["Location"] == reverse("people_import:preview", args=[job.pk])
    assert job.status == ImportJob.Status.READING and streamed == []
    assert DBTaskResult.objects.get().status == "READY"
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="reading"' in page and "hx-get" in page
    assert 'data-testid="import-all"' not in page
    progress = reverse("people_import:progress", args=[job.pk])
    polled = client.get(progress, headers={"HX-Request": "true"})
    assert "hx-get" in polled.content.decode() and "<html" not in polled.content.decode()

    call_command("worker", batch=True, no_periodic=True, interval=0.01, verbosity=0)

    job.refresh_from_db()
    assert streamed and job.status == ImportJob.Status.PREVIEWED
    assert (job.total_rows, job.valid_rows, job.error_count) == (30, 30, 0)
    polled = client.get(progress, headers={"HX-Request": "true"})
    assert polled["HX-Redirect"] == response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="import-all"' in page and "Import all 30 rows" in page


def test_a_sheet_declaring_a_million_rows_is_refused_by_the_worker_with_a_reason(
        admin_client, rd):
    """The finding: 769 KB of xlsx unpacking to 250 MB held a request for 96 s. Now the
    request stores it, and the worker refuses it from its declared size at once."""
    import zipfile

    small = io.BytesIO(xlsx_upload([person(1)]).read())
    out = io.BytesIO()
    with zipfile.ZipFile(small) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename.startswith("xl/worksheets/"):
                data = re.sub(rb"<dimension [^>]*/>", b"", data).replace(
                    b"<sheetViews>", b'<dimension ref="A1:I1000000"/><sheetViews>')
            target.writestr(entry, data)

    job = upload(admin_client, SimpleUploadedFile("big.xlsx", out.getvalue()))

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    page = admin_client.get(reverse("people_import:preview", args=[job.pk]), follow=True)
    text = page.content.decode()
    assert 'data-status="failed"' in text
    assert "The file has more than 300,000 rows; split it into smaller files." in text
    assert imported() == {}


def test_the_error_report_download_brings_back_no_formula(admin_client, rd):
    rows = [person(1, name='=HYPERLINK("http://evil.example","x")', dept="NOPE"),
            person(2, name="＝cmd|' /C calc'!A0", email="bad")]
    job = upload(admin_client, csv_upload(rows, "utf-8"))
    assert job.error_count == 2

    report = admin_client.get(reverse("people_import:errors", args=[job.pk, "xlsx"]))
    names = [row[1].value for row in load_workbook(io.BytesIO(report.content)).active.iter_rows(
        min_row=2)]
    assert names == ['\'=HYPERLINK("http://evil.example","x")', "'＝cmd|' /C calc'!A0"]
    report = admin_client.get(reverse("people_import:errors", args=[job.pk, "csv"]))
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"), newline="")))
    assert [line[1] for line in lines[1:]] == names
