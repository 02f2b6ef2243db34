from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from jifen.people.pinyin import search_keys


class User(AbstractUser):
    """A login account. Employees have one; system operators may have one without an
    employee record."""

    # Bumped whenever every existing sign-in must end (leaving): web sessions carry a hash
    # that includes it and API tokens are bound to the value they were issued under, so
    # neither comes back when the account is made active again.
    credentials_epoch = models.PositiveIntegerField(default=0, editable=False)

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """The hash a session keeps to prove it was opened with the current credentials:
        like Django's (of the password hash), over the epoch too."""
        return salted_hmac(
            "jifen.people.User.get_session_auth_hash",
            f"{self.password}\x00{self.credentials_epoch}", secret=secret, algorithm="sha256",
        ).hexdigest()

    @property
    def audit_label(self) -> str:
        employee = getattr(self, "employee", None)
        if employee is not None:
            return f"{employee.name} ({employee.employee_no})"
        return self.username


class Department(models.Model):
    """A node of the department tree. ``path`` is the chain of ids from the root
    ("/1/4/9/") so a whole subtree is one indexed prefix query."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
        verbose_name=_("parent department"),
    )
    manager = models.ForeignKey(
        "Employee", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="managed_departments", verbose_name=_("manager"),
    )
    path = models.CharField(max_length=500, db_index=True, editable=False, default="/")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class EmployeeStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    LEFT = "left", _("Left")


class Employee(models.Model):
    employee_no = models.CharField(_("employee number"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="employees",
        verbose_name=_("department"),
    )
    position = models.CharField(_("position"), max_length=100, blank=True)
    grade = models.CharField(_("grade"), max_length=20, blank=True)
    hire_date = models.DateField(_("hire date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=EmployeeStatus.choices, default=EmployeeStatus.ACTIVE,
        db_index=True,
    )
    left_on = models.DateField(_("left on"), null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="employee",
    )
    # Search keys for people pickers (jifen.people.pinyin): full pinyin and initials, each
    # a space-separated list of readings. Derived from ``name`` on every save.
    name_pinyin = models.CharField(max_length=255, blank=True, default="", editable=False)
    name_initials = models.CharField(max_length=255, blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["employee_no"]
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        # The console list sorted by name seeks on (name, number) from page to page.
        indexes = [models.Index(fields=["name", "employee_no"], name="people_emp_name_no")]

    def __str__(self) -> str:
        return f"{self.name} ({self.employee_no})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if (update_fields is None or "name" in update_fields) and (
                self.refresh_search_keys() and update_fields is not None):
            kwargs["update_fields"] = {*update_fields, "name_pinyin", "name_initials"}
        super().save(*args, **kwargs)

    def refresh_search_keys(self) -> bool:
        """Set the pinyin search keys from the name; True when they changed. Bulk paths
        (which skip ``save``) call it themselves."""
        keys = search_keys(self.name)
        changed = keys != (self.name_pinyin, self.name_initials)
        self.name_pinyin, self.name_initials = keys
        return changed

    @property
    def is_active(self) -> bool:
        return self.status == EmployeeStatus.ACTIVE

    def tenure_years(self, on: date | None = None) -> int:
        """Whole years since the hire date (0 when unknown)."""
        if not self.hire_date:
            return 0
        on = on or date.today()
        years = on.year - self.hire_date.year
        if (on.month, on.day) < (self.hire_date.month, self.hire_date.day):
            years -= 1
        return max(0, years)


class AccessToken(models.Model):
    """A bearer token an employee client got from POST /api/v1/auth/token. Only the
    SHA-256 of the token is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The user's credentials_epoch when issued: a token is live only while they are equal.
    credentials_epoch = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("access token")

    def __str__(self) -> str:
        return f"token #{self.pk} for {self.user_id}"


class AttemptCounter(models.Model):
    """A count of attempts under one throttle key for a fixed window (failed sign-ins per
    account and per client address), where every server process sees it when there is no
    Redis. Moved only by conditional UPDATEs (``jifen.core.throttle``) so that parallel
    attempts cannot pass a limit; rows past ``expires_at`` are reused or culled."""

    key = models.CharField(max_length=200, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("attempt counter")

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


# SCIM's own rows live beside the SCIM code; imported here so the app registers them.
from jifen.people.scim.models import ScimGroup, ScimLock, ScimUser  # noqa: E402, F401

# The sign-in policy lives with single sign-on (jifen.people.sso); imported here so Django
# registers it with this app.
from jifen.people.sso.models import SignInPolicy  # noqa: E402, F401
