from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jifen.core.audit_labels import action_label, describe_entries, field_label
from jifen.core.describe import Described, formatted, words_for
from jifen.core.roles import Cap


class Capability(models.Model):
    """Holds the capability permissions of ``jifen.core.roles``; it has no table."""

    class Meta:
        managed = False
        default_permissions = ()
        # Names stay in plain English codenames: a translated label would make every
        # `makemigrations` run under another language see a change.
        permissions = [(c.value, c.value.replace("_", " ")) for c in Cap]

    def __str__(self) -> str:
        return "capability"


class SiteSettings(models.Model):
    """The single row of company-wide settings. Read it with ``selectors.site_settings()``."""

    class Language(models.TextChoices):
        ZH_HANS = "zh-hans", "简体中文"
        EN = "en", "English"

    platform_name = models.CharField(_("platform name"), max_length=60, default="积分商城")
    logo = models.ImageField(_("logo"), upload_to="branding/", blank=True)
    primary_color = models.CharField(
        _("primary colour"),
        max_length=7,
        default="#d63939",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #1e88e5."))],
    )
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    point_unit_zh = models.CharField(_("point unit (Chinese)"), max_length=10, default="积分")
    point_unit_en = models.CharField(_("point unit (English)"), max_length=20, default="points")
    decimals = models.PositiveSmallIntegerField(
        _("decimals"),
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(2)],
        help_text=_("Digits after the decimal point, 0–2. Locked once any points exist."),
    )
    default_language = models.CharField(
        _("default language"), max_length=10, choices=Language.choices, default=Language.ZH_HANS
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("site settings")
        verbose_name_plural = _("site settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decimals__gte=0, decimals__lte=2), name="site_decimals_0_2"
            )
        ]

    def __str__(self) -> str:
        return self.platform_name


class AuditEntry(models.Model):
    """One admin action: who did what to which object, with the state before and after."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, db_index=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.object_type}:{self.object_id}"

    def changes(self) -> list[tuple[str, object, object]]:
        """Fields whose value differs between before and after, as (field, old, new)."""
        before, after = self.before or {}, self.after or {}
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]

    def set_words(self, described: Described | None,
                  values: dict[str, dict[str, str]]) -> None:
        """What ``audit_labels.describe_entries`` found for this entry: its object in
        words and, per changed field, words for the stored values."""
        self._described = described
        self._value_words = values

    def _words(self) -> tuple[Described | None, dict[str, dict[str, str]]]:
        if not hasattr(self, "_value_words"):  # not described with its page: alone
            describe_entries([self])
        return self._described, self._value_words

    @property
    def object_label(self) -> str:
        """The object in words ("Order M000171"), else as it was named when recorded."""
        described, _values = self._words()
        if described is not None:
            return described.label
        return self.object_repr

    @property
    def object_url(self) -> str:
        """Where the reader may follow the object (empty: nowhere, or not allowed)."""
        described, _values = self._words()
        return described.url if described is not None else ""

    def labelled_changes(self) -> list[tuple[str, object, object]]:
        """``changes()`` with each field named as its model's forms name it, and values
        in words where they are stored as codes (choices, a department's code …)."""
        _described, values = self._words()

        def words(field: str, value: object) -> object:
            shown = formatted(self.object_type, field, value)
            return words_for(value, values.get(field, {})) if shown is value else shown

        return [(field_label(self.object_type, field), words(field, old), words(field, new))
                for field, old, new in self.changes()]

    def action_label(self) -> str:
        return action_label(self.action)


class IdempotencyRecord(models.Model):
    """The first answer to a creating API call, replayed for the same Idempotency-Key."""

    principal = models.CharField(max_length=80)
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.principal}:{self.key}"


def import_storage() -> Storage:
    """Where uploaded spreadsheets live: a private storage, never served."""
    return storages["imports"]


def import_file_name(job: ImportJob, filename: str) -> str:
    """A name nobody can guess; the uploader's name is kept in ``original_name``."""
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"imports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class ImportJob(models.Model):
    """One spreadsheet upload going through reading → preview → per-row errors → commit
    (``jifen.core.imports``), the reading and the commit in ``jifen worker``. The file stays
    in storage so the commit reads the very rows the admin previewed; the error reports
    the worker writes beside it are in ``reports`` (format → storage name)."""

    class Status(models.TextChoices):
        READING = "reading", _("Reading")
        PREVIEWED = "previewed", _("Previewed")
        COMMITTING = "committing", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    class Mode(models.TextChoices):
        ALL = "all", _("All rows")
        VALID_ONLY = "valid_only", _("Only the valid rows")

    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    file = models.FileField(_("file"), upload_to=import_file_name, storage=import_storage,
                            max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    header_row = models.PositiveIntegerField(default=1)
    headers = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.READING,
        db_index=True,
    )
    mode = models.CharField(max_length=12, choices=Mode.choices, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    error_rows = models.JSONField(default=list, blank=True)
    preview_rows = models.JSONField(default=list, blank=True)
    processed_rows = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    reports = models.JSONField(default=dict, blank=True)
    failure_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    # Who checked the preview and who committed, when that was not a user (an API key):
    # the worker acts for them by name, with no roles (jifen.core.actors.NamedActor).
    checked_for_label = models.CharField(max_length=150, blank=True)
    committed_by_label = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.original_name}"

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)


class PeriodicRun(models.Model):
    """A periodic job started for one period (``jifen.core.periodic``). The unique key is
    what makes "once a day" true when many workers on many machines look at the clock."""

    job = models.CharField(max_length=80)
    period = models.CharField(max_length=20)
    enqueued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-enqueued_at"]
        constraints = [models.UniqueConstraint(fields=["job", "period"],
                                               name="core_periodic_run_once")]

    def __str__(self) -> str:
        return f"{self.job} {self.period}"


class WorkerHeartbeat(models.Model):
    """A ``jifen worker`` process saying it is alive (``jifen.core.observability``): it
    writes ``last_seen`` every 15 seconds from a thread; one silent for a minute counts as
    stopped. Rows of workers gone for a week are forgotten."""

    worker_id = models.CharField(max_length=120, unique=True)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["host", "pid"]

    def __str__(self) -> str:
        return self.worker_id
