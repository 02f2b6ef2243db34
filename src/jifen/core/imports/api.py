"""/api/v1/imports: the spreadsheet imports of the console (employees, events, redemption
codes, tracking numbers) for systems. The same jobs and services as the pages: upload →
the worker reads and checks every row → the caller reads the per-row report, may change
the column mapping → commit all rows or only the valid ones → the worker imports. A caller
needs the importer's scope (``Importer.scope``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from jifen.core import errors
from jifen.core.apiauth import Principal, principal
from jifen.core.exports import download
from jifen.core.idempotency import idempotent
from jifen.core.imports.importer import Importer, get_importer, registered_importers
from jifen.core.imports.jobs import (
    cancel_import_job,
    create_import_job,
    error_report,
    import_job_by_id,
    remap_import_job,
    start_import_commit,
)
from jifen.core.imports.readers import ALLOWED_SUFFIXES, MAX_UPLOAD_BYTES, too_large
from jifen.core.models import ImportJob

router = Router(tags=["imports"])

ERRORS_LISTED = 200  # per-row problems in a job's answer; the error report has them all

_MULTIPART = {"requestBody": {"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["kind", "file"],
    "properties": {
        "kind": {"type": "string", "description": "An importer's kind, from GET /imports/kinds."},
        "file": {"type": "string", "format": "binary",
                 "description": "An .xlsx or .csv file of at most 20 MB."},
    }}}}}}


class FieldOut(Schema):
    name: str
    label: str
    required: bool


class KindOut(Schema):
    kind: str
    name: str
    scope: str
    fields: list[FieldOut]


class RowProblemOut(Schema):
    row: int
    field: str
    message: str


class ImportJobOut(Schema):
    id: int
    kind: str
    status: str = Field(description="reading, previewed, committing, done, failed or "
                                    "cancelled.")
    file_name: str
    total_rows: int
    processed_rows: int = Field(description="Rows read or imported so far (progress).")
    valid_rows: int
    error_count: int = Field(description="Rows with at least one problem.")
    headers: list[str]
    mapping: dict[str, int | None] = Field(description="Field name → column index (0-based) "
                                                       "or null when not imported.")
    mapping_problems: list[str]
    errors: list[RowProblemOut] = Field(description=f"The first {ERRORS_LISTED} problems; "
                                                    "the error report has them all.")
    result: dict[str, int]
    failure_reason: str
    created_at: datetime
    finished_at: datetime | None


class MappingIn(Schema):
    mapping: dict[str, int | None]


class CommitIn(Schema):
    mode: Literal["all", "valid_only"] = "all"


class ReportQuery(Schema):
    format: Literal["xlsx", "csv"] = "xlsx"


def _importer_for(caller: Principal, kind: str) -> Importer:
    importer = get_importer(kind)
    caller.require(importer.scope)
    return importer


def _job(caller: Principal, job_id: int) -> ImportJob:
    job = import_job_by_id(job_id)
    if job is None:
        raise errors.NotFound(_("No import with this id."))
    _importer_for(caller, job.kind)
    return job


def _out(job: ImportJob) -> dict[str, Any]:
    importer = get_importer(job.kind)
    return ImportJobOut(
        id=job.pk, kind=job.kind, status=job.status, file_name=job.original_name,
        total_rows=job.total_rows, processed_rows=job.processed_rows,
        valid_rows=job.valid_rows, error_count=job.error_count, headers=job.headers,
        mapping={f.name: job.mapping.get(f.name) for f in importer.fields},
        mapping_problems=(importer.mapping_problems(job.mapping, len(job.headers))
                          if job.status == ImportJob.Status.PREVIEWED else []),
        errors=job.error_rows[:ERRORS_LISTED], result=job.result,
        failure_reason=job.failure_reason, created_at=job.created_at,
        finished_at=job.finished_at,
    ).model_dump()


@router.get("/imports/kinds", response=list[KindOut])
def list_kinds(request: HttpRequest) -> list[dict[str, Any]]:
    """The imports this caller may run, with the fields a file's columns map to."""
    caller = principal(request)
    found = []
    for importer in registered_importers():
        if caller.can(importer.scope):
            found.append({"kind": importer.kind, "name": str(importer.verbose_name),
                          "scope": importer.scope,
                          "fields": [{"name": f.name, "label": str(f.label),
                                      "required": f.required} for f in importer.fields]})
    return found


@router.post("/imports/jobs", response={202: ImportJobOut}, openapi_extra=_MULTIPART)
def start_import(request: HttpRequest) -> JsonResponse:
    """Upload a spreadsheet (multipart ``kind`` + ``file``): 202 with the job, ``reading``
    while the worker reads and checks every row; poll ``GET /imports/jobs/{id}`` until it
    is ``previewed`` (or ``failed``, with the reason). A file that is too big or not a
    spreadsheet is a 422 and nothing is stored."""
    caller = principal(request)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    if length < 0 or length > MAX_UPLOAD_BYTES + 256 * 1024:
        raise too_large(_("The file is larger than 20 MB."))
    importer = _importer_for(caller, request.POST.get("kind", ""))
    upload = request.FILES.get("file")
    if upload is None:
        raise errors.ValidationError(_("Attach the spreadsheet as the multipart field file."),
                                     code=errors.ErrorCode.VALIDATION_ERROR,
                                     details={"field": "file"})
    if PurePath(upload.name or "").suffix.lower() not in ALLOWED_SUFFIXES:
        raise errors.ValidationError(_("Upload an .xlsx or .csv file."),
                                     code=errors.ErrorCode.UNSUPPORTED_FILE)

    def handler() -> tuple[int, dict]:
        job = create_import_job(importer=importer, upload=upload, actor=caller.actor)
        return 202, _out(job)

    return idempotent(request, caller.id, handler)


@router.get("/imports/jobs/{int:job_id}", response=ImportJobOut)
def get_import(request: HttpRequest, job_id: int) -> dict[str, Any]:
    """A job's state, progress, column mapping and per-row problems."""
    return _out(_job(principal(request), job_id))


@router.put("/imports/jobs/{int:job_id}/mapping", response={202: ImportJobOut})
def set_mapping(request: HttpRequest, job_id: int, payload: MappingIn):
    """Map the file's columns differently (field → 0-based column index, null to leave a
    field out): the worker checks every row again (``reading``). 409 unless previewed."""
    caller = principal(request)
    job = _job(caller, job_id)
    importer = get_importer(job.kind)
    unknown = sorted(set(payload.mapping) - {f.name for f in importer.fields})
    if unknown:
        raise errors.ValidationError(_("Unknown field: %s") % ", ".join(unknown),
                                     details={"fields": unknown})
    if problems := importer.mapping_problems(payload.mapping, len(job.headers)):
        raise errors.ValidationError(problems[0], code=errors.ErrorCode.INCOMPLETE_MAPPING,
                                     details={"problems": problems})
    return 202, _out(remap_import_job(job=job, mapping=payload.mapping, actor=caller.actor))


@router.post("/imports/jobs/{int:job_id}/commit", response={202: ImportJobOut})
def commit_import(request: HttpRequest, job_id: int, payload: CommitIn):
    """Import a previewed job: ``all`` rows (409 ``import_has_errors`` while any row has a
    problem) or ``valid_only``. 202 ``committing``; the worker imports and the job ends
    ``done`` with counts in ``result`` — or ``failed`` with nothing imported."""
    caller = principal(request)
    job = _job(caller, job_id)
    return 202, _out(start_import_commit(job=job, mode=payload.mode, actor=caller.actor))


@router.post("/imports/jobs/{int:job_id}/cancel", response=ImportJobOut)
def cancel_import(request: HttpRequest, job_id: int) -> dict[str, Any]:
    """Drop a job still being read or previewed, with its stored file; nothing was
    imported. 409 once the commit has started."""
    caller = principal(request)
    return _out(cancel_import_job(job=_job(caller, job_id), actor=caller.actor))


@router.get("/imports/jobs/{int:job_id}/errors", response={200: None, 202: dict})
def error_rows_report(request: HttpRequest, job_id: int,
                      query: Query[ReportQuery]) -> HttpResponse:
    """The rows with problems as a sheet (each row's cells plus its problems; formulas
    neutralised). 202 while the worker prepares it; 404 when no row has a problem."""
    job = _job(principal(request), job_id)
    found = error_report(job, query.format)
    if found is None:
        return JsonResponse({"detail": _("The error report is being prepared; download it "
                                         "again in a minute.")}, status=202)
    return download(*found)
