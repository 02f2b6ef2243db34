"""Uploaded documents, judged by their content before anything is stored.

- The size is checked before a byte is read (``LIBRARY_MAX_UPLOAD_BYTES``, 50 MB).
- The type comes from the content: ``%PDF-`` is a PDF; a ZIP is a DOCX, XLSX or PPTX when
  its ``[Content_Types].xml`` and main part say so, else a plain ZIP. A name whose
  extension says otherwise is refused (a ``.pdf`` that is a ZIP, a ``.docx`` that is a
  PDF).
- A ZIP (and so every Office file) is refused when its directory promises too many
  entries, too many bytes once unpacked, a compression ratio only bombs reach, or a ZIP
  inside it. Nothing is unpacked to judge it: only the directory and a few header bytes
  of each entry are read.
- A PDF's first pages are rendered to PNG by ``render_pdf.py`` in a child process with a
  time limit and an address-space limit (``resource.setrlimit``): a PDF that crashes or
  hangs the renderer kills only the child, and the upload is refused with a clear error.
"""

from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _

from jifen.core import errors

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_ZIP_ENTRIES = 2000
MAX_UNPACKED_BYTES = 500 * 1024 * 1024
MAX_RATIO = 100
PREVIEW_PAGES = 3
RENDER_TIMEOUT = 20  # seconds
RENDER_MEMORY = 768 * 1024 * 1024  # bytes of address space

EXTENSIONS = {".pdf": "pdf", ".docx": "docx", ".xlsx": "xlsx", ".pptx": "pptx", ".zip": "zip"}
OFFICE_PARTS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml",
                "pptx": "ppt/presentation.xml"}
OFFICE_TYPES = {"docx": "wordprocessingml", "xlsx": "spreadsheetml", "pptx": "presentationml"}
CONTENT_TYPES = {"pdf": "application/pdf",
                 "docx": "application/vnd.openxmlformats-officedocument."
                         "wordprocessingml.document",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "pptx": "application/vnd.openxmlformats-officedocument."
                         "presentationml.presentation",
                 "zip": "application/zip"}
RENDER_SCRIPT = Path(__file__).with_name("render_pdf.py")


def max_upload_bytes() -> int:
    return int(getattr(settings, "LIBRARY_MAX_UPLOAD_BYTES", MAX_UPLOAD_BYTES))


@dataclass
class CheckedFile:
    kind: str  # a FileKind value
    size: int
    name: str  # the uploader's name, without folders
    previews: list[bytes] = field(default_factory=list)  # PNG pages of a PDF
    page_count: int = 0


def _refuse(message: str, code: errors.ErrorCode, **details: Any) -> errors.ValidationError:
    return errors.ValidationError(message, code=code, details=details)


def check_upload(upload: Any, *, render: bool = True) -> CheckedFile:
    """Judge an uploaded file (a Django ``UploadedFile``: ``name``, ``size``, ``open``)
    and, for a PDF, render its preview pages. Raises ``ValidationError`` with a code the
    page and the API show: ``file_too_large``, ``unsupported_file``, ``file_type_mismatch``,
    ``unsafe_archive`` or ``unreadable_document``."""
    name = PurePath(str(getattr(upload, "name", "") or "")).name[:200]
    size = getattr(upload, "size", None)
    limit = max_upload_bytes()
    if size is None or size > limit:
        raise _refuse(_("This file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)},
                      errors.ErrorCode.FILE_TOO_LARGE, max_bytes=limit)
    if size == 0:
        raise _refuse(_("This file is empty."), errors.ErrorCode.UNSUPPORTED_FILE)
    claimed = EXTENSIONS.get(PurePath(name).suffix.lower())
    if claimed is None:
        raise _refuse(_("Upload a PDF, Word, Excel, PowerPoint or ZIP file."),
                      errors.ErrorCode.UNSUPPORTED_FILE)
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        actual = "pdf"
    elif head.startswith(b"PK\x03\x04"):
        actual = _zip_kind(upload)
    else:
        raise _refuse(_("This file is not a PDF, Word, Excel, PowerPoint or ZIP file, "
                        "whatever its name says."), errors.ErrorCode.UNSUPPORTED_FILE)
    if actual != claimed:
        raise _refuse(
            _("The file's name says %(claimed)s but its content is %(actual)s.")
            % {"claimed": claimed.upper(), "actual": actual.upper()},
            errors.ErrorCode.FILE_TYPE_MISMATCH, claimed=claimed, actual=actual)
    checked = CheckedFile(kind=actual, size=size, name=name)
    if actual == "pdf" and render:
        checked.previews, checked.page_count = render_previews(upload)
    upload.seek(0)
    return checked


def _unsafe(message: str) -> errors.ValidationError:
    return _refuse(message, errors.ErrorCode.UNSAFE_ARCHIVE)


MAX_INNER_OFFICE_BYTES = 20 * 1024 * 1024
OFFICE_SUFFIXES = (".docx", ".xlsx", ".pptx")


def _zip_kind(upload: IO[bytes], *, nested: bool = False) -> str:
    """"docx", "xlsx", "pptx" or "zip" — after the bomb checks. A ZIP may carry Office
    files (a pack of templates), each judged the same way, one level deep; any other
    archive inside is refused."""
    try:
        archive = zipfile.ZipFile(upload)
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _refuse(_("This ZIP file is damaged."), errors.ErrorCode.UNSUPPORTED_FILE) from exc
    if len(entries) > MAX_ZIP_ENTRIES:
        raise _unsafe(_("This archive holds more than %(n)s files.") % {"n": MAX_ZIP_ENTRIES})
    total = 0
    for entry in entries:
        total += entry.file_size
        if total > MAX_UNPACKED_BYTES:
            raise _unsafe(_("This archive would unpack to more than %(mb)s MB.")
                          % {"mb": MAX_UNPACKED_BYTES // (1024 * 1024)})
        if entry.file_size > 1024 * 1024 and entry.file_size > MAX_RATIO * max(
                entry.compress_size, 1):
            raise _unsafe(_("This archive is compressed suspiciously well (a ZIP bomb?)."))
        if PurePath(entry.filename).suffix.lower() in (".zip", ".jar", ".7z", ".rar", ".gz",
                                                       ".tgz", ".bz2", ".xz"):
            raise _unsafe(_("This archive holds another archive; upload its files instead."))
    for entry in entries:
        if entry.is_dir() or entry.file_size < 4:
            continue
        try:
            with archive.open(entry) as member:
                magic = member.read(4)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError,
                RuntimeError) as exc:  # RuntimeError: an encrypted entry
            raise _refuse(_("This ZIP file is damaged or encrypted."),
                          errors.ErrorCode.UNSUPPORTED_FILE) from exc
        if magic[:3] == b"\x1f\x8b\x08" or magic == b"PK\x05\x06":
            raise _unsafe(_("This archive holds another archive; upload its files instead."))
        if magic == b"PK\x03\x04":
            if (nested or PurePath(entry.filename).suffix.lower() not in OFFICE_SUFFIXES
                    or entry.file_size > MAX_INNER_OFFICE_BYTES):
                raise _unsafe(_("This archive holds another archive; upload its files "
                                "instead."))
            with archive.open(entry) as member:
                inner = member.read(MAX_INNER_OFFICE_BYTES + 1)
            if len(inner) > MAX_INNER_OFFICE_BYTES:
                raise _unsafe(_("This archive holds another archive; upload its files "
                                "instead."))
            if _zip_kind(io.BytesIO(inner), nested=True) == "zip":
                raise _unsafe(_("This archive holds another archive; upload its files "
                                "instead."))
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" not in names:
        return "zip"
    try:
        with archive.open("[Content_Types].xml") as member:
            types = member.read(256 * 1024).decode("utf-8", "replace")
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _refuse(_("This ZIP file is damaged."), errors.ErrorCode.UNSUPPORTED_FILE) from exc
    for kind, part in OFFICE_PARTS.items():
        if part in names and OFFICE_TYPES[kind] in types:
            return kind
    return "zip"


def _limits() -> None:  # pragma: no cover - runs in the child process
    memory = int(getattr(settings, "LIBRARY_RENDER_MEMORY", RENDER_MEMORY))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    seconds = int(getattr(settings, "LIBRARY_RENDER_TIMEOUT", RENDER_TIMEOUT))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def render_command(source: str, outdir: str, pages: int) -> list[str]:
    """The child process's command (tests replace it to play a crashing renderer)."""
    return [sys.executable, "-I", str(RENDER_SCRIPT), source, outdir, str(pages)]


def render_previews(upload: IO[bytes], pages: int = PREVIEW_PAGES) -> tuple[list[bytes], int]:
    """The PNG bytes of the PDF's first ``pages`` pages and its page count. A renderer that
    fails, crashes, runs out of memory or time refuses the upload (``unreadable_document``)."""
    timeout = float(getattr(settings, "LIBRARY_RENDER_TIMEOUT", RENDER_TIMEOUT))
    refused = _refuse(_("This PDF could not be read: it may be damaged. Save it again as "
                        "PDF and upload it again."), errors.ErrorCode.UNREADABLE_DOCUMENT)
    with tempfile.TemporaryDirectory(prefix="jifen-pdf-") as folder:
        source = os.path.join(folder, "in.pdf")
        outdir = os.path.join(folder, "out")
        os.mkdir(outdir)
        upload.seek(0)
        with open(source, "wb") as handle:
            for chunk in iter(lambda: upload.read(1024 * 1024), b""):
                handle.write(chunk)
        upload.seek(0)
        try:
            done = subprocess.run(render_command(source, outdir, pages), capture_output=True,
                                  timeout=timeout, preexec_fn=_limits, check=False,
                                  stdin=subprocess.DEVNULL, cwd=folder)
        except subprocess.TimeoutExpired as exc:  # run() has killed the child
            raise refused from exc
        if done.returncode != 0:
            raise refused
        try:
            count = int(done.stdout.decode().strip().splitlines()[-1])
        except (ValueError, IndexError) as exc:
            raise refused from exc
        images = []
        for number in range(1, min(pages, count) + 1):
            path = Path(outdir) / f"page-{number}.png"
            if not path.is_file() or path.stat().st_size > 20 * 1024 * 1024:
                raise refused
            images.append(path.read_bytes())
        if count < 1:
            raise refused
        return images, count
