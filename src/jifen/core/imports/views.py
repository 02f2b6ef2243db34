"""The web pages of an importer (``ImportPages``): upload → (reading) → mapping and
preview → commit → result, polled with htmx while the worker reads or commits."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jifen.core import errors
from jifen.core.exports import download
from jifen.core.imports.forms import MappingForm, UploadForm
from jifen.core.imports.importer import Importer, mapped_fields
from jifen.core.imports.jobs import (
    STALLED_AFTER,
    cancel_import_job,
    create_import_job,
    error_report,
    recent_import_jobs,
    remap_import_job,
    start_import_commit,
)
from jifen.core.imports.reports import REPORT_FORMATS, template_file
from jifen.core.models import ImportJob
from jifen.core.permissions import htmx_partial, require_capability

ERRORS_SHOWN = 200  # bad rows listed on the preview page; the report has them all

# How the result page names the counts an importer's ``commit`` returns.
RESULT_LABELS = {
    "imported": gettext_lazy("Rows imported"),
    "skipped": gettext_lazy("Rows skipped (errors)"),
    "created": gettext_lazy("Created"),
    "updated": gettext_lazy("Updated"),
    "unchanged": gettext_lazy("Unchanged"),
    "accounts_created": gettext_lazy("Accounts created"),
}


class ImportPages:
    """The web pages of one importer: upload → (reading) → mapping and preview → commit →
    result. Mount with ``urlpatterns = ImportPages(...).urlpatterns()`` under an
    ``app_name``."""

    def __init__(self, *, importer: type[Importer], capability: str, title: Any,
                 intro: Any = "", back_url_name: str = "", back_label: Any = ""):
        self.importer_class = importer
        self.capability = capability
        self.title = title
        self.intro = intro
        self.back_url_name = back_url_name
        self.back_label = back_label

    def urlpatterns(self) -> list[URLPattern]:
        guard = require_capability(self.capability)
        return [
            path("", guard(require_http_methods(["GET", "POST"])(self.start)), name="start"),
            path("template.<str:fmt>", guard(require_GET(self.template)), name="template"),
            path("<int:pk>/", guard(require_http_methods(["GET", "POST"])(self.preview)),
                 name="preview"),
            path("<int:pk>/commit/", guard(require_POST(self.commit)), name="commit"),
            path("<int:pk>/cancel/", guard(require_POST(self.cancel)), name="cancel"),
            path("<int:pk>/result/", guard(require_GET(self.result)), name="result"),
            path("<int:pk>/progress/", guard(require_GET(self.progress)), name="progress"),
            path("<int:pk>/errors.<str:fmt>", guard(require_GET(self.errors)), name="errors"),
        ]

    # helpers

    def _importer(self) -> Importer:
        return self.importer_class()

    def _job(self, pk: int) -> ImportJob:
        return get_object_or_404(ImportJob, pk=pk, kind=self.importer_class.kind)

    def _url(self, request: HttpRequest, name: str, *args: Any) -> str:
        namespace = request.resolver_match.namespace if request.resolver_match else ""
        return reverse(f"{namespace}:{name}" if namespace else name, args=args)

    def _context(self, request: HttpRequest, job: ImportJob | None = None, **extra: Any) -> dict:
        importer = self._importer()
        urls = {
            "start": self._url(request, "start"),
            "template_xlsx": self._url(request, "template", "xlsx"),
            "template_csv": self._url(request, "template", "csv"),
        }
        if job is not None:
            for name in ("preview", "commit", "cancel", "result", "progress"):
                urls[name] = self._url(request, name, job.pk)
            urls["errors_xlsx"] = self._url(request, "errors", job.pk, "xlsx")
            urls["errors_csv"] = self._url(request, "errors", job.pk, "csv")
        try:
            back_url = reverse(self.back_url_name) if self.back_url_name else ""
        except NoReverseMatch:
            back_url = ""
        stalled = (job is not None
                   and job.status in (ImportJob.Status.READING, ImportJob.Status.COMMITTING)
                   and job.updated_at < timezone.now() - STALLED_AFTER)
        counts = job.result if job is not None else {}
        order = list(RESULT_LABELS)
        result_items = [
            (RESULT_LABELS.get(key, key), counts[key])
            for key in sorted(counts, key=lambda k: (order.index(k) if k in order else 99, k))
        ]
        return {"importer": importer, "job": job, "urls": urls, "page_title": self.title,
                "intro": self.intro, "back_url": back_url, "back_label": self.back_label,
                "result_items": result_items, "stalled": stalled, **extra}

    # views

    def start(self, request: HttpRequest) -> HttpResponse:
        importer = self._importer()
        form = UploadForm(request.POST or None, request.FILES or None)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    job = create_import_job(importer=importer, upload=form.cleaned_data["file"],
                                            actor=request.user)
                except errors.JifenError as exc:
                    form.add_error("file", exc.message)
                else:
                    return redirect(self._url(request, "preview", job.pk))
            status = 422
        return render(request, "console/imports/start.html", self._context(
            request, form=form, recent=recent_import_jobs(importer.kind),
        ), status=status)

    def template(self, request: HttpRequest, fmt: str) -> HttpResponse:
        if fmt not in REPORT_FORMATS:
            return HttpResponse(status=404)
        return download(*template_file(self._importer(), fmt))

    def preview(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = self._job(pk)
        if job.status == ImportJob.Status.READING:
            if request.method == "POST":  # a mapping sent while the file is read again
                return redirect(self._url(request, "preview", job.pk))
            return render(request, "console/imports/reading.html", self._context(request, job))
        if job.status != ImportJob.Status.PREVIEWED:
            return redirect(self._url(request, "result", job.pk))
        importer = self._importer()
        form = MappingForm(request.POST or None, importer=importer, job=job)
        if request.method == "POST" and form.is_valid():
            try:
                job = remap_import_job(job=job, mapping=form.cleaned_data, actor=request.user)
            except errors.JifenError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect(self._url(request, "preview", job.pk))
        return self._render_preview(request, job, form)

    def _render_preview(self, request: HttpRequest, job: ImportJob, form: MappingForm,
                        refusal: str = "", status: int = 200) -> HttpResponse:
        importer = self._importer()
        mapped = mapped_fields(importer, job.mapping)
        shown = job.error_rows[:ERRORS_SHOWN]
        return render(request, "console/imports/preview.html", self._context(
            request, job,
            form=form,
            mapping_problems=importer.mapping_problems(job.mapping, len(job.headers)),
            errors_shown=[{**e, "label": importer.field_label(e["field"]) if e["field"] else ""}
                          for e in shown],
            errors_hidden=max(0, len(job.error_rows) - len(shown)),
            preview_labels=[importer.field_label(name) for name in mapped],
            refusal=refusal,
        ), status=status)

    def commit(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = self._job(pk)
        try:
            job = start_import_commit(job=job, mode=request.POST.get("mode", ""),
                                      actor=request.user)
        except errors.JifenError as exc:
            if job.status == ImportJob.Status.READING:
                return redirect(self._url(request, "preview", job.pk))
            if job.status != ImportJob.Status.PREVIEWED:
                return redirect(self._url(request, "result", job.pk))
            form = MappingForm(importer=self._importer(), job=job)
            return self._render_preview(request, job, form, refusal=exc.message,
                                        status=409 if isinstance(exc, errors.Conflict) else 422)
        return redirect(self._url(request, "result", job.pk))

    def cancel(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = self._job(pk)
        try:
            cancel_import_job(job=job, actor=request.user)
        except errors.JifenError:
            return redirect(self._url(request, "result", job.pk))
        return redirect(self._url(request, "start"))

    def result(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = self._job(pk)
        if job.status in (ImportJob.Status.PREVIEWED, ImportJob.Status.READING):
            return redirect(self._url(request, "preview", job.pk))
        return render(request, "console/imports/result.html", self._context(request, job))

    def progress(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The polled status card: the reading's while the worker reads, the commit's
        after; once a reading is done the page moves on to the preview."""
        job = self._job(pk)
        if job.status == ImportJob.Status.PREVIEWED:
            if not htmx_partial(request):
                return redirect(self._url(request, "preview", job.pk))
            response = HttpResponse(status=200)
            response["HX-Redirect"] = self._url(request, "preview", job.pk)
            return response
        if job.status == ImportJob.Status.READING:
            return render(request, "console/imports/reading.html#status",
                          self._context(request, job))
        return render(request, "console/imports/result.html#status", self._context(request, job))

    def errors(self, request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
        if fmt not in REPORT_FORMATS:
            return HttpResponse(status=404)
        job = self._job(pk)
        if job.status in (ImportJob.Status.CANCELLED, ImportJob.Status.READING):
            return HttpResponse(status=404)
        back = self._url(request, "preview" if job.status == ImportJob.Status.PREVIEWED
                         else "result", job.pk)
        if not job.file:
            messages.warning(request, _(
                "The uploaded file was deleted %(days)d days after the import, so the error "
                "report with its rows is no longer available; the errors are listed on "
                "this page.") % {"days": settings.JIFEN_IMPORT_RETENTION_DAYS})
            return redirect(back)
        try:
            report = error_report(job, fmt)
        except errors.JifenError as exc:
            messages.warning(request, exc.message)
            return redirect(back)
        if report is None:
            messages.info(request, _(
                "The error report is being prepared; download it again in a minute."))
            return redirect(back)
        return download(*report)
