"""Uploads are judged by content before anything is stored: a wrong extension, a ZIP bomb,
a file over the limit, a PDF that crashes or hangs the renderer — each gets a clear error
and leaves no row and no file behind."""

from __future__ import annotations

import io
import sys
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from jifen.core import errors
from jifen.core.models import AuditEntry
from jifen.library import documents, samples
from jifen.library.models import Resource, ResourcePreview
from jifen.library.services import resources as services
from tests.conftest import login_client
from tests.library.conftest import pdf_upload, stored_files

pytestmark = pytest.mark.django_db


def refused(editor, upload, code, library_root):
    with pytest.raises(errors.ValidationError) as caught:
        services.create_resource(actor=editor.user, title="可疑文件", upload=upload)
    assert caught.value.code == code, caught.value.message
    assert not Resource.objects.exists()
    assert not ResourcePreview.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="library.").exists()
    assert stored_files(library_root) == []
    return caught.value


def test_a_good_pdf_is_stored_with_preview_pages(editor, library_root):
    resource = services.create_resource(actor=editor.user, title="招聘技巧大全",
                                        upload=pdf_upload("招聘技巧大全.pdf", pages=5))
    assert resource.file_kind == "pdf" and resource.file_name == "招聘技巧大全.pdf"
    previews = list(resource.previews.all())
    assert [p.page for p in previews] == [1, 2, 3]  # the first three pages
    assert all(p.image.read(8) == b"\x89PNG\r\n\x1a\n" for p in previews)
    assert AuditEntry.objects.filter(action="library.resource.create",
                                     object_id=str(resource.pk)).exists()


@pytest.mark.parametrize(("name", "data", "kind"), [
    ("面谈.docx", samples.make_docx("面谈记录", ["第一段"]), "docx"),
    ("考勤表.xlsx", samples.make_xlsx("考勤", ["姓名"], [["张伟"]]), "xlsx"),
    ("培训.pptx", samples.make_pptx("培训"), "pptx"),
    ("资料包.zip", samples.make_zip({"说明.txt": "你好"}), "zip"),
])
def test_office_files_and_zips_are_known_by_content(editor, library_root, name, data, kind):
    resource = services.create_resource(actor=editor.user, title=name,
                                        upload=SimpleUploadedFile(name, data))
    assert resource.file_kind == kind
    assert not resource.previews.exists()


@pytest.mark.parametrize(("name", "data"), [
    ("报告.pdf", samples.make_docx("伪装", ["其实是 Word"])),  # a .pdf that is a DOCX
    ("表格.xlsx", samples.make_pdf([["not a sheet"]])),  # an .xlsx that is a PDF
    ("文档.docx", samples.make_xlsx("s", ["a"], [[1]])),  # a .docx that is an XLSX
    ("资料.zip", samples.make_docx("t", ["x"])),  # a .zip that is a DOCX
])
def test_extension_that_lies_about_the_content_is_refused(editor, library_root, name, data):
    error = refused(editor, SimpleUploadedFile(name, data), errors.ErrorCode.FILE_TYPE_MISMATCH,
                    library_root)
    assert error.details["claimed"] == name.rsplit(".", 1)[1]
    assert error.details["actual"] != error.details["claimed"]
    assert error.details["actual"].upper() in error.message


def test_unknown_content_or_extension_is_refused(editor, library_root):
    refused(editor, SimpleUploadedFile("脚本.pdf", b"#!/bin/sh\nrm -rf /\n"),
            errors.ErrorCode.UNSUPPORTED_FILE, library_root)
    refused(editor, SimpleUploadedFile("run.exe", samples.make_pdf([["x"]])),
            errors.ErrorCode.UNSUPPORTED_FILE, library_root)


def bomb(size: int = 200 * 1024 * 1024) -> bytes:
    """One entry that unpacks to ``size`` zero bytes (about 200 KB packed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open("zeros.txt", "w", force_zip64=True) as member:
        chunk = b"\0" * (1024 * 1024)
        for _ in range(size // len(chunk)):
            member.write(chunk)
    return out.getvalue()


def test_zip_bomb_is_refused(editor, library_root):
    data = bomb()
    assert len(data) < 1024 * 1024
    refused(editor, SimpleUploadedFile("资料包.zip", data), errors.ErrorCode.UNSAFE_ARCHIVE,
            library_root)


def test_zip_of_too_many_entries_is_refused(editor, library_root):
    data = samples.make_zip({f"f{i}.txt": "" for i in range(documents.MAX_ZIP_ENTRIES + 1)})
    refused(editor, SimpleUploadedFile("很多.zip", data), errors.ErrorCode.UNSAFE_ARCHIVE,
            library_root)


def test_zip_unpacking_to_too_much_is_refused(editor, library_root, monkeypatch):
    monkeypatch.setattr(documents, "MAX_UNPACKED_BYTES", 1000)
    data = samples.make_zip({"a.txt": "x" * 600, "b.txt": "y" * 600})
    refused(editor, SimpleUploadedFile("大.zip", data), errors.ErrorCode.UNSAFE_ARCHIVE,
            library_root)


def test_nested_zip_is_refused_whatever_its_name(editor, library_root):
    inner = samples.make_zip({"a.txt": "x"})
    for name in ("inner.zip", "innocent.txt"):
        refused(editor, SimpleUploadedFile("套娃.zip", samples.make_zip({name: inner})),
                errors.ErrorCode.UNSAFE_ARCHIVE, library_root)


def test_office_file_hiding_a_bomb_is_refused(editor, library_root):
    docx = io.BytesIO(samples.make_docx("t", ["x"]))
    with zipfile.ZipFile(docx, "a") as archive:
        archive.writestr("word/media/huge.bin", b"\0" * (60 * 1024 * 1024),
                         compress_type=zipfile.ZIP_DEFLATED)
    refused(editor, SimpleUploadedFile("模板.docx", docx.getvalue()),
            errors.ErrorCode.UNSAFE_ARCHIVE, library_root)


def test_file_over_the_limit_is_refused_before_it_is_read(editor, library_root, settings):
    settings.LIBRARY_MAX_UPLOAD_BYTES = 1024

    class Unreadable(SimpleUploadedFile):
        def read(self, *args):
            raise AssertionError("read before its size was checked")

    error = refused(editor, Unreadable("大文件.pdf", b"%PDF-" + b"x" * 2000),
                    errors.ErrorCode.FILE_TOO_LARGE, library_root)
    assert error.details["max_bytes"] == 1024


def test_damaged_pdf_is_refused(editor, library_root):
    refused(editor, SimpleUploadedFile("坏的.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 100),
            errors.ErrorCode.UNREADABLE_DOCUMENT, library_root)


def test_pdf_that_crashes_the_renderer_is_refused(editor, library_root, monkeypatch):
    # The renderer dies of a signal, as pdfium does on a hostile file.
    monkeypatch.setattr(documents, "render_command", lambda source, outdir, pages: [
        sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"])
    refused(editor, pdf_upload(), errors.ErrorCode.UNREADABLE_DOCUMENT, library_root)


def test_pdf_that_hangs_the_renderer_is_refused_in_time(editor, library_root, monkeypatch,
                                                        settings):
    settings.LIBRARY_RENDER_TIMEOUT = 1
    monkeypatch.setattr(documents, "render_command", lambda source, outdir, pages: [
        sys.executable, "-c", "import time; time.sleep(30)"])
    refused(editor, pdf_upload(), errors.ErrorCode.UNREADABLE_DOCUMENT, library_root)


def test_pdf_that_eats_memory_is_stopped_by_the_limit(editor, library_root, monkeypatch,
                                                      settings):
    settings.LIBRARY_RENDER_MEMORY = 256 * 1024 * 1024
    monkeypatch.setattr(documents, "render_command", lambda source, outdir, pages: [
        sys.executable, "-c", "x = bytearray(1024 * 1024 * 1024); print(1)"])
    refused(editor, pdf_upload(), errors.ErrorCode.UNREADABLE_DOCUMENT, library_root)


def test_console_upload_shows_the_error_and_stores_nothing(editor, library_root):
    response = login_client(editor.user).post(reverse("console:library_resource_new"), {
        "title": "伪装文件", "price": 0, "kind": "file", "status": "draft",
        "file": SimpleUploadedFile("报告.pdf", samples.make_docx("t", ["x"]))})
    assert response.status_code == 422
    assert "DOCX" in response.content.decode()  # the error names what the content is
    assert not Resource.objects.exists() and stored_files(library_root) == []


def test_contribution_over_the_limit_is_refused_from_its_length(employee, library_root,
                                                                settings):
    settings.LIBRARY_MAX_UPLOAD_BYTES = 1024
    response = login_client(employee.user).post(reverse("portal:library_contribute"), {
        "title": "很大的文件", "file": SimpleUploadedFile("a.pdf", b"%PDF-" + b"x" * 400_000)})
    assert response.status_code == 413
    assert "MB" in response.content.decode()
    assert not Resource.objects.exists() and stored_files(library_root) == []


def test_a_pack_of_office_templates_is_welcome(editor, library_root):
    pack = samples.make_zip({"周报.docx": samples.make_docx("周报", ["本周"]),
                             "月报.xlsx": samples.make_xlsx("月报", ["项"], [["值"]])})
    resource = services.create_resource(actor=editor.user, title="模板合集",
                                        upload=SimpleUploadedFile("模板合集.zip", pack))
    assert resource.file_kind == "zip"


def test_a_zip_disguised_as_an_office_file_inside_a_zip_is_refused(editor, library_root):
    fake = samples.make_zip({"a.txt": "x"})  # a plain ZIP named .docx
    pack = samples.make_zip({"周报.docx": fake})
    refused(editor, SimpleUploadedFile("模板合集.zip", pack), errors.ErrorCode.UNSAFE_ARCHIVE,
            library_root)
