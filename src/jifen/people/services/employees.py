"""Employees one at a time: created, updated and off-boarded, with their login account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.roles import Role
from jifen.core.services import record_audit, snapshot
from jifen.people import signals
from jifen.people.models import Department, Employee, EmployeeStatus, User
from jifen.people.services.accounts import end_sign_ins
from jifen.people.services.roles import (
    grant_role,
    is_privileged,
    refuse_offboarding_admins,
    refuse_renaming_admins,
)

EMPLOYEE_FIELDS = (
    "employee_no", "name", "email", "phone", "department", "position", "grade", "hire_date",
    "status", "left_on",
)


def employee_audit_snapshot(employee: Employee) -> dict[str, Any]:
    """Fields for the audit log, naming the department by its code rather than its id."""
    data = snapshot(employee, EMPLOYEE_FIELDS)
    data["department"] = employee.department.code if employee.department_id else None
    return data


@dataclass(frozen=True)
class EmployeeData:
    """One employee's fields as they arrive from a form, the API or an import row."""

    employee_no: str
    name: str
    department_code: str
    email: str = ""
    phone: str = ""
    position: str = ""
    grade: str = ""
    hire_date: date | None = None
    status: str = EmployeeStatus.ACTIVE
    username: str | None = None
    initial_password: str | None = None


def validate_employee_data(data: EmployeeData, departments: dict[str, Department] | None = None,
                           ) -> list[tuple[str, str]]:
    """Every problem with ``data`` as (field, message); empty when it can be saved.
    ``departments`` (code → department) saves a query per row in imports."""
    problems: list[tuple[str, str]] = []
    if not data.employee_no.strip() or len(data.employee_no.strip()) > 40:
        problems.append(("employee_no", _("An employee number of 1–40 characters is required.")))
    if not data.name.strip():
        problems.append(("name", _("A name is required.")))
    elif len(data.name) > 100:
        problems.append(("name", _("The name is longer than 100 characters.")))
    code = data.department_code.strip()
    if not code:
        problems.append(("department_code", _("A department is required.")))
    else:
        known = code in departments if departments is not None else (
            Department.objects.filter(code=code).exists()
        )
        if not known:
            problems.append(("department_code", _("Unknown department %s.") % code))
    if data.email:
        try:
            validate_email(data.email)
        except DjangoValidationError:
            problems.append(("email", _("%s is not a valid e-mail address.") % data.email))
    if data.status not in EmployeeStatus.values:
        problems.append(("status", _("Status must be active or left.")))
    if data.hire_date and data.hire_date > timezone.localdate() + timedelta(days=366):
        problems.append(("hire_date", _("The hire date is too far in the future.")))
    for field, limit in (("phone", 30), ("position", 100), ("grade", 20)):
        if len(getattr(data, field) or "") > limit:
            problems.append((field, _("Longer than %d characters.") % limit))
    return problems


@transaction.atomic
def upsert_employee(*, data: EmployeeData, actor: Actor = None) -> tuple[Employee, bool]:
    """Create or update the employee ``data.employee_no`` and their login account.
    Nothing is written when any field is invalid. Returns (employee, created)."""
    problems = validate_employee_data(data)
    if problems:
        raise errors.ValidationError(
            problems[0][1], code=errors.ErrorCode.INVALID_EMPLOYEE,
            details={"fields": {field: message for field, message in problems}},
        )
    department = Department.objects.get(code=data.department_code.strip())
    found = (
        Employee.objects.select_for_update()
        .filter(employee_no=data.employee_no.strip()).first()
    )
    created = found is None
    before = None if found is None else employee_audit_snapshot(found)
    employee = Employee(employee_no=data.employee_no.strip()) if found is None else found
    employee.name = data.name.strip()
    employee.email = data.email.strip()
    employee.phone = data.phone.strip()
    employee.department = department
    employee.position = data.position.strip()
    employee.grade = data.grade.strip()
    employee.hire_date = data.hire_date
    just_left = data.status == EmployeeStatus.LEFT and employee.status != EmployeeStatus.LEFT
    if just_left:
        if not created:
            refuse_offboarding_admins([employee], actor)
        employee.left_on = timezone.localdate()
    elif data.status == EmployeeStatus.ACTIVE:
        employee.left_on = None
    employee.status = data.status
    employee.user = _ensure_account(employee, data, actor)
    employee.save()
    if just_left and employee.user_id:
        end_sign_ins(user_ids=[employee.user_id])
    if just_left and not created:
        signals.employee_left.send(sender=Employee, employee=employee, actor=actor)
    after = employee_audit_snapshot(employee)
    if created or before != after:
        record_audit(
            actor=actor, action="employee.create" if created else "employee.update",
            obj=employee, before=before, after=after,
        )
    return employee, created


def _ensure_account(employee: Employee, data: EmployeeData, actor: Actor) -> User:
    username = (data.username or "").strip() or None
    user = employee.user
    if user is None:
        username = username or employee.employee_no
        user = User.objects.filter(username=username).first()
        if user is not None and (
            (hasattr(user, "employee") and user.employee.pk != employee.pk)
            or is_privileged(user)
        ):
            raise errors.Conflict(_("The username %s is taken.") % username,
                                  code=errors.ErrorCode.USERNAME_TAKEN)
        if user is None:
            user = User(username=username)
            user.set_unusable_password()
    elif username and username != user.username:
        refuse_renaming_admins([(employee, username)], actor)
        if User.objects.filter(username=username).exclude(pk=user.pk).exists():
            raise errors.Conflict(_("The username %s is taken.") % username,
                                  code=errors.ErrorCode.USERNAME_TAKEN)
        user.username = username
    # An initial password, as the name says: it never replaces a password already set, so an
    # upsert cannot be used to take over someone's login.
    if data.initial_password and not user.has_usable_password():
        try:
            validate_password(data.initial_password, user)
        except DjangoValidationError as exc:
            raise errors.ValidationError(
                " ".join(exc.messages), code=errors.ErrorCode.WEAK_PASSWORD,
                details={"fields": {"initial_password": exc.messages}},
            ) from exc
        user.set_password(data.initial_password)
    user.email = data.email.strip()
    user.first_name = data.name.strip()[:150]
    user.is_active = data.status == EmployeeStatus.ACTIVE
    if user.pk is None:
        user.save()
    else:
        # Only these: a full save would write back a credentials epoch read before a
        # concurrent end_sign_ins bumped it.
        user.save(update_fields=["username", "password", "email", "first_name", "is_active"])
    grant_role(user, Role.EMPLOYEE)
    return user


@transaction.atomic
def mark_employee_left(*, employee: Employee, actor: Actor,
                       left_on: date | None = None) -> Employee:
    """Off-board an employee: status left, login disabled, every web session and API token
    ended (``end_sign_ins``). Idempotent."""
    employee = Employee.objects.select_for_update().get(pk=employee.pk)
    if employee.status == EmployeeStatus.LEFT:
        return employee
    refuse_offboarding_admins([employee], actor)
    before = employee_audit_snapshot(employee)
    employee.status = EmployeeStatus.LEFT
    employee.left_on = left_on or timezone.localdate()
    employee.save(update_fields=["status", "left_on", "updated_at"])
    if employee.user_id:
        end_sign_ins(user_ids=[employee.user_id])
    record_audit(actor=actor, action="employee.left", obj=employee, before=before,
                 after=employee_audit_snapshot(employee))
    signals.employee_left.send(sender=Employee, employee=employee, actor=actor)
    return employee
