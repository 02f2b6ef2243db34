"""What SCIM needs to remember beyond the employee and department rows themselves."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ScimUser(models.Model):
    """The SCIM side of one provisioned employee: the identity provider's externalId and its
    manager reference. ``manager_ref`` is the manager's SCIM id as sent (two-pass: a manager
    provisioned after their report stays pending until it arrives, then ``manager`` is set)."""

    employee = models.OneToOneField(
        "people.Employee", on_delete=models.CASCADE, primary_key=True, related_name="scim",
    )
    external_id = models.CharField(max_length=255, blank=True, default="", db_index=True)
    # The name parts as the identity provider last sent them (the employee keeps one name).
    given_name = models.CharField(max_length=100, blank=True, default="")
    family_name = models.CharField(max_length=100, blank=True, default="")
    manager_ref = models.CharField(max_length=255, blank=True, default="", db_index=True)
    manager = models.ForeignKey(
        "people.Employee", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="scim_reports", verbose_name=_("manager"),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("SCIM user")

    def __str__(self) -> str:
        return f"SCIM user {self.employee_id}"


class ScimGroup(models.Model):
    """The SCIM side of one department: the identity provider's externalId."""

    department = models.OneToOneField(
        "people.Department", on_delete=models.CASCADE, primary_key=True, related_name="scim",
    )
    external_id = models.CharField(max_length=255, blank=True, default="", db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("SCIM group")

    def __str__(self) -> str:
        return f"SCIM group {self.department_id}"


class ScimLock(models.Model):
    """One row every SCIM write locks first (``core.db.locked_singleton``), so parallel
    requests from identity providers — which retry and run in parallel — are applied one
    after another: two creations of one user cannot both pass the uniqueness checks, and a
    PATCH reads the representation no other write is changing."""

    class Meta:
        verbose_name = _("SCIM lock")

    def __str__(self) -> str:
        return "SCIM lock"
