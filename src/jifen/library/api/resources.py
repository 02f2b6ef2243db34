"""Library API: the resources part — list/search, get, buy (Idempotency-Key), a signed
short-lived download link, my library, contribute, and for editors: create, publish,
withdraw, the review queue and reviews. Resources an employee may not see are 404, exactly
like resources that do not exist."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from jifen.core import errors
from jifen.core.apiauth import Principal, principal
from jifen.core.idempotency import idempotent
from jifen.core.pagination import paginate
from jifen.core.roles import Cap, user_can
from jifen.core.schema_types import StrictBool, UrlInt, UrlRowId
from jifen.ledger.amounts import PointsOut
from jifen.library.documents import max_upload_bytes
from jifen.library.models import Purchase, Resource, ResourceCategory
from jifen.library.selectors import resources as selectors
from jifen.library.services import resources as services

router = Router(tags=["library"])


class ResourceOut(Schema):
    id: int
    title: str
    description: str
    category: str | None
    tags: list[str]
    kind: str = Field(description="`file` or `link` (an external course).")
    file_kind: str = Field(description="`pdf`, `docx`, `xlsx`, `pptx`, `zip`, or empty.")
    file_size: int
    price: PointsOut = Field(description="0: free.")
    status: str
    owned: bool
    preview_pages: int
    review_state: str
    published_at: datetime | None


def _out(resource: Resource, *, owned: bool) -> dict[str, Any]:
    previews = getattr(resource, "_prefetched_objects_cache", {}).get("previews")
    return {
        "id": resource.pk, "title": resource.title, "description": resource.description,
        "category": resource.category.name if resource.category_id else None,
        "tags": resource.tag_list, "kind": resource.kind, "file_kind": resource.file_kind,
        "file_size": resource.file_size, "price": resource.price, "status": resource.status,
        "owned": owned,
        "preview_pages": len(previews) if previews is not None else resource.previews.count(),
        "review_state": resource.review_state, "published_at": resource.published_at,
    }


class ResourceFilters(Schema):
    q: str = Field("", max_length=100, description="Words found inside titles, "
                   "descriptions, tags and categories (Chinese too).")
    category: UrlInt | None = Field(None, ge=1, description="A category id.")
    tag: str = Field("", max_length=60)
    price: Literal["", "free", "paid"] = ""
    cursor: str | None = None
    limit: UrlInt = Field(20, ge=1, le=100)


class ResourcePage(Schema):
    items: list[ResourceOut]
    next_cursor: str | None


@router.get("/library/resources", response=ResourcePage)
def list_resources(request: HttpRequest, filters: Query[ResourceFilters]) -> dict:
    """Published resources the signed-in employee may see, newest first; cursor pages."""
    employee = principal(request).require_employee()
    rows = selectors.search(employee, query=filters.q, category_id=filters.category,
                            tag=filters.tag, price=filters.price)
    page = paginate(rows, cursor=filters.cursor, limit=filters.limit, descending=True)
    return {"items": [_out(r, owned=r.owned) for r in page["items"]],
            "next_cursor": page["next_cursor"]}


def _visible(employee: Any, resource_id: int) -> Resource:
    resource = selectors.resource_for(employee, resource_id)
    if resource is None:
        raise errors.NotFound(_("Resource not found."))
    return resource


@router.get("/library/resources/{resource_id}", response=ResourceOut)
def get_resource(request: HttpRequest, resource_id: UrlRowId) -> dict:
    employee = principal(request).require_employee()
    resource = _visible(employee, resource_id)
    services.record_view(resource=resource, employee=employee)
    return _out(resource, owned=selectors.owns(resource, employee))


class PurchaseOut(Schema):
    id: int
    resource_id: int
    points: PointsOut = Field(description="What was paid (0: free).")
    created_at: datetime


def _purchase_out(purchase: Purchase) -> dict[str, Any]:
    return {"id": purchase.pk, "resource_id": purchase.resource_id, "points": purchase.points,
            "created_at": purchase.created_at}


@router.post("/library/resources/{resource_id}/buy", response={201: PurchaseOut})
def buy(request: HttpRequest, resource_id: UrlRowId):
    """Own the resource: the first call debits its price, every later one (and a
    concurrent twin) answers the same purchase and charges nothing. 409
    ``insufficient_points``, ``not_eligible`` or ``not_available`` (withdrawn). Send an
    ``Idempotency-Key``: a replay answers with the first response."""
    caller = principal(request)
    employee = caller.require_employee()
    resource = _visible(employee, resource_id)

    def handler() -> tuple[int, dict]:
        purchase = services.buy(resource=resource, employee=employee, actor=caller.actor)
        return 201, PurchaseOut(**_purchase_out(purchase)).model_dump()

    return idempotent(request, caller.id, handler)


class DownloadLinkOut(Schema):
    url: str = Field(description="Good for the employee it was made for, until expires_at; "
                     "follow it signed in or with the same bearer token.")
    expires_at: datetime


@router.post("/library/resources/{resource_id}/download-link", response=DownloadLinkOut)
def download_link(request: HttpRequest, resource_id: UrlRowId) -> dict:
    """A signed link to the file, valid for five minutes, for a resource the employee owns
    (buy it first) or a free one. 409 ``not_available`` for a paid resource not bought."""
    employee = principal(request).require_employee()
    resource = _visible(employee, resource_id)
    if not selectors.may_download(resource, employee):
        raise errors.Conflict(_("Buy this resource first."),
                              code=errors.ErrorCode.NOT_AVAILABLE)
    token = services.download_token(resource=resource, employee=employee)
    return {"url": request.build_absolute_uri(
                reverse("portal:library_signed_download", args=[token])),
            "expires_at": timezone.now() + timedelta(seconds=services.DOWNLOAD_LINK_SECONDS)}


class MineOut(Schema):
    items: list[ResourceOut]


@router.get("/library/mine", response=MineOut)
def my_library(request: HttpRequest) -> dict:
    """Everything the employee owns — withdrawn resources too — latest first."""
    employee = principal(request).require_employee()
    return {"items": [_out(p.resource, owned=True)
                      for p in selectors.my_library(employee)[:500]]}


# --- uploads: contributions and editors' resources -------------------------------------

_MULTIPART = {"requestBody": {"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["title"],
    "properties": {
        "title": {"type": "string", "maxLength": 120},
        "description": {"type": "string"},
        "category": {"type": "integer", "description": "A category id."},
        "tags": {"type": "string", "description": "Comma-separated."},
        "price": {"type": "integer", "minimum": 0},
        "file": {"type": "string", "format": "binary",
                 "description": "PDF, DOCX, XLSX, PPTX or ZIP, checked by its content."},
        "external_url": {"type": "string", "description": "A course link instead of a file."},
    }}}}}}


def _form(request: HttpRequest) -> tuple[dict[str, str], Any]:
    """The multipart fields and file — after the Content-Length was checked against the
    upload limit, so an oversized body is refused before it is read."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    limit = max_upload_bytes()
    if length < 0 or length > limit + 256 * 1024:
        raise errors.ValidationError(
            _("This file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)},
            code=errors.ErrorCode.FILE_TOO_LARGE, details={"max_bytes": limit})
    fields = {key: request.POST.get(key, "") for key in request.POST}
    return fields, request.FILES.get("file")


def _category(value: str) -> ResourceCategory | None:
    if not value:
        return None
    category = (selectors.category_by_id(int(value))
                if value.isascii() and value.isdigit() and len(value) < 19 else None)
    if category is None:
        raise errors.ValidationError(_("Unknown category."),
                                     code=errors.ErrorCode.UNKNOWN_CATEGORY)
    return category


def _price(value: str) -> int:
    value = (value or "0").strip()
    if not (value.isascii() and value.isdigit() and len(value) < 13):
        raise errors.ValidationError(_("The price is a whole number of points, 0 or more."),
                                     code=errors.ErrorCode.INVALID_POINTS)
    return int(value)


@router.post("/library/contributions", response={201: ResourceOut}, openapi_extra=_MULTIPART)
def contribute(request: HttpRequest):
    """Offer a resource (multipart: a file, or ``external_url`` for a course): it waits
    for an editor's review. 422 ``file_too_large``, ``unsupported_file``,
    ``file_type_mismatch``, ``unsafe_archive`` or ``unreadable_document`` — and nothing is
    stored."""
    caller = principal(request)
    employee = caller.require_employee()
    fields, upload = _form(request)

    def handler() -> tuple[int, dict]:
        resource = services.submit_contribution(
            employee=employee, title=fields.get("title", ""),
            description=fields.get("description", ""),
            category=_category(fields.get("category", "")), tags=fields.get("tags", ""),
            upload=upload, external_url=fields.get("external_url", ""))
        return 201, ResourceOut(**_out(resource, owned=False)).model_dump()

    return idempotent(request, caller.id, handler)


def _editor(request: HttpRequest) -> Principal:
    caller = principal(request)
    if caller.kind != "employee" or not user_can(caller.user, Cap.MANAGE_LIBRARY):
        raise errors.PermissionDenied(_("Only library editors may do this."),
                                      code=errors.ErrorCode.FORBIDDEN)
    return caller


def _any(resource_id: int) -> Resource:
    resource = selectors.resource_by_id(resource_id)
    if resource is None:
        raise errors.NotFound(_("Resource not found."))
    return resource


@router.post("/library/resources", response={201: ResourceOut}, openapi_extra=_MULTIPART)
def create_resource(request: HttpRequest):
    """Add a resource (editors; multipart as for contributions, plus ``price`` and
    ``status`` draft or published)."""
    caller = _editor(request)
    fields, upload = _form(request)
    status = fields.get("status") or "draft"

    def handler() -> tuple[int, dict]:
        resource = services.create_resource(
            actor=caller.actor, title=fields.get("title", ""),
            description=fields.get("description", ""),
            category=_category(fields.get("category", "")), tags=fields.get("tags", ""),
            price=_price(fields.get("price", "0")),
            kind="file" if upload is not None else "link", upload=upload,
            external_url=fields.get("external_url", ""), status=status,
            grades=fields.get("grades", ""))
        return 201, ResourceOut(**_out(resource, owned=False)).model_dump()

    return idempotent(request, caller.id, handler)


@router.post("/library/resources/{resource_id}", response=ResourceOut,
             openapi_extra=_MULTIPART)
def update_resource(request: HttpRequest, resource_id: UrlRowId) -> dict:
    """Change a resource as the console's edit form does (editors; multipart): only the
    fields sent change — ``title``, ``description``, ``tags``, ``price``, ``category``,
    ``external_url``, ``grades`` — and a ``file`` replaces the file. Refused input (422)
    changes nothing."""
    caller = _editor(request)
    resource = _any(resource_id)
    fields, upload = _form(request)
    changes: dict[str, Any] = {name: fields[name] for name in
                               ("title", "description", "tags", "external_url") if name in fields}
    if "price" in fields:
        changes["price"] = _price(fields["price"])
    if upload is not None:
        changes["kind"] = "file"
    if "category" in fields:
        changes["category"] = _category(fields["category"])
    updated = services.update_resource(actor=caller.actor, resource=resource, upload=upload,
                                       grades=fields.get("grades"), **changes)
    return _out(updated, owned=False)


@router.post("/library/resources/{resource_id}/publish", response=ResourceOut)
def publish(request: HttpRequest, resource_id: UrlRowId) -> dict:
    caller = _editor(request)
    resource = services.publish_resource(actor=caller.actor, resource=_any(resource_id))
    return _out(resource, owned=False)


@router.post("/library/resources/{resource_id}/withdraw", response=ResourceOut)
def withdraw(request: HttpRequest, resource_id: UrlRowId) -> dict:
    """No longer offered; those who own it keep downloading it."""
    caller = _editor(request)
    resource = services.withdraw_resource(actor=caller.actor, resource=_any(resource_id))
    return _out(resource, owned=False)


@router.get("/library/reviews", response=MineOut)
def review_queue(request: HttpRequest) -> dict:
    """Contributions waiting for review, oldest first (editors)."""
    _editor(request)
    return {"items": [_out(r, owned=False) for r in selectors.review_queue()[:200]]}


class ReviewIn(Schema):
    approve: StrictBool
    reason: str = Field("", max_length=500, description="Required to reject.")


@router.post("/library/resources/{resource_id}/review", response=ResourceOut)
def review(request: HttpRequest, resource_id: UrlRowId, payload: ReviewIn) -> dict:
    """Approve (published at once; the contributor earns by HR's ``resource_approved``
    rule) or reject with a reason. 409 ``already_decided``; 422 ``reason_required``."""
    caller = _editor(request)
    resource = services.review_contribution(actor=caller.actor, resource=_any(resource_id),
                                            approve=payload.approve, reason=payload.reason)
    return _out(resource, owned=False)

