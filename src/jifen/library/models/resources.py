"""Library models: the resources part — resources (a file or an external course link),
their categories, preview pages, who owns what (``Purchase``), and the download and view
logs the operators' page counts. Files live in the private storage (``library_storage``),
never under MEDIA_URL: a download checks entitlement and streams them."""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.core.files.storage import Storage, storages
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = [
    "Download", "FileKind", "Purchase", "Resource", "ResourceCategory", "ResourceKind",
    "ResourcePreview", "ResourceStatus", "ResourceView", "ReviewState", "library_storage",
]


def library_storage() -> Storage:
    """The private storage (outside MEDIA_ROOT, served by nothing) that keeps the files,
    their preview pages and covers."""
    return storages["imports"]


def resource_file_name(instance: object, filename: str) -> str:
    """A name nobody can guess; the uploader's name is kept in ``file_name``."""
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"library/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


def preview_file_name(instance: object, filename: str) -> str:
    return f"library/previews/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()[:6]}"


class ResourceCategory(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("resource category")
        verbose_name_plural = _("resource categories")

    def __str__(self) -> str:
        return self.name


class ResourceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ResourceKind(models.TextChoices):
    FILE = "file", _("File")
    LINK = "link", _("Course link")


class FileKind(models.TextChoices):
    PDF = "pdf", "PDF"
    DOCX = "docx", "Word (DOCX)"
    XLSX = "xlsx", "Excel (XLSX)"
    PPTX = "pptx", "PowerPoint (PPTX)"
    ZIP = "zip", "ZIP"


class ReviewState(models.TextChoices):
    """A contribution's review; ``none`` for resources editors add themselves."""

    NONE = "none", _("Not a contribution")
    PENDING = "pending", _("Waiting for review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Resource(models.Model):
    """A document or course employees may download, for ``price`` points (0 = free).
    ``search_text`` is title, description, tags and category normalised as the mall's
    (``jifen.library.search``), so a substring search finds Chinese words everywhere."""

    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(ResourceCategory, on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="resources",
                                 verbose_name=_("category"))
    tags = models.CharField(_("tags"), max_length=200, blank=True,
                            help_text=_("Comma-separated."))
    kind = models.CharField(_("kind"), max_length=10, choices=ResourceKind.choices,
                            default=ResourceKind.FILE)
    file = models.FileField(_("file"), storage=library_storage, upload_to=resource_file_name,
                            max_length=200, blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    file_kind = models.CharField(_("file type"), max_length=10, choices=FileKind.choices,
                                 blank=True)
    file_size = models.BigIntegerField(_("file size"), default=0)
    external_url = models.URLField(_("course link"), max_length=500, blank=True)
    cover = models.FileField(_("cover"), storage=library_storage,
                             upload_to=preview_file_name, max_length=200, blank=True)
    price = models.BigIntegerField(_("points price"), default=0,
                                   help_text=_("0 means free."))
    status = models.CharField(_("status"), max_length=10, choices=ResourceStatus.choices,
                              default=ResourceStatus.DRAFT, db_index=True)
    eligible_departments = models.ManyToManyField(
        "people.Department", blank=True, related_name="+",
        verbose_name=_("only these departments"),
        help_text=_("Empty means everyone; a department includes its sub-departments."),
    )
    eligible_grades = models.CharField(_("only these grades"), max_length=200, blank=True,
                                       help_text=_("Comma-separated; empty means every grade."))
    contributor = models.ForeignKey("people.Employee", on_delete=models.SET_NULL, null=True,
                                    blank=True, related_name="library_contributions",
                                    verbose_name=_("contributor"))
    review_state = models.CharField(_("review"), max_length=10, choices=ReviewState.choices,
                                    default=ReviewState.NONE, db_index=True)
    review_reason = models.CharField(_("review reason"), max_length=500, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    search_text = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-created_at", "-id"]
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0),
                                   name="library_resource_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def grade_list(self) -> list[str]:
        return [g.strip() for g in self.eligible_grades.split(",") if g.strip()]

    @property
    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.tags.replace("，", ",").split(",") if t.strip()]

    @property
    def is_free(self) -> bool:
        return self.price == 0


class ResourcePreview(models.Model):
    """One rendered page (PNG) of a PDF, shown before paying."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="previews")
    page = models.PositiveSmallIntegerField()
    image = models.FileField(storage=library_storage, upload_to=preview_file_name,
                             max_length=200)

    class Meta:
        ordering = ["page"]
        constraints = [models.UniqueConstraint(fields=["resource", "page"],
                                               name="library_preview_unique_page")]

    def __str__(self) -> str:
        return f"{self.resource_id}:{self.page}"


class Purchase(models.Model):
    """The employee owns the resource: paid once (``points`` > 0, ``txn`` the debit) or
    took it free. Unique per (resource, employee): a concurrent second "buy" is refused by
    the index, so it charges once; re-downloads are free for ever, withdrawn or not."""

    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="purchases")
    employee = models.ForeignKey("people.Employee", on_delete=models.PROTECT,
                                 related_name="library_purchases")
    points = models.BigIntegerField(default=0)
    txn = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, null=True,
                            blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        constraints = [models.UniqueConstraint(fields=["resource", "employee"],
                                               name="library_purchase_once")]

    def __str__(self) -> str:
        return f"{self.resource_id}:{self.employee_id}"


class Download(models.Model):
    """One download (a full file or its first range request)."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="downloads")
    employee = models.ForeignKey("people.Employee", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["resource", "at"], name="library_download_at")]

    def __str__(self) -> str:
        return f"{self.resource_id}:{self.employee_id}:{self.at:%Y-%m-%d}"


class ResourceView(models.Model):
    """One look at a resource's page: the conversion's denominator."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="views")
    employee = models.ForeignKey("people.Employee", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["resource", "at"], name="library_view_at")]

    def __str__(self) -> str:
        return f"{self.resource_id}:{self.employee_id}:{self.at:%Y-%m-%d}"
