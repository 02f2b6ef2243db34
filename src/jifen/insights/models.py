"""Figures kept current as points move, so rankings and dashboards never scan the ledger
(DESIGN.md §6).

Every posting that changes what an employee owns (wallet + hold) leaves a
``PendingChange`` row in its own transaction (an insert, no shared row locked); the worker
folds those rows into the rollups every minute (``services.rollups.fold_pending``), one
fold at a time. ``jifen insights rebuild`` recomputes every rollup from the ledger and
``jifen ledger verify`` checks that rollups plus pending changes equal the ledger.

Months are calendar months in the site's time zone, stored as their first day. An
employee's figures count for the department they were in when the change was folded
(a rebuild uses today's departments).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PendingChange(models.Model):
    """One posting's net change to one employee's points, not yet folded. Plain integer
    columns (no foreign keys): writing it must not lock the employee or transaction rows."""

    transaction_id = models.BigIntegerField()
    employee_id = models.BigIntegerField()
    kind = models.CharField(max_length=20)
    category = models.CharField(max_length=30, blank=True)
    cause_type = models.CharField(max_length=60, blank=True)
    cause_id = models.CharField(max_length=64, blank=True)
    amount = models.BigIntegerField()  # + credited to the employee, − taken from them
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"txn {self.transaction_id} employee {self.employee_id} {self.amount:+d}"



class MonthFigures(models.Model):
    """A rollup row's figures: the net points of one month and transaction kind, and how
    many transactions made them."""

    month = models.DateField()
    kind = models.CharField(max_length=20)
    amount = models.BigIntegerField(default=0)
    count = models.IntegerField(default=0)  # transactions

    class Meta:
        abstract = True


class EmployeeMonth(MonthFigures):
    """Net points per employee × month × category × transaction kind."""

    employee = models.ForeignKey("people.Employee", on_delete=models.CASCADE,
                                 related_name="+")
    department = models.ForeignKey("people.Department", on_delete=models.CASCADE,
                                   related_name="+")
    category = models.CharField(max_length=30, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["employee", "month", "category", "kind"], name="insights_employee_month")]
        indexes = [models.Index(fields=["month", "department"], name="insights_em_month_dept")]

    def __str__(self) -> str:
        return f"employee {self.employee_id} {self.month:%Y-%m} {self.category} {self.kind}"



class LastActive(models.Model):
    """The last month an employee earned or spent points (an earn, redeem or capture in
    ``EmployeeMonth``), kept by the fold beside the rollups, so "inactive for N days" is
    an indexed read of one row per employee instead of a scan of everyone's months."""

    employee = models.OneToOneField("people.Employee", on_delete=models.CASCADE,
                                    primary_key=True, related_name="+")
    month = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["month"], name="insights_last_active_month")]

    def __str__(self) -> str:
        return f"employee {self.employee_id} last active {self.month:%Y-%m}"


class DepartmentMonth(MonthFigures):
    """The same per department (the employee's department when folded)."""

    department = models.ForeignKey("people.Department", on_delete=models.CASCADE,
                                   related_name="+")
    category = models.CharField(max_length=30, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["department", "month", "category", "kind"], name="insights_department_month")]
        indexes = [models.Index(fields=["month"], name="insights_dm_month")]

    def __str__(self) -> str:
        return f"department {self.department_id} {self.month:%Y-%m} {self.category} {self.kind}"



class CompanyMonth(MonthFigures):
    """The same for the whole company: the department rows of a month added up, so a
    company-wide chart reads a few dozen rows a month instead of one per department."""

    category = models.CharField(max_length=30, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["month", "category", "kind"],
                                               name="insights_company_month")]

    def __str__(self) -> str:
        return f"company {self.month:%Y-%m} {self.category} {self.kind}"



class ItemMonth(MonthFigures):
    """Points moved for orders of one mall item per month and kind (capture and redeem
    spend, refund gives back)."""

    item = models.ForeignKey("mall.Item", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "month", "kind"],
                                               name="insights_item_month")]

    def __str__(self) -> str:
        return f"item {self.item_id} {self.month:%Y-%m} {self.kind}"



class Standing(models.Model):
    """Ranking points (earned minus penalties) per employee for one period and category:
    period "all", "2026", "2026-Q4" or "2026-12"; category "" is every category together.
    Indexed so a top-N, a department's top-N and one person's rank are index range reads."""

    period = models.CharField(max_length=10)
    category = models.CharField(max_length=30, blank=True)
    employee = models.ForeignKey("people.Employee", on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey("people.Department", on_delete=models.CASCADE,
                                   related_name="+")
    points = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "category", "employee"],
                                               name="insights_standing_once")]
        indexes = [
            models.Index(fields=["period", "category", "-points", "employee"],
                         name="insights_standing_rank"),
            models.Index(fields=["period", "category", "department", "-points", "employee"],
                         name="insights_standing_dept_rank"),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.category or 'all'} employee {self.employee_id}"



class RollupState(models.Model):
    """One row: the fold's lock (taken FOR UPDATE so one fold runs at a time) and when the
    rollups were last folded and rebuilt."""

    folded_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("rollup state")

    def __str__(self) -> str:
        return f"rollups folded {self.folded_at}"



class DashboardSettings(models.Model):
    """One row: what the dashboards need to know that the ledger does not — the CNY value
    of one point (for the liability in CNY and price-versus-market-value checks)."""

    cny_per_point = models.DecimalField(
        _("CNY value per point"), max_digits=10, decimal_places=4, default=Decimal("0.10"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("What one point costs the company in CNY (used for the liability)."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("dashboard settings")
        constraints = [models.CheckConstraint(condition=models.Q(cny_per_point__gte=0),
                                              name="insights_cny_per_point_not_negative")]

    def __str__(self) -> str:
        return f"{self.cny_per_point} CNY per point"
# --- payroll period export (docs/decisions/0027-payroll-period-export.md) ---------------


class BonusPolicy(models.Model):
    """How one earning category feeds a bonus: factor = min(points / target, 1) × weight,
    where points are the month's ranked points of that category (earned minus penalties,
    ``rollups.RANKED``). ``weight`` is a percentage (10 = up to 10 % of the bonus named by
    ``label``). Changes are audit-logged; a closed period keeps the policies it was closed
    with (``PayrollPeriod.policies``)."""

    category = models.CharField(_("category"), max_length=30, unique=True)
    target = models.BigIntegerField(_("target points per month"))
    weight = models.DecimalField(_("weight (%)"), max_digits=7, decimal_places=4)
    label = models.CharField(_("bonus it feeds"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category"]
        verbose_name = _("bonus policy")
        verbose_name_plural = _("bonus policies")

    def __str__(self) -> str:
        return f"{self.category}: {self.weight}% at {self.target}"


class PayrollSettings(models.Model):
    """One row: the payroll export's column mapping and the taxable-benefit setting.
    ``columns`` is a list of ``{"field": …, "header": …}`` in the order they appear (fields
    from ``payroll.FIELDS``; a per-category field is ``points:<category>`` or
    ``factor:<category>``). ``benefit_fulfilments`` lists the item fulfilment types whose
    redemptions count as a benefit in kind."""

    columns = models.JSONField(default=list, blank=True)
    benefit_enabled = models.BooleanField(default=True)
    benefit_fulfilments = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("payroll settings")

    def __str__(self) -> str:
        return "payroll settings"


class PayrollPeriodStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class PayrollPeriod(models.Model):
    """A payroll month. While open its figures are computed live; closing stores every
    line (``PayrollLine``) with the policies, columns and benefit setting of that moment,
    and every later read or export of the period uses only what was stored."""

    month = models.DateField(unique=True)  # first day, site time zone
    status = models.CharField(max_length=10, choices=PayrollPeriodStatus.choices,
                              default=PayrollPeriodStatus.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    closed_by_label = models.CharField(max_length=150, blank=True)
    policies = models.JSONField(default=list, blank=True)
    columns = models.JSONField(default=list, blank=True)
    benefit = models.JSONField(default=dict, blank=True)
    reopen_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-month"]
        verbose_name = _("payroll period")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.status}"


class PayrollLine(models.Model):
    """One employee's frozen figures in a closed period. Plain columns (no foreign key to
    the employee): a closed period reads the same whatever happens to the employee later.
    ``figures`` holds points by category, factors, total factor and benefit, numbers as
    text so decimals survive JSON unchanged."""

    period = models.ForeignKey(PayrollPeriod, on_delete=models.CASCADE, related_name="lines")
    employee_id = models.BigIntegerField()
    employee_no = models.CharField(max_length=40)
    name = models.CharField(max_length=100)
    department = models.CharField(max_length=120)
    department_code = models.CharField(max_length=60, blank=True)
    figures = models.JSONField(default=dict)

    class Meta:
        ordering = ["employee_no"]
        constraints = [models.UniqueConstraint(fields=["period", "employee_no"],
                                               name="insights_payroll_line_once")]

    def __str__(self) -> str:
        return f"{self.period_id} {self.employee_no}"
class RankingPrivacy(models.Model):
    """An employee's choice to hide their name on public leaderboards (one row for each
    employee who changed it; no row means shown). Hidden people still rank: others see
    "Anonymous colleague" in their place (decision 0025)."""

    employee = models.OneToOneField("people.Employee", on_delete=models.CASCADE,
                                    related_name="+", primary_key=True)
    hidden = models.BooleanField(_("hide my name on public leaderboards"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("ranking privacy")
        verbose_name_plural = _("ranking privacy")

    def __str__(self) -> str:
        return f"employee {self.employee_id} {'hidden' if self.hidden else 'shown'}"


class PayrollExportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Building")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


def _export_storage() -> Any:
    from jifen.core.models import import_storage  # the private storage, never served

    return import_storage()


def _export_name(job: PayrollExport, filename: str) -> str:
    return f"exports/payroll/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.xlsx"


class PayrollExport(models.Model):
    """One month's xlsx built by ``jifen worker`` (``services.payroll_exports``): a whole
    month is tens of seconds at tens of thousands of lines, too long for a request. The
    period page shows its progress and offers the file when it is ready."""

    month = models.DateField(db_index=True)
    status = models.CharField(max_length=10, choices=PayrollExportStatus.choices,
                              default=PayrollExportStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)  # lines expected
    done = models.PositiveIntegerField(default=0)  # lines read so far
    file = models.FileField(upload_to=_export_name, storage=_export_storage, max_length=300,
                            blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"payroll export {self.month:%Y-%m} #{self.pk} {self.status}"

    @property
    def finished(self) -> bool:
        return self.status in (PayrollExportStatus.DONE, PayrollExportStatus.FAILED)

    @property
    def progress_percent(self) -> int:
        if self.status == PayrollExportStatus.DONE:
            return 100
        if not self.total:
            return 0
        # Reading the lines is most of the work; writing the file the last tenth.
        return min(90, self.done * 90 // self.total)


# --- recommendations (services/recommend.py builds them nightly) -------------------------


class Catalogue(models.TextChoices):
    """What a recommendation points at: a mall item or a library resource."""

    MALL = "mall", _("Mall")
    LIBRARY = "library", _("Library")


class Neighbour(models.Model):
    """Item–item similarity from the nightly build: how alike the employees who redeemed,
    kept or looked at ``source`` and ``target`` are (cosine over weighted signals), and how
    many employees did both (``support``)."""

    catalogue = models.CharField(max_length=10, choices=Catalogue.choices)
    source_id = models.BigIntegerField()
    target_id = models.BigIntegerField()
    score = models.FloatField()
    support = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["catalogue", "source_id", "target_id"],
                                               name="insights_neighbour_once")]

    def __str__(self) -> str:
        return f"{self.catalogue} {self.source_id}→{self.target_id} {self.score:.3f}"


class GroupTaste(models.Model):
    """How much more a group's members go for a thing than everyone does (a lift: 1 is
    no different), from the nightly build. A group is a department (with its
    sub-departments) or the employees whose points of the last 90 days came mostly from one
    earning category; ``everyone`` holds plain popularity (share of employees)."""

    class Group(models.TextChoices):
        EVERYONE = "everyone", _("Everyone")
        DEPARTMENT = "department", _("Department")
        EARNING = "earning", _("Earning category")

    catalogue = models.CharField(max_length=10, choices=Catalogue.choices)
    group = models.CharField(max_length=12, choices=Group.choices)
    key = models.CharField(max_length=40, blank=True)  # department id or earning category
    target_id = models.BigIntegerField()
    score = models.FloatField()
    support = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["catalogue", "group", "key", "target_id"], name="insights_group_taste_once")]

    def __str__(self) -> str:
        return f"{self.catalogue} {self.group}:{self.key} {self.target_id} {self.score:.2f}"


class RecommendationBuild(models.Model):
    """The last nightly build: when, how long, what it found (one row)."""

    built_at = models.DateTimeField()
    seconds = models.FloatField(default=0)
    employees = models.IntegerField(default=0)
    signals = models.IntegerField(default=0)
    neighbours = models.IntegerField(default=0)
    tastes = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"recommendations built {self.built_at:%Y-%m-%d %H:%M}"


class RecommendationOptOut(models.Model):
    """The employee turned recommendations off: no row of them anywhere, and none in the
    digest."""

    employee = models.OneToOneField("people.Employee", on_delete=models.CASCADE,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"no recommendations for {self.employee_id}"
