"""People writers: departments, employees, accounts, roles and employee API tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors, throttle
from jifen.core.roles import Role
from jifen.core.services import record_audit, snapshot
from jifen.integrations.services import hash_secret
from jifen.people.models import AccessToken, Department, Employee, EmployeeStatus, User

DEPARTMENT_FIELDS = ("code", "name", "parent", "manager")
EMPLOYEE_FIELDS = (
    "employee_no", "name", "email", "phone", "department", "position", "grade", "hire_date",
    "status", "left_on",
)
TOKEN_PREFIX = "jft"


# --- departments -----------------------------------------------------------------------


def _department_snapshot(dept: Department) -> dict[str, Any]:
    return {
        "code": dept.code,
        "name": dept.name,
        "parent": dept.parent.code if dept.parent_id else None,
        "manager": dept.manager.employee_no if dept.manager_id else None,
    }


@transaction.atomic
def upsert_department(
    *,
    code: str,
    name: str,
    parent_code: str | None = None,
    manager_employee_no: str | None = None,
    actor: Any = None,
) -> tuple[Department, bool]:
    """Create or update the department ``code``. Moving a department moves its whole
    subtree; a move under its own descendant is refused. Returns (department, created)."""
    code = (code or "").strip()
    name = (name or "").strip()
    if not code or len(code) > 40:
        raise errors.ValidationError(_("A department code of 1–40 characters is required."),
                                     code="invalid_code")
    if not name:
        raise errors.ValidationError(_("A department name is required."), code="name_required")
    parent = None
    if parent_code:
        parent = Department.objects.select_for_update().filter(code=parent_code).first()
        if parent is None:
            raise errors.ValidationError(
                _("Unknown parent department %s.") % parent_code, code="unknown_department",
                details={"parent_code": parent_code},
            )
    manager = None
    if manager_employee_no:
        manager = Employee.objects.filter(employee_no=manager_employee_no).first()
        if manager is None:
            raise errors.ValidationError(
                _("Unknown employee %s.") % manager_employee_no, code="unknown_employee",
                details={"manager_employee_no": manager_employee_no},
            )

    dept = Department.objects.select_for_update().filter(code=code).first()
    created = dept is None
    before = None if created else _department_snapshot(dept)
    old_manager_id = None if created else dept.manager_id
    if created:
        dept = Department(code=code)
    elif parent is not None and (parent.pk == dept.pk or parent.path.startswith(dept.path)):
        raise errors.ValidationError(
            _("A department cannot be moved under itself or one of its sub-departments."),
            code="department_cycle",
        )
    old_path = dept.path
    dept.name = name
    dept.parent = parent
    dept.manager = manager
    dept.depth = parent.depth + 1 if parent else 0
    dept.save()
    new_path = f"{parent.path if parent else '/'}{dept.pk}/"
    if new_path != dept.path:
        Department.objects.filter(pk=dept.pk).update(path=new_path)
        if not created:
            # Re-root every descendant: replace the old prefix with the new one.
            depth_shift = dept.depth - (old_path.count("/") - 2)
            for child in Department.objects.filter(path__startswith=old_path).exclude(pk=dept.pk):
                child.path = new_path + child.path[len(old_path):]
                child.depth = child.depth + depth_shift
                child.save(update_fields=["path", "depth"])
        dept.path = new_path
    if manager is not None:
        _grant_role(manager.user, Role.MANAGER)
    if old_manager_id and old_manager_id != dept.manager_id:
        _refresh_manager_role(old_manager_id)
    after = _department_snapshot(dept)
    if created or before != after:
        record_audit(
            actor=actor, action="department.create" if created else "department.update",
            obj=dept, before=before, after=after,
        )
    return dept, created


# --- roles -------------------------------------------------------------------------------


def _grant_role(user: User | None, role: str) -> None:
    if user is not None:
        user.groups.add(Group.objects.get_or_create(name=role)[0])


def _refresh_manager_role(employee_id: int) -> None:
    employee = Employee.objects.select_related("user").filter(pk=employee_id).first()
    if employee and employee.user and not employee.managed_departments.exists():
        employee.user.groups.remove(*Group.objects.filter(name=Role.MANAGER))


@transaction.atomic
def set_roles(*, user: User, roles: list[str], actor: Any) -> User:
    """Give ``user`` exactly these admin roles (employee and manager are kept as they are:
    they follow from being an employee and from managing a department)."""
    assignable = {Role.HR_ADMIN, Role.MALL_ADMIN, Role.AUDITOR, Role.SUPER_ADMIN}
    unknown = set(roles) - {r.value for r in assignable}
    if unknown:
        raise errors.ValidationError(_("Unknown roles: %s") % ", ".join(sorted(unknown)),
                                     code="invalid_role")
    if actor is not None and actor.pk == user.pk and Role.SUPER_ADMIN not in roles and (
        user.groups.filter(name=Role.SUPER_ADMIN).exists()
    ):
        raise errors.ValidationError(_("You cannot remove your own super admin role."),
                                     code="self_demotion")
    before = sorted(user.groups.filter(name__in=assignable).values_list("name", flat=True))
    user.groups.remove(*Group.objects.filter(name__in=assignable))
    user.groups.add(*[Group.objects.get_or_create(name=r)[0] for r in roles])
    after = sorted(roles)
    if before != after:
        record_audit(actor=actor, action="user.roles", obj=user, object_repr=user.audit_label,
                     before={"roles": before}, after={"roles": after})
    return user


# --- employees ---------------------------------------------------------------------------


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
def upsert_employee(*, data: EmployeeData, actor: Any = None) -> tuple[Employee, bool]:
    """Create or update the employee ``data.employee_no`` and their login account.
    Nothing is written when any field is invalid. Returns (employee, created)."""
    problems = validate_employee_data(data)
    if problems:
        raise errors.ValidationError(
            problems[0][1], code="invalid_employee",
            details={"fields": {field: message for field, message in problems}},
        )
    department = Department.objects.get(code=data.department_code.strip())
    employee = (
        Employee.objects.select_for_update()
        .filter(employee_no=data.employee_no.strip()).first()
    )
    created = employee is None
    before = None if created else snapshot(employee, EMPLOYEE_FIELDS)
    if created:
        employee = Employee(employee_no=data.employee_no.strip())
    employee.name = data.name.strip()
    employee.email = data.email.strip()
    employee.phone = data.phone.strip()
    employee.department = department
    employee.position = data.position.strip()
    employee.grade = data.grade.strip()
    employee.hire_date = data.hire_date
    if data.status == EmployeeStatus.LEFT and employee.status != EmployeeStatus.LEFT:
        employee.left_on = timezone.localdate()
    elif data.status == EmployeeStatus.ACTIVE:
        employee.left_on = None
    employee.status = data.status
    employee.user = _ensure_account(employee, data)
    employee.save()
    after = snapshot(employee, EMPLOYEE_FIELDS)
    if created or before != after:
        record_audit(
            actor=actor, action="employee.create" if created else "employee.update",
            obj=employee, before=before, after=after,
        )
    return employee, created


def _ensure_account(employee: Employee, data: EmployeeData) -> User:
    username = (data.username or "").strip() or None
    user = employee.user
    if user is None:
        username = username or employee.employee_no
        user = User.objects.filter(username=username).first()
        if user is not None and hasattr(user, "employee") and user.employee.pk != employee.pk:
            raise errors.Conflict(_("The username %s is taken.") % username, code="username_taken")
        if user is None:
            user = User(username=username)
            user.set_unusable_password()
    elif username and username != user.username:
        if User.objects.filter(username=username).exclude(pk=user.pk).exists():
            raise errors.Conflict(_("The username %s is taken.") % username, code="username_taken")
        user.username = username
    if data.initial_password:
        try:
            validate_password(data.initial_password, user)
        except DjangoValidationError as exc:
            raise errors.ValidationError(
                " ".join(exc.messages), code="weak_password",
                details={"fields": {"initial_password": exc.messages}},
            ) from exc
        user.set_password(data.initial_password)
    user.email = data.email.strip()
    user.first_name = data.name.strip()[:150]
    user.is_active = data.status == EmployeeStatus.ACTIVE
    user.save()
    _grant_role(user, Role.EMPLOYEE)
    return user


@transaction.atomic
def mark_employee_left(*, employee: Employee, actor: Any, left_on: date | None = None) -> Employee:
    """Off-board an employee: status left, login disabled, tokens revoked. Idempotent."""
    employee = Employee.objects.select_for_update().get(pk=employee.pk)
    if employee.status == EmployeeStatus.LEFT:
        return employee
    before = snapshot(employee, EMPLOYEE_FIELDS)
    employee.status = EmployeeStatus.LEFT
    employee.left_on = left_on or timezone.localdate()
    employee.save(update_fields=["status", "left_on", "updated_at"])
    if employee.user_id:
        User.objects.filter(pk=employee.user_id).update(is_active=False)
        AccessToken.objects.filter(user_id=employee.user_id, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    record_audit(actor=actor, action="employee.left", obj=employee, before=before,
                 after=snapshot(employee, EMPLOYEE_FIELDS))
    return employee


# --- sign-in and tokens -----------------------------------------------------------------


def sign_in(*, username: str, password: str, address: str | None) -> User:
    """Check credentials with throttling. Raises RateLimited after too many failures and
    PermissionDenied (code ``invalid_credentials``) on a wrong username or password."""
    throttle.check_login_allowed(username, address)
    user = authenticate(username=username, password=password)
    if user is None:
        throttle.record_login_failure(username, address)
        raise errors.PermissionDenied(_("Wrong username or password."), code="invalid_credentials")
    throttle.clear_login_failures(username, address)
    return user


@transaction.atomic
def issue_access_token(*, user: User) -> tuple[AccessToken, str]:
    """A new bearer token for ``user``; the plain token is returned once and not stored."""
    plain = f"{TOKEN_PREFIX}_{secrets.token_urlsafe(32)}"
    token = AccessToken.objects.create(
        user=user, token_hash=hash_secret(plain),
        expires_at=timezone.now() + timedelta(hours=settings.API_TOKEN_LIFETIME_HOURS),
    )
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return token, plain


def authenticate_access_token(plain: str) -> AccessToken | None:
    if not plain.startswith(f"{TOKEN_PREFIX}_"):
        return None
    token = (
        AccessToken.objects.select_related("user")
        .filter(token_hash=hash_secret(plain), revoked_at__isnull=True,
                expires_at__gt=timezone.now(), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


@transaction.atomic
def change_password(*, user: User, old_password: str, new_password: str) -> None:
    if not user.check_password(old_password):
        raise errors.ValidationError(_("Your current password is not correct."),
                                     code="wrong_password", details={"field": "old_password"})
    try:
        validate_password(new_password, user)
    except DjangoValidationError as exc:
        raise errors.ValidationError(" ".join(exc.messages), code="weak_password",
                                     details={"field": "new_password"}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    # Other sessions' API tokens die with the old password.
    AccessToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())

