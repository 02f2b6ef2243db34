"""The resource library's writers: resources (create, change, publish, withdraw — each
audited), buying (the first download), the download and view logs, contributions and
their review, and the signed short-lived download links the API hands out."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.core import signing
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.db import atomic_with_retry
from jifen.core.intake import Fact, report_facts
from jifen.core.services import record_audit, snapshot
from jifen.ledger import services as ledger
from jifen.library import notices
from jifen.library.documents import CheckedFile, check_upload
from jifen.library.models import (
    Download,
    Purchase,
    Resource,
    ResourceCategory,
    ResourceKind,
    ResourcePreview,
    ResourceStatus,
    ResourceView,
    ReviewState,
)
from jifen.library.search import resource_search_text
from jifen.library.selectors import resources as selectors
from jifen.notifications.services import notify
from jifen.people.models import Department, Employee

AUDITED = ("title", "description", "category_id", "tags", "kind", "file_name", "file_kind",
           "file_size", "external_url", "price", "status", "eligible_grades")
MAX_PRICE = 10**12
DOWNLOAD_SALT = "jifen.library.download"
DOWNLOAD_LINK_SECONDS = 300
FACT_SOURCE = "library"
# Event types the library reports (built in: jifen.earning.builtins).
DOWNLOAD_FACT = "download"
APPROVED_FACT = "resource_approved"
SHARE_FACT = "resource_download_share"


# --- categories ------------------------------------------------------------------------


@transaction.atomic
def save_category(*, actor: Actor, name: str, category: ResourceCategory | None = None,
                  position: int = 0) -> ResourceCategory:
    name = (name or "").strip()[:60]
    if not name:
        raise errors.ValidationError(_("Give the category a name."),
                                     code=errors.ErrorCode.NAME_REQUIRED)
    clash = ResourceCategory.objects.filter(name=name)
    if category is not None:
        clash = clash.exclude(pk=category.pk)
    if clash.exists():
        raise errors.Conflict(_("A category with this name exists."),
                              code=errors.ErrorCode.CONFLICT)
    category = category or ResourceCategory()
    category.name, category.position = name, position
    category.save()
    record_audit(actor=actor, action="library.category.save", obj=category,
                 after={"name": name})
    return category


# --- resources -------------------------------------------------------------------------


def _clean(*, title: str, description: str, tags: str, price: Any, external_url: str,
           kind: str) -> dict[str, Any]:
    title = (title or "").strip()[:120]
    if not title:
        raise errors.ValidationError(_("Give the resource a title."),
                                     code=errors.ErrorCode.NAME_REQUIRED)
    if isinstance(price, bool) or not isinstance(price, int) or not 0 <= price <= MAX_PRICE:
        raise errors.ValidationError(_("The price is a whole number of points, 0 or more."),
                                     code=errors.ErrorCode.INVALID_POINTS)
    if kind not in ResourceKind.values:
        raise errors.ValidationError(_("Unknown kind of resource."),
                                     code=errors.ErrorCode.INVALID_KIND)
    external_url = (external_url or "").strip()[:500]
    if kind == ResourceKind.LINK and not external_url.startswith(("https://", "http://")):
        raise errors.ValidationError(_("A course link starts with https://."),
                                     code=errors.ErrorCode.INVALID_VALUE)
    return {"title": title, "description": (description or "").strip()[:20000],
            "tags": ",".join(t.strip() for t in (tags or "").replace("，", ",").split(",")
                             if t.strip())[:200],
            "price": price, "external_url": external_url if kind == ResourceKind.LINK else "",
            "kind": kind}


def _store_file(resource: Resource, upload: Any, checked: CheckedFile) -> None:
    """Save the checked file and its preview pages — only once every check passed, so a
    refused upload stores nothing; should saving fail half-way, the files written so far
    are removed and the transaction rolls the rows back."""
    written: list[str] = []
    try:
        upload.seek(0)
        resource.file.save(checked.name or f"file.{checked.kind}", upload, save=False)
        written.append(resource.file.name)
        resource.file_name, resource.file_kind = checked.name, checked.kind
        resource.file_size = checked.size
        resource.save(update_fields=["file", "file_name", "file_kind", "file_size"])
        for old in resource.previews.all():
            old.image.delete(save=False)
        resource.previews.all().delete()
        for number, png in enumerate(checked.previews, start=1):
            preview = ResourcePreview(resource=resource, page=number)
            preview.image.save(f"page-{number}.png", ContentFile(png), save=False)
            written.append(preview.image.name)
            preview.save()
    except Exception:
        for name in written:
            resource.file.storage.delete(name)
        raise


def _set_audience(resource: Resource, departments: Iterable[Department] | None,
                  grades: str | None) -> None:
    if departments is not None:
        resource.eligible_departments.set(list(departments))
    if grades is not None:
        resource.eligible_grades = ",".join(
            g.strip() for g in grades.replace("，", ",").split(",") if g.strip())[:200]


def _index(resource: Resource) -> None:
    resource.search_text = resource_search_text(resource)
    Resource.objects.filter(pk=resource.pk).update(search_text=resource.search_text)


def create_resource(*, actor: Actor, title: str, description: str = "",
                    category: ResourceCategory | None = None, tags: str = "",
                    price: int = 0, kind: str = ResourceKind.FILE, upload: Any = None,
                    external_url: str = "", status: str = ResourceStatus.DRAFT,
                    departments: Iterable[Department] | None = None, grades: str = "",
                    contributor: Employee | None = None,
                    checked: CheckedFile | None = None) -> Resource:
    """A new resource: a checked file (``upload``; refused files store nothing) or a
    course link. Audited as ``library.resource.create``."""
    fields = _clean(title=title, description=description, tags=tags, price=price,
                    external_url=external_url, kind=kind)
    if status not in ResourceStatus.values:
        raise errors.ValidationError(_("Unknown status."), code=errors.ErrorCode.INVALID_STATUS)
    if fields["kind"] == ResourceKind.FILE:
        if upload is None:
            raise errors.ValidationError(_("Choose a file to upload."),
                                         code=errors.ErrorCode.UNSUPPORTED_FILE)
        # Judged (and a PDF rendered, in a child process) before the transaction opens.
        checked = checked or check_upload(upload)
    return _create(actor=actor, fields=fields, category=category, upload=upload,
                   checked=checked, status=status, departments=departments, grades=grades,
                   contributor=contributor)


@transaction.atomic
def _create(*, actor: Actor, fields: dict[str, Any], category: ResourceCategory | None,
            upload: Any, checked: CheckedFile | None, status: str,
            departments: Iterable[Department] | None, grades: str,
            contributor: Employee | None) -> Resource:
    now = timezone.now()
    resource = Resource.objects.create(
        **fields, category=category, status=status, contributor=contributor,
        review_state=ReviewState.PENDING if contributor is not None else ReviewState.NONE,
        published_at=now if status == ResourceStatus.PUBLISHED else None)
    _set_audience(resource, departments, grades)
    if upload is not None and checked is not None:
        _store_file(resource, upload, checked)
    resource.save()
    _index(resource)
    record_audit(actor=actor, action=("library.resource.contribute" if contributor is not None
                                      else "library.resource.create"),
                 obj=resource, after=snapshot(resource, AUDITED))
    return resource


def update_resource(*, actor: Actor, resource: Resource, upload: Any = None,
                    departments: Iterable[Department] | None = None,
                    grades: str | None = None, category: Any = ..., **changes: Any
                    ) -> Resource:
    """Change a resource's details (title, description, tags, price, kind, link), its
    audience, category or file. Audited as ``library.resource.update``."""
    merged = {name: changes.get(name, getattr(resource, name))
              for name in ("title", "description", "tags", "price", "external_url", "kind")}
    fields = _clean(**merged)
    checked = check_upload(upload) if upload is not None else None
    if fields["kind"] == ResourceKind.FILE and checked is None and not resource.file:
        raise errors.ValidationError(_("Choose a file to upload."),
                                     code=errors.ErrorCode.UNSUPPORTED_FILE)
    return _update(actor=actor, resource_id=resource.pk, fields=fields, upload=upload,
                   checked=checked, departments=departments, grades=grades, category=category)


@transaction.atomic
def _update(*, actor: Actor, resource_id: int, fields: dict[str, Any], upload: Any,
            checked: CheckedFile | None, departments: Iterable[Department] | None,
            grades: str | None, category: Any) -> Resource:
    resource = Resource.objects.select_for_update().get(pk=resource_id)
    before = snapshot(resource, AUDITED)
    for name, value in fields.items():
        setattr(resource, name, value)
    if category is not ...:
        resource.category = category
    _set_audience(resource, departments, grades)
    resource.save()
    if upload is not None and checked is not None:
        _store_file(resource, upload, checked)
    _index(resource)
    after = snapshot(resource, AUDITED)
    if after != before or departments is not None:
        record_audit(actor=actor, action="library.resource.update", obj=resource,
                     before=before, after=after)
    return resource


@transaction.atomic
def publish_resource(*, actor: Actor, resource: Resource) -> Resource:
    resource = Resource.objects.select_for_update().get(pk=resource.pk)
    if resource.status == ResourceStatus.PUBLISHED:
        return resource
    if resource.review_state in (ReviewState.PENDING, ReviewState.REJECTED):
        raise errors.Conflict(_("Review the contribution first."),
                              code=errors.ErrorCode.INVALID_TRANSITION)
    if resource.kind == ResourceKind.FILE and not resource.file:
        raise errors.Conflict(_("Upload the file first."),
                              code=errors.ErrorCode.INVALID_TRANSITION)
    before = resource.status
    resource.status = ResourceStatus.PUBLISHED
    resource.published_at = resource.published_at or timezone.now()
    resource.save(update_fields=["status", "published_at", "updated_at"])
    record_audit(actor=actor, action="library.resource.publish", obj=resource,
                 before={"status": before}, after={"status": resource.status})
    return resource


@transaction.atomic
def withdraw_resource(*, actor: Actor, resource: Resource) -> Resource:
    """No longer offered; those who own it keep downloading it."""
    resource = Resource.objects.select_for_update().get(pk=resource.pk)
    if resource.status == ResourceStatus.WITHDRAWN:
        return resource
    before = resource.status
    resource.status = ResourceStatus.WITHDRAWN
    resource.save(update_fields=["status", "updated_at"])
    record_audit(actor=actor, action="library.resource.withdraw", obj=resource,
                 before={"status": before}, after={"status": resource.status})
    return resource


# --- buying and downloading ------------------------------------------------------------


def buy(*, resource: Resource, employee: Employee, idempotency_key: str = "",
        actor: Actor = None, now: datetime | None = None) -> Purchase:
    """The employee owns the resource from now on: the first time, its price is debited
    (kind ``redeem``, into the redemption sink, the purchase its cause) and a ``download``
    fact goes to earning; every later call answers the same purchase and charges nothing —
    also two taps at once, which the unique (resource, employee) index turns into one.
    Free resources record ownership too. 404 for what the employee may not see; 409
    ``not_eligible``, ``not_available`` (not published) or ``insufficient_points``."""
    existing = Purchase.objects.filter(resource=resource, employee=employee).first()
    if existing is not None:
        return existing
    now = now or timezone.now()

    def work() -> Purchase:
        return _buy(resource_id=resource.pk, employee=employee, now=now,
                    actor=actor if actor is not None else employee.user)

    def replay() -> Purchase | None:
        return Purchase.objects.filter(resource=resource, employee=employee).first()

    return atomic_with_retry(work, replay=replay, label="library purchase")


def _buy(*, resource_id: int, employee: Employee, now: datetime, actor: Actor) -> Purchase:
    resource = Resource.objects.filter(pk=resource_id).first()
    if resource is None:
        raise errors.NotFound(_("Resource not found."))
    if resource.status != ResourceStatus.PUBLISHED:
        raise errors.Conflict(_("This resource is no longer offered."),
                              code=errors.ErrorCode.NOT_AVAILABLE)
    problem = selectors.eligibility_problem(resource, employee)
    if problem:
        raise errors.Conflict(problem, code=errors.ErrorCode.NOT_ELIGIBLE)
    # The index refuses a second row for the pair: a concurrent buyer's insert waits on the
    # first one's, then fails (IntegrityError), and atomic_with_retry answers the first
    # purchase — the debit below runs once.
    purchase = Purchase.objects.create(resource=resource, employee=employee,
                                       points=resource.price, created_at=now)
    if resource.price:
        txn = ledger.debit(employee=employee, amount=resource.price,
                           idempotency_key=f"library:purchase:{purchase.pk}", cause=purchase,
                           reason=f"{resource.pk} {resource.title}"[:200], actor=actor,
                           now=now)
        Purchase.objects.filter(pk=purchase.pk).update(txn=txn)
        purchase.txn = txn
    _report_purchase(resource, employee, purchase, now)
    return purchase


def _report_purchase(resource: Resource, employee: Employee, purchase: Purchase,
                     now: datetime) -> None:
    facts = [Fact(source=FACT_SOURCE, id=f"purchase:{purchase.pk}", type=DOWNLOAD_FACT,
                  employee_no=employee.employee_no, occurred_at=now,
                  payload={"target": resource.title, "resource_id": resource.pk,
                           "price": resource.price})]
    contributor = resource.contributor
    if (contributor is not None and contributor.pk != employee.pk and resource.price
            and resource.review_state == ReviewState.APPROVED):
        facts.append(Fact(source=FACT_SOURCE, id=f"share:{purchase.pk}", type=SHARE_FACT,
                          employee_no=contributor.employee_no, occurred_at=now,
                          payload={"target": resource.title, "resource_id": resource.pk,
                                   "price": resource.price}))
    report_facts(facts, received_by="library")


def record_download(*, resource: Resource, employee: Employee) -> Download:
    return Download.objects.create(resource=resource, employee=employee)


def record_view(*, resource: Resource, employee: Employee) -> ResourceView:
    return ResourceView.objects.create(resource=resource, employee=employee)


VIEWS_KEPT_DAYS = 90


@transaction.atomic
def prune_views(*, now: datetime | None = None) -> int:
    """Forget page views older than ``VIEWS_KEPT_DAYS`` (the figures and the recommendations
    read 90 days at most); how many rows went."""
    since = (now or timezone.now()) - timedelta(days=VIEWS_KEPT_DAYS)
    deleted, _detail = ResourceView.objects.filter(at__lt=since).delete()
    return deleted


def download_token(*, resource: Resource, employee: Employee) -> str:
    """A link's token good for ``DOWNLOAD_LINK_SECONDS``, for this employee and this
    resource only."""
    return signing.dumps({"r": resource.pk, "e": employee.pk}, salt=DOWNLOAD_SALT,
                         compress=True)


def resource_for_token(*, token: str, employee: Employee,
                       max_age: int | None = None) -> Resource:
    """The resource a download token names, if it is still fresh and was made for
    ``employee``; 404 otherwise (a tampered, expired or someone else's link)."""
    try:
        data = signing.loads(token, salt=DOWNLOAD_SALT,
                             max_age=DOWNLOAD_LINK_SECONDS if max_age is None else max_age)
    except (signing.BadSignature, ValueError) as exc:
        raise errors.NotFound(_("This download link is not valid or has expired."),
                              code=errors.ErrorCode.NOT_FOUND) from exc
    if (not isinstance(data, dict) or data.get("e") != employee.pk
            or not isinstance(data.get("r"), int)):
        raise errors.NotFound(_("This download link is not valid or has expired."),
                              code=errors.ErrorCode.NOT_FOUND)
    resource = Resource.objects.filter(pk=int(data["r"])).first()
    if resource is None or not selectors.may_download(resource, employee):
        raise errors.NotFound(_("This download link is not valid or has expired."),
                              code=errors.ErrorCode.NOT_FOUND)
    return resource


# --- contributions ---------------------------------------------------------------------


def submit_contribution(*, employee: Employee, title: str, description: str = "",
                        category: ResourceCategory | None = None, tags: str = "",
                        upload: Any = None, external_url: str = "", price: int = 0
                        ) -> Resource:
    """An employee offers a resource: stored as a draft waiting for review."""
    kind = ResourceKind.FILE if upload is not None else ResourceKind.LINK
    return create_resource(actor=employee.user, title=title, description=description,
                           category=category, tags=tags, price=price, kind=kind,
                           upload=upload, external_url=external_url,
                           status=ResourceStatus.DRAFT, contributor=employee)


@transaction.atomic
def review_contribution(*, actor: Actor, resource: Resource, approve: bool,
                        reason: str = "", publish: bool = True) -> Resource:
    """An editor approves (published at once unless ``publish=False``; the contributor
    earns by HR's ``resource_approved`` rule) or rejects (a reason is required). The
    contributor is told either way. Audited."""
    resource = Resource.objects.select_for_update().get(pk=resource.pk)
    if resource.review_state != ReviewState.PENDING:
        raise errors.Conflict(_("This contribution has already been reviewed."),
                              code=errors.ErrorCode.ALREADY_DECIDED)
    reason = (reason or "").strip()[:500]
    if not approve and not reason:
        raise errors.ValidationError(_("Say why the contribution is rejected."),
                                     code=errors.ErrorCode.REASON_REQUIRED)
    now = timezone.now()
    resource.review_state = ReviewState.APPROVED if approve else ReviewState.REJECTED
    resource.review_reason, resource.reviewed_at = reason, now
    if approve and publish:
        resource.status = ResourceStatus.PUBLISHED
        resource.published_at = now
    resource.save()
    record_audit(actor=actor, action=("library.contribution.approve" if approve
                                      else "library.contribution.reject"),
                 obj=resource, before={"review_state": ReviewState.PENDING},
                 after={"review_state": resource.review_state, "reason": reason})
    contributor = resource.contributor
    if contributor is not None:
        if approve:
            report_facts([Fact(source=FACT_SOURCE, id=f"contribution:{resource.pk}",
                               type=APPROVED_FACT, employee_no=contributor.employee_no,
                               occurred_at=now,
                               payload={"target": resource.title,
                                        "resource_id": resource.pk})],
                         actor=actor, received_by="library")
        if contributor.user_id:
            notify(recipient=contributor.user,
                   kind=(notices.CONTRIBUTION_APPROVED if approve
                         else notices.CONTRIBUTION_REJECTED),
                   params={"title": resource.title, "reason": reason},
                   url=f"/library/resources/{resource.pk}/" if approve else "/library/mine/")
    return resource


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


__all__ = [
    "DOWNLOAD_LINK_SECONDS", "IntegrityError", "buy", "create_resource", "download_token",
    "prune_views", "publish_resource", "record_download", "record_view", "resource_for_token",
    "review_contribution", "save_category", "submit_contribution", "update_resource",
    "withdraw_resource",
]
