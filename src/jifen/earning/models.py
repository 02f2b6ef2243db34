"""Earning: event types, rules and their versions, events and the awards they produced,
approvals, department budgets, peer recognition and rule feedback.

Only ``jifen.earning.services`` writes these tables; points move only through
``jifen.ledger.services``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from jifen.earning.builtins import BUILTIN_EVENT_TYPES, BuiltinEventType
from jifen.earning.outcomes import render_notes
from jifen.ledger.models import Category


class EventType(models.Model):
    """A kind of fact other systems (or people) report, with the JSON Schema its payload
    must satisfy. Built-in types are created by ``ensure_builtin_event_types``."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    schema = models.JSONField(_("payload schema"), default=dict, blank=True)
    builtin = models.BooleanField(_("built in"), default=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("event type")
        verbose_name_plural = _("event types")

    def __str__(self) -> str:
        return self.display_name

    @property
    def seed(self) -> BuiltinEventType | None:
        """What this built-in type was created from (None for an admin-created type)."""
        return BUILTIN_EVENT_TYPES.get(self.code) if self.builtin else None

    @property
    def display_name(self) -> str:
        """The name in the reader's language: a built-in type's name as shipped is an
        English message id and is translated; a name an admin typed is shown as typed."""
        seed = self.seed
        return gettext(seed.name) if seed and self.name == seed.name else self.name

    @property
    def display_description(self) -> str:
        seed = self.seed
        if seed and self.description == seed.description:
            return gettext(seed.description)
        return self.description


class ApproverRole(models.TextChoices):
    MANAGER = "manager", _("The employee's manager (or HR)")
    HR = "hr", _("HR")


class FormulaKind(models.TextChoices):
    FIXED = "fixed", _("Fixed points")
    PER_UNIT = "per_unit", _("Points per unit")
    TABLE = "table", _("Points by value")
    RANGE = "range", _("Range settled by an approver")


class Rule(models.Model):
    """When an event of ``event_type`` whose ``condition`` (CEL over ``payload`` and
    ``employee``) holds arrives, award points per ``formula``. The fields here are the
    current version; every change also writes a ``RuleVersion``."""

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    event_type = models.ForeignKey(EventType, on_delete=models.PROTECT, related_name="rules",
                                   verbose_name=_("event type"))
    category = models.CharField(_("category"), max_length=30, choices=Category.choices)
    condition = models.TextField(_("condition"), blank=True)
    # The builder's rows ({"join": "all"|"any", "rows": [{"field", "op", "value"}]}) that
    # ``condition`` was compiled from; None when the condition was written by hand.
    condition_rows = models.JSONField(_("condition rows"), null=True, blank=True)
    formula = models.JSONField(_("formula"))
    caps = models.JSONField(_("caps"), default=dict, blank=True)
    requires_approval = models.BooleanField(_("requires approval"), default=False)
    approver_role = models.CharField(_("approver"), max_length=20, choices=ApproverRole.choices,
                                     default=ApproverRole.MANAGER)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    expiry = models.JSONField(_("expiry override"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    # 0 while the rule has never been published (it is a draft and stays inactive).
    version = models.PositiveIntegerField(_("version"), default=1)
    # Changes saved but not yet applied to events: {"fields": <snapshot>, "reason",
    # "by", "at"}. Publishing makes them the next version.
    draft = models.JSONField(_("draft"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event_type__code", "name", "id"]
        verbose_name = _("rule")
        verbose_name_plural = _("rules")

    def __str__(self) -> str:
        return self.name

    @property
    def is_draft(self) -> bool:
        """Never published: events do not reach it."""
        return self.version == 0


class RuleVersion(models.Model):
    """One state of a rule: who made it, when, why, the whole rule as it then was and the
    difference from the version before."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    snapshot = models.JSONField()
    diff = models.JSONField(default=list, blank=True)  # [{"field", "old", "new"}]
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_by_label = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    award_count: int  # not a column: set by selectors.rule_history

    class Meta:
        ordering = ["rule", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "number"], name="earning_rule_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} v{self.number}"


class EventStatus(models.TextChoices):
    CREDITED = "credited", _("Credited")
    PENDING = "pending_approval", _("Pending approval")
    DUPLICATE = "duplicate", _("Duplicate")
    REJECTED = "rejected", _("Rejected")


class RejectReason(models.TextChoices):
    UNKNOWN_EMPLOYEE = "unknown_employee", _("Unknown employee")
    INACTIVE_EMPLOYEE = "inactive_employee", _("Employee has left")
    UNKNOWN_EVENT_TYPE = "unknown_event_type", _("Unknown event type")
    SCHEMA_VIOLATION = "schema_violation", _("Payload does not match the schema")
    NO_MATCHING_RULE = "no_matching_rule", _("No rule matches")
    CAP_REACHED = "cap_reached", _("Cap reached")
    REJECTED_BY_APPROVER = "rejected_by_approver", _("Rejected by the approver")
    INVALID = "invalid", _("Invalid event")


class Event(models.Model):
    """A fact received once per (source, external id). Rejected events are kept too (the
    event log shows why); sending a rejected event again scores it again."""

    source = models.CharField(_("source"), max_length=60)
    external_id = models.CharField(_("event id"), max_length=120)
    event_type = models.ForeignKey(EventType, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="events")
    type_code = models.CharField(_("type"), max_length=60)
    employee = models.ForeignKey("people.Employee", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="earning_events")
    employee_no = models.CharField(_("employee number"), max_length=40)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    status = models.CharField(_("outcome"), max_length=20, choices=EventStatus.choices)
    reason = models.CharField(_("reason"), max_length=40, blank=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)  # rows before notes
    # Why, as codes with parameters (``jifen.earning.outcomes``), rendered when read.
    notes = models.JSONField(_("detail"), default=list, blank=True)
    points = models.BigIntegerField(_("points"), default=0)
    uncollected = models.BigIntegerField(_("uncollected"), default=0)
    import_job = models.ForeignKey("core.ImportJob", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    row_number = models.PositiveIntegerField(null=True, blank=True)
    received_by = models.CharField(max_length=150, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        # Plain indexes for the event log's exact-match filters: db_index on a CharField
        # adds a second, LIKE-pattern index on PostgreSQL that nothing here uses and that
        # every event insert would maintain.
        indexes = [
            models.Index(fields=["type_code"], name="earning_event_type_code"),
            models.Index(fields=["employee_no"], name="earning_event_employee_no"),
            models.Index(fields=["status"], name="earning_event_status"),
            models.Index(fields=["reason"], name="earning_event_reason"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"],
                                    name="earning_event_source_id_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"

    @property
    def reason_label(self) -> str:
        """Why it was rejected, in words (the stored reason is a code)."""
        if self.reason in RejectReason.values:
            return str(RejectReason(self.reason).label)
        return self.reason

    @property
    def detail_words(self) -> str:
        """The detail of the outcome in the reader's language (older rows: as stored)."""
        return render_notes(self.notes) if self.notes else self.detail


class AwardStatus(models.TextChoices):
    CREDITED = "credited", _("Credited")
    PENDING = "pending", _("Pending approval")
    REJECTED = "rejected", _("Rejected")
    CAPPED = "capped", _("Cap reached")


class Award(models.Model):
    """What one rule version gave for one event: points credited (or a penalty), waiting
    for approval, refused by an approver, or nothing because a cap was reached."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="awards")
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="awards")
    rule_version = models.ForeignKey(RuleVersion, on_delete=models.PROTECT,
                                     related_name="awards")
    # Indexed by earning_award_cap, which starts with the employee.
    employee = models.ForeignKey("people.Employee", on_delete=models.PROTECT,
                                 related_name="earning_awards", db_index=False)
    category = models.CharField(max_length=30, choices=Category.choices)
    status = models.CharField(max_length=12, choices=AwardStatus.choices)
    points = models.BigIntegerField(default=0)  # signed: negative is a penalty
    uncollected = models.BigIntegerField(default=0)
    min_points = models.BigIntegerField(null=True, blank=True)
    max_points = models.BigIntegerField(null=True, blank=True)
    explanation = models.CharField(max_length=500, blank=True)  # rows before notes
    notes = models.JSONField(default=list, blank=True)  # why, as codes (earning.outcomes)
    approver_role = models.CharField(max_length=20, choices=ApproverRole.choices, blank=True)
    occurred_at = models.DateTimeField()
    transaction = models.ForeignKey("ledger.Transaction", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["employee", "rule", "occurred_at"], name="earning_award_cap"),
            models.Index(fields=["status"], name="earning_award_status"),
        ]

    def __str__(self) -> str:
        return f"award #{self.pk} {self.points}"

    @property
    def explanation_words(self) -> str:
        """How the points were worked out, in the reader's language."""
        return render_notes(self.notes, separator=" ") if self.notes else self.explanation


class EarningSettings(models.Model):
    """The single row of earning settings."""

    monthly_allowance = models.PositiveIntegerField(
        _("monthly giving allowance"), default=100,
        help_text=_("Points each employee may give colleagues per month; unused points do "
                    "not roll over."),
    )
    recognition_category = models.CharField(max_length=30, choices=Category.choices,
                                            default=Category.TEAMWORK)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("earning settings")

    def __str__(self) -> str:
        return "earning settings"


class CompanyValue(models.Model):
    """One of the company's values (客户第一, 团队合作 …), chosen as tags on a thank-you.
    Typed by the company: ``name`` as its people say it, ``name_en`` for English pages."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    name_en = models.CharField(_("name in English"), max_length=60, blank=True, default="")
    active = models.BooleanField(_("in use"), default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        """The name in the reader's language (the English one on English pages, when set)."""
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name


class BudgetAllocation(models.Model):
    """Points given to a department's budget for a period (the ledger holds the balance)."""

    department = models.ForeignKey("people.Department", on_delete=models.PROTECT,
                                   related_name="budget_allocations")
    period = models.CharField(_("period"), max_length=7)  # YYYY-MM
    category = models.CharField(max_length=30, choices=Category.choices)
    amount = models.BigIntegerField()
    transaction = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT,
                                    related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.department_id} {self.period} +{self.amount}"


class ManagerAward(models.Model):
    """Points a manager gave from their department's budget."""

    department = models.ForeignKey("people.Department", on_delete=models.PROTECT,
                                   related_name="manager_awards")
    manager = models.ForeignKey("people.Employee", on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey("people.Employee", on_delete=models.PROTECT,
                                  related_name="manager_awards")
    category = models.CharField(max_length=30, choices=Category.choices)
    points = models.BigIntegerField()
    message = models.CharField(max_length=500)
    transaction = models.ForeignKey("ledger.Transaction", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"award {self.points} to {self.recipient_id}"


class Recognition(models.Model):
    """A thank-you from one colleague to another, paid from the giver's monthly allowance."""

    giver = models.ForeignKey("people.Employee", on_delete=models.PROTECT,
                              related_name="recognitions_given")
    recipient = models.ForeignKey("people.Employee", on_delete=models.PROTECT,
                                  related_name="recognitions_received")
    points = models.BigIntegerField()
    message = models.CharField(_("message"), max_length=500)
    # The first of ``values`` (what API clients of the single value read).
    value = models.ForeignKey(CompanyValue, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    values = models.ManyToManyField(CompanyValue, blank=True, related_name="recognitions")
    # Colleagues the message names as "@name" (references, not text).
    mentions = models.ManyToManyField("people.Employee", blank=True,
                                      related_name="recognition_mentions")
    month = models.CharField(max_length=7, db_index=True)  # YYYY-MM in the site zone
    transaction = models.ForeignKey("ledger.Transaction", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["giver", "month"], name="earning_recognition_allow")]

    def __str__(self) -> str:
        return f"{self.giver_id} → {self.recipient_id} {self.points}"


class FeedbackStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered")
    PLANNED = "planned", _("Will change")
    DECLINED = "declined", _("Won't change")


class RuleFeedback(models.Model):
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="feedback")
    employee = models.ForeignKey("people.Employee", on_delete=models.PROTECT, related_name="+")
    message = models.TextField(_("message"))
    status = models.CharField(_("status"), max_length=12, choices=FeedbackStatus.choices,
                              default=FeedbackStatus.OPEN, db_index=True)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"feedback #{self.pk} on {self.rule_id}"
