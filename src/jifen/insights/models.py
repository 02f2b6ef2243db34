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

from django.db import models
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



class EmployeeMonth(models.Model):
    """Net points per employee × month × category × transaction kind."""

    employee = models.ForeignKey("people.Employee", on_delete=models.CASCADE,
                                 related_name="+")
    department = models.ForeignKey("people.Department", on_delete=models.CASCADE,
                                   related_name="+")
    month = models.DateField()
    category = models.CharField(max_length=30, blank=True)
    kind = models.CharField(max_length=20)
    amount = models.BigIntegerField(default=0)
    count = models.IntegerField(default=0)  # transactions

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["employee", "month", "category", "kind"], name="insights_employee_month")]
        indexes = [models.Index(fields=["month", "department"], name="insights_em_month_dept")]

    def __str__(self) -> str:
        return f"employee {self.employee_id} {self.month:%Y-%m} {self.category} {self.kind}"



class DepartmentMonth(models.Model):
    """The same per department (the employee's department when folded)."""

    department = models.ForeignKey("people.Department", on_delete=models.CASCADE,
                                   related_name="+")
    month = models.DateField()
    category = models.CharField(max_length=30, blank=True)
    kind = models.CharField(max_length=20)
    amount = models.BigIntegerField(default=0)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["department", "month", "category", "kind"], name="insights_department_month")]
        indexes = [models.Index(fields=["month"], name="insights_dm_month")]

    def __str__(self) -> str:
        return f"department {self.department_id} {self.month:%Y-%m} {self.category} {self.kind}"



class ItemMonth(models.Model):
    """Points moved for orders of one mall item per month and kind (capture and redeem
    spend, refund gives back; ``count`` is transactions)."""

    item = models.ForeignKey("mall.Item", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    kind = models.CharField(max_length=20)
    amount = models.BigIntegerField(default=0)
    count = models.IntegerField(default=0)

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
