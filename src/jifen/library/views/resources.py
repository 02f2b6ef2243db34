"""Library pages: the resources part. Portal: the library (search, filters), a resource's
page with its preview pages, buying, downloading, "my library" and contributing. Console:
resources (list, new, edit, publish, withdraw), the review queue and the operators' page.
Files and preview pages are streamed by views that check entitlement — never a public URL."""

from __future__ import annotations

import mimetypes
import re
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import content_disposition_header, http_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jifen.core import errors, suggestions
from jifen.core.apiauth import authenticate_token
from jifen.core.exports import spreadsheet_response
from jifen.core.permissions import require_capability
from jifen.core.roles import Cap, user_can
from jifen.ledger import selectors as ledger_selectors
from jifen.library.documents import CONTENT_TYPES, max_upload_bytes
from jifen.library.forms import ContributionForm, LibraryFilterForm, ResourceForm
from jifen.library.models import Resource, ResourceKind, ResourceStatus
from jifen.library.selectors import resources as selectors
from jifen.library.services import resources as services

PAGE_SIZE = 24
CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _employee(request: HttpRequest) -> Any:
    employee = getattr(request.user, "employee", None)
    if employee is None:
        raise Http404
    return employee


def _visible(request: HttpRequest, pk: int) -> Resource:
    resource = selectors.resource_for(_employee(request), pk)
    if resource is None:
        raise Http404
    return resource


# --- portal ----------------------------------------------------------------------------


@login_required
def library_home(request: HttpRequest) -> HttpResponse:
    employee = _employee(request)
    form = LibraryFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    category = data.get("category")
    rows = selectors.search(employee, query=data.get("q", ""),
                            category_id=category.pk if category else None,
                            tag=data.get("tag", ""), price=data.get("price", ""),
                            sort=data.get("sort") or "new")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    # The row of recommendations greets the plain library, not a search or a later page.
    landing = not any(v for k, v in request.GET.items() if k != "page") and page.number == 1
    suggested = suggestions.suggestions(
        suggestions.LIBRARY_HOME, employee=employee,
        spendable=ledger_selectors.balance(employee=employee).spendable) if landing else []
    return render(request, "library/home.html", {
        "form": form, "page": page, "resources": list(page.object_list),
        "querystring": _querystring(request),
        "suggested": [{"r": s.thing, "why": s.why.text, "short_by": s.short_by}
                      for s in suggested],
    })


def _querystring(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
def library_resource(request: HttpRequest, pk: int) -> HttpResponse:
    resource = _visible(request, pk)
    employee = _employee(request)
    services.record_view(resource=resource, employee=employee)
    owned = selectors.owns(resource, employee)
    spendable = ledger_selectors.balance(employee=employee).spendable
    problem = selectors.eligibility_problem(resource, employee) if not owned else ""
    return render(request, "library/resource.html", {
        "resource": resource, "owned": owned, "spendable": spendable, "problem": problem,
        "short_by": max(0, resource.price - spendable) if not owned else 0,
        "offered": resource.status == ResourceStatus.PUBLISHED,
        "previews": list(resource.previews.all()),
        "token": uuid.uuid4().hex,
    })


@login_required
@require_POST
def library_buy(request: HttpRequest, pk: int) -> HttpResponse:
    resource = _visible(request, pk)
    employee = _employee(request)
    try:
        services.buy(resource=resource, employee=employee, actor=request.user)
    except errors.JifenError as exc:
        messages.error(request, exc.message)
        return redirect("portal:library_resource", pk=pk)
    if resource.kind == ResourceKind.LINK:
        messages.success(request, _("It is yours: open the course whenever you like."))
    else:
        messages.success(request, _("It is yours: download it whenever you like."))
    return redirect("portal:library_resource", pk=pk)


@login_required
@require_GET
def library_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The file, for an employee who owns it (or a free one they may see, which makes it
    theirs); 404 for anyone else — an unknown id and a forbidden one look the same."""
    employee = _employee(request)
    resource = selectors.resource_by_id(pk)
    if resource is None or not selectors.may_download(resource, employee):
        raise Http404
    if not selectors.owns(resource, employee):  # free, published and eligible
        services.buy(resource=resource, employee=employee, actor=request.user)
    return _serve(request, resource, employee)


@require_GET
def library_signed_download(request: HttpRequest, token: str) -> HttpResponse:
    """The API's short-lived link: it names the employee it was made for, who must be the
    one signed in (session or bearer token)."""
    user = request.user if request.user.is_authenticated else _bearer_user(request)
    employee = getattr(user, "employee", None)
    if employee is None:
        raise Http404
    try:
        resource = services.resource_for_token(token=token, employee=employee)
    except errors.NotFound as exc:
        raise Http404 from exc
    if not selectors.owns(resource, employee):
        services.buy(resource=resource, employee=employee, actor=user)
    return _serve(request, resource, employee)


def _bearer_user(request: HttpRequest) -> Any:
    """The employee's user an ``Authorization: Bearer`` token stands for (API clients
    follow the link with the token they called the API with), else None."""
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    found = authenticate_token(token.strip())
    return found.user if found is not None and found.kind == "employee" else None


def _serve(request: HttpRequest, resource: Resource, employee: Any) -> HttpResponse:
    if resource.kind == ResourceKind.LINK:
        services.record_download(resource=resource, employee=employee)
        return redirect(resource.external_url)
    if not resource.file:
        raise Http404
    storage = resource.file.storage
    name = resource.file.name
    if not storage.exists(name):
        raise Http404
    size = storage.size(name)
    etag = f'"{resource.pk}-{size}-{int(resource.updated_at.timestamp())}"'
    content_type = CONTENT_TYPES.get(resource.file_kind) or (
        mimetypes.guess_type(resource.file_name)[0] or "application/octet-stream")
    headers = {"Accept-Ranges": "bytes", "ETag": etag, "Cache-Control": "private, no-store",
               "Content-Disposition": content_disposition_header(
                   True, resource.file_name or f"resource-{resource.pk}.{resource.file_kind}"),
               "X-Content-Type-Options": "nosniff"}
    wanted = request.headers.get("Range", "")
    if_range = request.headers.get("If-Range", "")
    if wanted and if_range and if_range != etag:
        wanted = ""  # the file changed since: send it whole
    if wanted:
        span = _parse_range(wanted, size)
        if span is None:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            response["Accept-Ranges"] = "bytes"
            return response
        start, end = span
        if start == 0:  # a download manager's first piece counts; its later ones do not
            services.record_download(resource=resource, employee=employee)
        handle = storage.open(name, "rb")
        handle.seek(start)
        response = StreamingHttpResponse(_chunks(handle, end - start + 1), status=206,
                                         content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
        for key, value in headers.items():
            response[key] = value
        return response
    services.record_download(resource=resource, employee=employee)
    response = FileResponse(storage.open(name, "rb"), content_type=content_type)
    response["Content-Length"] = str(size)
    response["Last-Modified"] = http_date(resource.updated_at.timestamp())
    for key, value in headers.items():
        response[key] = value
    return response


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The one byte range asked for (inclusive), or None when it cannot be satisfied or
    is not one simple range (several ranges are not offered)."""
    match = _RANGE.match(header.strip())
    if match is None or size == 0:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last[:20])
        if length == 0:
            return None
        return max(0, size - length), size - 1
    start = int(first[:20])
    end = int(last[:20]) if last else size - 1
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)


def _chunks(handle: Any, length: int) -> Any:
    try:
        while length > 0:
            data = handle.read(min(CHUNK, length))
            if not data:
                break
            length -= len(data)
            yield data
    finally:
        handle.close()


@login_required
@require_GET
def library_preview(request: HttpRequest, pk: int, page: int) -> HttpResponse:
    """A preview page (PNG) of a resource the employee may see (editors: of any)."""
    if user_can(request.user, Cap.MANAGE_LIBRARY):
        resource = selectors.resource_by_id(pk)
        if resource is None:
            raise Http404
    else:
        resource = _visible(request, pk)
    preview = resource.previews.filter(page=page).first()
    if preview is None or not preview.image:
        raise Http404
    response = FileResponse(preview.image.open("rb"), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def library_mine(request: HttpRequest) -> HttpResponse:
    employee = _employee(request)
    return render(request, "library/mine.html", {
        "purchases": list(selectors.my_library(employee)[:200]),
        "contributions": list(selectors.my_contributions(employee)[:100]),
    })


def _too_large(request: HttpRequest) -> bool:
    """A body longer than the upload limit (and a little for the other fields) is refused
    from its Content-Length, before a byte of it is read."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > max_upload_bytes() + 256 * 1024


def _too_large_message() -> str:
    return _("This file is larger than %(mb)s MB.") % {"mb": max_upload_bytes() // (1024 * 1024)}


@login_required
def library_contribute(request: HttpRequest) -> HttpResponse:
    employee = _employee(request)
    if request.method == "POST" and _too_large(request):
        messages.error(request, _too_large_message())
        form = ContributionForm()
        return render(request, "library/contribute.html", {"form": form}, status=413)
    form = ContributionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.submit_contribution(
                employee=employee, title=data["title"], description=data["description"],
                category=data["category"], tags=data["tags"], upload=data.get("file"),
                external_url=data.get("external_url", ""))
        except errors.JifenError as exc:
            form.add_error("file" if exc.code != errors.ErrorCode.INVALID_VALUE
                           else "external_url", exc.message)
        else:
            messages.success(request, _("Thank you! An editor will review it."))
            return redirect("portal:library_mine")
    return render(request, "library/contribute.html", {"form": form},
                  status=422 if form.errors else 200)


# --- console ---------------------------------------------------------------------------


@require_capability(Cap.MANAGE_LIBRARY)
def library_resources(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    q = request.GET.get("q", "")[:100]
    page = Paginator(selectors.console_resources(query=q, status=status), 50).get_page(
        request.GET.get("page"))
    return render(request, "library/console/resources.html", {
        "page": page, "status": status, "q": q, "statuses": ResourceStatus.choices,
        "pending": selectors.review_queue().count(),
    })


@require_capability(Cap.MANAGE_LIBRARY)
def library_resource_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    resource = None
    if pk is not None:
        resource = selectors.resource_by_id(pk)
        if resource is None:
            raise Http404
    if request.method == "POST" and _too_large(request):
        messages.error(request, _too_large_message())
        form = ResourceForm(resource=resource)
        return render(request, "library/console/resource_form.html", {
            "form": form, "resource": resource, "previews": []}, status=413)
    form = ResourceForm(request.POST or None, request.FILES or None, resource=resource)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        common = {"title": data["title"], "description": data["description"],
                  "tags": data["tags"], "price": data["price"], "kind": data["kind"],
                  "external_url": data["external_url"]}
        try:
            if resource is None:
                resource = services.create_resource(
                    actor=request.user, category=data["category"], upload=data.get("file"),
                    status=data["status"], departments=data["departments"],
                    grades=data["grades"], **common)
            else:
                resource = services.update_resource(
                    actor=request.user, resource=resource, category=data["category"],
                    upload=data.get("file"), departments=data["departments"],
                    grades=data["grades"], **common)
        except errors.JifenError as exc:
            form.add_error("file" if exc.code in FILE_CODES else None, exc.message)
        else:
            messages.success(request, _("Saved."))
            return redirect("console:library_resource_edit", pk=resource.pk)
    return render(request, "library/console/resource_form.html", {
        "form": form, "resource": resource,
        "previews": list(resource.previews.all()) if resource else [],
    }, status=422 if form.errors else 200)


FILE_CODES = {errors.ErrorCode.FILE_TOO_LARGE, errors.ErrorCode.FILE_TYPE_MISMATCH,
              errors.ErrorCode.UNSAFE_ARCHIVE, errors.ErrorCode.UNREADABLE_DOCUMENT,
              errors.ErrorCode.UNSUPPORTED_FILE}


@require_capability(Cap.MANAGE_LIBRARY)
@require_POST
def library_resource_status(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    resource = selectors.resource_by_id(pk)
    if resource is None:
        raise Http404
    try:
        if action == "publish":
            services.publish_resource(actor=request.user, resource=resource)
            messages.success(request, _("Published."))
        elif action == "withdraw":
            services.withdraw_resource(actor=request.user, resource=resource)
            messages.success(request, _("Withdrawn: those who own it keep it."))
        else:
            raise Http404
    except errors.JifenError as exc:
        messages.error(request, exc.message)
    return redirect("console:library_resource_edit", pk=pk)


@require_capability(Cap.MANAGE_LIBRARY)
def library_file(request: HttpRequest, pk: int) -> HttpResponse:
    """The file, for an editor judging it (a contribution under review)."""
    resource = selectors.resource_by_id(pk)
    if resource is None or not resource.file:
        raise Http404
    response = FileResponse(resource.file.open("rb"), as_attachment=True,
                            filename=resource.file_name or f"resource-{pk}")
    response["Cache-Control"] = "private, no-store"
    return response


@require_capability(Cap.MANAGE_LIBRARY)
def library_reviews(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        resource = selectors.resource_by_id(_int(request.POST.get("resource")))
        if resource is None:
            raise Http404
        try:
            services.review_contribution(
                actor=request.user, resource=resource,
                approve=request.POST.get("decision") == "approve",
                reason=request.POST.get("reason", ""))
        except errors.JifenError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Review saved; the contributor has been told."))
        return redirect("console:library_reviews")
    return render(request, "library/console/reviews.html", {
        "queue": list(selectors.review_queue()[:100]),
        "reviewed": selectors.recently_reviewed(),
    })


def _int(value: Any) -> int | None:
    text = value.strip() if isinstance(value, str) else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


@require_capability(Cap.MANAGE_LIBRARY)
def library_insights(request: HttpRequest) -> HttpResponse:
    days = 90 if request.GET.get("days") not in ("30", "365") else int(request.GET["days"])
    figures = selectors.resource_figures(days=days)
    return render(request, "library/console/insights.html", {
        "days": days, "figures": figures, "contributors": selectors.top_contributors(),
        "series": selectors.daily_series(days=min(days, 90)),
    })


@require_capability(Cap.MANAGE_LIBRARY)
def library_insights_export(request: HttpRequest) -> HttpResponse:
    figures = selectors.resource_figures(days=365, limit=1000)
    header = [_("Resource"), _("Views"), _("Downloads"), _("Buyers"), _("Points collected"),
              _("Conversion")]
    rows = [[f.title, f.views, f.downloads, f.buyers, f.points, f.conversion]
            for f in figures]
    return spreadsheet_response(fmt="xlsx", filename="library-resources", header=header,
                                rows=rows, sheet_title=str(_("Resources")))


portal_urlpatterns = [
    path("library/", library_home, name="library"),
    path("library/resources/<int:pk>/", library_resource, name="library_resource"),
    path("library/resources/<int:pk>/buy/", library_buy, name="library_buy"),
    path("library/resources/<int:pk>/download/", library_download, name="library_download"),
    path("library/resources/<int:pk>/preview/<int:page>.png", library_preview,
         name="library_preview"),
    path("library/d/<str:token>/", library_signed_download, name="library_signed_download"),
    path("library/mine/", library_mine, name="library_mine"),
    path("library/contribute/", library_contribute, name="library_contribute"),
]
console_urlpatterns = [
    path("library/", library_resources, name="library_resources"),
    path("library/resources/new/", library_resource_edit, name="library_resource_new"),
    path("library/resources/<int:pk>/", library_resource_edit, name="library_resource_edit"),
    path("library/resources/<int:pk>/file/", library_file, name="library_file"),
    path("library/resources/<int:pk>/<str:action>/", library_resource_status,
         name="library_resource_status"),
    path("library/reviews/", library_reviews, name="library_reviews"),
    path("library/insights/", library_insights, name="library_insights"),
    path("library/insights/export.xlsx", library_insights_export,
         name="library_insights_export"),
]

__all__ = ["console_urlpatterns", "portal_urlpatterns", "reverse"]
