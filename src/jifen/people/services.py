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
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.db import instances_from_row, select_columns, statement
from jifen.core.roles import Role, user_roles
from jifen.core.secrets import hash_secret
from jifen.core.services import record_audit, snapshot
from jifen.people import signals
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


def _employee_audit_snapshot(employee: Employee) -> dict[str, Any]:
    """Fields for the audit log, naming the department by its code rather than its id."""
    data = snapshot(employee, EMPLOYEE_FIELDS)
    data["department"] = employee.department.code if employee.department_id else None
    return data


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


def _may_manage_admin_accounts(actor: Any) -> bool:
    """The system (no actor) and super admins may mark anyone as left and rename anyone's
    login; HR (a user or an HR system's API key) may not do so to administrators."""
    return actor is None or Role.SUPER_ADMIN in user_roles(actor)


def offboarding_refusals(employees: list[Employee], actor: Any) -> dict[int, str]:
    """Why ``actor`` may not mark each of ``employees`` as left, by employee id; empty when
    they may mark them all. Only a super admin may mark a super admin's employee record as
    left: off-boarding disables the login, so HR (or an HR system's API key) could
    otherwise lock every administrator out. The system itself (no actor: the command line)
    may. Reads only."""
    if _may_manage_admin_accounts(actor):
        return {}
    user_ids = [e.user_id for e in employees if e.user_id]
    admins = set(User.objects.filter(pk__in=user_ids)
                 .filter(Q(is_superuser=True) | Q(groups__name=Role.SUPER_ADMIN))
                 .values_list("pk", flat=True)) if user_ids else set()
    return {
        employee.pk: _("%(name)s (%(no)s) is a super admin; only a super admin can mark them "
                       "as left.") % {"name": employee.name, "no": employee.employee_no}
        for employee in employees if employee.user_id in admins
    }


def _refuse_offboarding_admins(employees: list[Employee], actor: Any) -> None:
    """Raise PermissionDenied naming the first of ``employees`` that ``actor`` may not mark
    as left (``offboarding_refusals``)."""
    refusals = offboarding_refusals(employees, actor)
    for employee in employees:
        if employee.pk in refusals:
            raise errors.PermissionDenied(refusals[employee.pk], code="privileged_account")


_ADMIN_ROLES = (Role.HR_ADMIN, Role.MALL_ADMIN, Role.AUDITOR, Role.SUPER_ADMIN)


def _privileged() -> Q:
    """Accounts with admin powers: never adopted by an employee upsert or import, and only
    a super admin may rename their login."""
    return Q(is_superuser=True) | Q(is_staff=True) | Q(groups__name__in=_ADMIN_ROLES)


def _is_privileged(user: User) -> bool:
    return User.objects.filter(_privileged(), pk=user.pk).exists()


def renaming_refusals(changes: list[tuple[Employee, str]], actor: Any) -> dict[int, str]:
    """Why ``actor`` may not give each employee's existing login the new username, by
    employee id; empty when they may rename them all. ``changes`` are (employee, wanted
    username). Only a super admin may rename the login of an account with admin powers
    (``_is_privileged``): HR, or an HR system's API key, could otherwise take an
    administrator's login name away. The system itself (no actor) may. Reads only."""
    if _may_manage_admin_accounts(actor):
        return {}
    renamed = [(employee, username) for employee, username in changes
               if employee.user_id and username and username != employee.user.username]
    user_ids = sorted({employee.user_id for employee, _username in renamed})
    admins: set[int] = set()
    for chunk in _chunked(user_ids):
        admins.update(User.objects.filter(_privileged(), pk__in=chunk)
                      .values_list("pk", flat=True))
    return {
        employee.pk: _("%(name)s (%(no)s) has an admin account; only a super admin can "
                       "change its username.") % {"name": employee.name,
                                                  "no": employee.employee_no}
        for employee, _username in renamed if employee.user_id in admins
    }


def _refuse_renaming_admins(changes: list[tuple[Employee, str]], actor: Any) -> None:
    """Raise PermissionDenied naming the first employee whose admin login ``actor`` may not
    rename (``renaming_refusals``)."""
    refusals = renaming_refusals(changes, actor)
    for employee, _username in changes:
        if employee.pk in refusals:
            raise errors.PermissionDenied(refusals[employee.pk], code="privileged_account",
                                          details={"fields": {"username": refusals[employee.pk]}})


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
    before = None if created else _employee_audit_snapshot(employee)
    if created:
        employee = Employee(employee_no=data.employee_no.strip())
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
            _refuse_offboarding_admins([employee], actor)
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
    after = _employee_audit_snapshot(employee)
    if created or before != after:
        record_audit(
            actor=actor, action="employee.create" if created else "employee.update",
            obj=employee, before=before, after=after,
        )
    return employee, created


def _ensure_account(employee: Employee, data: EmployeeData, actor: Any) -> User:
    username = (data.username or "").strip() or None
    user = employee.user
    if user is None:
        username = username or employee.employee_no
        user = User.objects.filter(username=username).first()
        if user is not None and (
            (hasattr(user, "employee") and user.employee.pk != employee.pk)
            or _is_privileged(user)
        ):
            raise errors.Conflict(_("The username %s is taken.") % username, code="username_taken")
        if user is None:
            user = User(username=username)
            user.set_unusable_password()
    elif username and username != user.username:
        _refuse_renaming_admins([(employee, username)], actor)
        if User.objects.filter(username=username).exclude(pk=user.pk).exists():
            raise errors.Conflict(_("The username %s is taken.") % username, code="username_taken")
        user.username = username
    # An initial password, as the name says: it never replaces a password already set, so an
    # upsert cannot be used to take over someone's login.
    if data.initial_password and not user.has_usable_password():
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
    if user.pk is None:
        user.save()
    else:
        # Only these: a full save would write back a credentials epoch read before a
        # concurrent end_sign_ins bumped it.
        user.save(update_fields=["username", "password", "email", "first_name", "is_active"])
    _grant_role(user, Role.EMPLOYEE)
    return user


@transaction.atomic
def mark_employee_left(*, employee: Employee, actor: Any, left_on: date | None = None) -> Employee:
    """Off-board an employee: status left, login disabled, every web session and API token
    ended (``end_sign_ins``). Idempotent."""
    employee = Employee.objects.select_for_update().get(pk=employee.pk)
    if employee.status == EmployeeStatus.LEFT:
        return employee
    _refuse_offboarding_admins([employee], actor)
    before = _employee_audit_snapshot(employee)
    employee.status = EmployeeStatus.LEFT
    employee.left_on = left_on or timezone.localdate()
    employee.save(update_fields=["status", "left_on", "updated_at"])
    if employee.user_id:
        end_sign_ins(user_ids=[employee.user_id])
    record_audit(actor=actor, action="employee.left", obj=employee, before=before,
                 after=_employee_audit_snapshot(employee))
    signals.employee_left.send(sender=Employee, employee=employee, actor=actor)
    return employee


# --- sign-in and tokens -----------------------------------------------------------------


@transaction.atomic
def end_sign_ins(*, user_ids: list[int]) -> None:
    """End every way these accounts are signed in, at once and for good: the accounts are
    disabled, their API tokens revoked, and their credentials epoch bumped — which ends
    their web sessions (the session hash covers it) and keeps every token issued before
    from working again even if one escaped revocation. Making an account active again
    revives none of them: its owner signs in anew. Every off-boarding route calls this
    (``mark_employee_left``, ``upsert_employee``, ``import_employees``, SCIM later)."""
    now = timezone.now()
    for chunk in _chunked(sorted(set(user_ids))):
        User.objects.filter(pk__in=chunk).update(
            is_active=False, credentials_epoch=F("credentials_epoch") + 1)
        AccessToken.objects.filter(user_id__in=chunk, revoked_at__isnull=True).update(
            revoked_at=now)


def end_every_sign_in() -> None:
    """End every web session and every employee API token of every account at once,
    without disabling anyone: after a restore brought back sessions and tokens that were
    ended since the backup (``jifen restore``). Everyone signs in anew."""
    from django.contrib.sessions.models import Session

    with transaction.atomic():
        User.objects.update(credentials_epoch=F("credentials_epoch") + 1)
        AccessToken.objects.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        Session.objects.all().delete()


def sign_in(*, username: str, password: str, address: str | None) -> User:
    """Check credentials under the sign-in policy (``jifen.people.backends``: an attempt is
    reserved per account and per address before the password is checked). Raises
    RateLimited when the attempts are used up — whether or not the password is right —
    and PermissionDenied (code ``invalid_credentials``) on a wrong username or password,
    the same answer for both. Not in a transaction: the counted attempt must stay counted
    when the sign-in fails."""
    user = authenticate(None, username=username, password=password, address=address)
    if user is None:
        raise errors.PermissionDenied(_("Wrong username or password."), code="invalid_credentials")
    return user


@transaction.atomic
def issue_access_token(*, user: User) -> tuple[AccessToken, str]:
    """A new bearer token for ``user``; the plain token is returned once and not stored."""
    plain = f"{TOKEN_PREFIX}_{secrets.token_urlsafe(32)}"
    token = AccessToken.objects.create(
        user=user, token_hash=hash_secret(plain), credentials_epoch=user.credentials_epoch,
        expires_at=timezone.now() + timedelta(hours=settings.API_TOKEN_LIFETIME_HOURS),
    )
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return token, plain


def authenticate_access_token(plain: str) -> AccessToken | None:
    """The live token for ``plain`` (not revoked, not expired, its account active and not
    signed out everywhere since it was issued: ``end_sign_ins``), with
    ``token.user`` and the user's employee record (``user.employee``; a user without one is
    known to have none) loaded by one hand-written statement built once per process —
    building the ORM's join cost more than running it, on every API call. Records
    ``last_used_at`` at most once a minute per token."""
    if not plain.startswith(f"{TOKEN_PREFIX}_"):
        return None
    now = timezone.now()
    token = _live_token(hash_secret(plain), now)
    if token is None:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


# The models the token statement reads, in its column order: token, user, employee.
_TOKEN_MODELS: tuple[type[models.Model], ...] = (AccessToken, User, Employee)
def _token_statement(db: Any) -> str:
    def build() -> str:
        qn = db.ops.quote_name

        token_t, user_t, employee_t = (qn(m._meta.db_table) for m in _TOKEN_MODELS)
        fields = ", ".join(select_columns(AccessToken, "t") + select_columns(User, "u")
                           + select_columns(Employee, "e"))
        return (
            f"SELECT {fields} FROM {token_t} t "
            f"INNER JOIN {user_t} u ON u.{qn('id')} = t.{qn('user_id')} "
            f"LEFT OUTER JOIN {employee_t} e ON e.{qn('user_id')} = u.{qn('id')} "
            f"WHERE t.{qn('token_hash')} = %s AND t.{qn('revoked_at')} IS NULL "
            f"AND t.{qn('expires_at')} > %s AND u.{qn('is_active')} = %s "
            f"AND t.{qn('credentials_epoch')} = u.{qn('credentials_epoch')}"
        )

    return statement(("access-token",), build)


def _live_token(token_hash: str, now: Any) -> AccessToken | None:
    db = connections[DEFAULT_DB_ALIAS]
    expires = AccessToken._meta.get_field("expires_at").get_db_prep_value(now, db)
    with db.cursor() as cursor:
        cursor.execute(_token_statement(db), [token_hash, expires, True])
        row = cursor.fetchone()
    if row is None:
        return None
    (token, user, employee), _rest = instances_from_row(_TOKEN_MODELS, row)
    token.user = user
    if employee is None:  # no employee record: the LEFT JOIN's id is NULL
        User.employee.related.set_cached_value(user, None)
    else:
        user.employee = employee
    return token


def change_password(*, user: User, old_password: str, new_password: str,
                    address: str | None = None) -> None:
    """Replace ``user``'s password after checking the current one under the sign-in policy
    (a stolen session cannot guess it any faster than the sign-in page). Raises RateLimited
    when the attempts are used up, ValidationError on a wrong current password or a weak
    new one. Other web sessions end with the old password (Django's session hash covers
    it) and so do the API tokens."""
    checked = authenticate(None, username=user.get_username(), password=old_password,
                           address=address)
    if checked is None or checked.pk != user.pk:
        raise errors.ValidationError(_("Your current password is not correct."),
                                     code="wrong_password", details={"field": "old_password"})
    try:
        validate_password(new_password, user)
    except DjangoValidationError as exc:
        raise errors.ValidationError(" ".join(exc.messages), code="weak_password",
                                     details={"field": "new_password"}) from exc
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        AccessToken.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now())


@transaction.atomic
def revoke_access_token(*, user: User, plain: str) -> bool:
    """Revoke the bearer token ``plain`` if it is ``user``'s own and still unrevoked (a
    client signing out). Returns whether it revoked one."""
    if not plain.startswith(f"{TOKEN_PREFIX}_"):
        return False
    return bool(AccessToken.objects.filter(
        user=user, token_hash=hash_secret(plain), revoked_at__isnull=True,
    ).update(revoked_at=timezone.now()))



# --- bulk import -------------------------------------------------------------------------

_BULK_CHUNK = 500  # rows per IN (...) list and per bulk statement, safe on every database


def _chunked(items: list[Any], size: int = _BULK_CHUNK) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _employees_by_no(numbers: list[str]) -> dict[str, Employee]:
    found: dict[str, Employee] = {}
    for chunk in _chunked(sorted(set(numbers))):
        for employee in Employee.objects.select_related("user", "department").filter(
            employee_no__in=chunk
        ):
            found[employee.employee_no] = employee
    return found


def _users_by_username(usernames: list[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    for chunk in _chunked(sorted(set(usernames))):
        for user in User.objects.select_related("employee").filter(username__in=chunk):
            found[user.username] = user
    return found


def _target_username(data: EmployeeData, existing: Employee | None) -> str:
    """The account username a row ends up with: the one given, else the employee's current
    account's, else the employee number (as ``upsert_employee`` does)."""
    wanted = (data.username or "").strip()
    if existing is not None and existing.user_id:
        return wanted or existing.user.username
    return wanted or data.employee_no.strip()


def _newly_leaving(rows: list[EmployeeData], existing: dict[str, Employee],
                   ) -> dict[int, Employee]:
    """Row index → the existing employee that row marks as left (one not left already)."""
    return {
        index: employee for index, data in enumerate(rows)
        if data.status == EmployeeStatus.LEFT
        and (employee := existing.get(data.employee_no.strip())) is not None
        and employee.status != EmployeeStatus.LEFT
    }


def check_offboarding_rows(rows: list[EmployeeData], actor: Any) -> dict[int, str]:
    """Row index → why ``actor`` may not import that row: it marks as left someone only a
    super admin may off-board (``offboarding_refusals``). ``import_employees`` refuses a
    batch holding such a row. Reads only."""
    if _may_manage_admin_accounts(actor):
        return {}
    leaving = _newly_leaving(rows, _employees_by_no(
        [d.employee_no.strip() for d in rows if d.status == EmployeeStatus.LEFT]))
    refusals = offboarding_refusals(list(leaving.values()), actor)
    return {index: refusals[e.pk] for index, e in leaving.items() if e.pk in refusals}


def _renames(rows: list[EmployeeData], existing: dict[str, Employee],
             ) -> dict[int, tuple[Employee, str]]:
    """Row index → (existing employee, new username) for the rows that rename the login an
    employee already has."""
    renames: dict[int, tuple[Employee, str]] = {}
    for index, data in enumerate(rows):
        employee = existing.get(data.employee_no.strip())
        if employee is None or not employee.user_id:
            continue
        target = _target_username(data, employee)
        if target != employee.user.username:
            renames[index] = (employee, target)
    return renames


def check_renaming_rows(rows: list[EmployeeData], actor: Any) -> dict[int, str]:
    """Row index → why ``actor`` may not import that row: it renames the login of an
    account with admin powers, which only a super admin may (``renaming_refusals``).
    ``import_employees`` refuses a batch holding such a row. Reads only."""
    if _may_manage_admin_accounts(actor):
        return {}
    renames = _renames(rows, _employees_by_no(
        [d.employee_no.strip() for d in rows if (d.username or "").strip()]))
    refusals = renaming_refusals(list(renames.values()), actor)
    return {index: refusals[e.pk] for index, (e, _username) in renames.items()
            if e.pk in refusals}


def check_employee_rows(
    rows: list[EmployeeData], departments: dict[str, Department] | None = None,
) -> dict[int, list[tuple[str, str]]]:
    """Every problem of a batch of employee rows, by row index, as (field, message): each
    row's own (``validate_employee_data``), an employee number or username given twice in
    the batch, and a username that belongs to another employee's account. Empty when
    ``import_employees`` accepts the batch, save for who may import it
    (``check_offboarding_rows``, ``check_renaming_rows``). Reads only, in a few queries
    for any size."""
    if departments is None:
        departments = {d.code: d for d in Department.objects.all()}
    problems: dict[int, list[tuple[str, str]]] = {}

    def add(index: int, field: str, message: str) -> None:
        problems.setdefault(index, []).append((field, message))

    rows_by_no: dict[str, list[int]] = {}
    for index, data in enumerate(rows):
        for field, message in validate_employee_data(data, departments):
            add(index, field, message)
        if len((data.username or "").strip()) > 150:
            add(index, "username", _("The username is longer than 150 characters."))
        if data.employee_no.strip():
            rows_by_no.setdefault(data.employee_no.strip(), []).append(index)
    for number, indexes in rows_by_no.items():
        if len(indexes) > 1:
            for index in indexes:
                add(index, "employee_no",
                    _("The employee number %s appears more than once.") % number)

    existing = _employees_by_no(list(rows_by_no))
    targets = [_target_username(d, existing.get(d.employee_no.strip())) for d in rows]
    users = _users_by_username([t for t in targets if t])
    rows_by_username: dict[str, list[int]] = {}
    for index, (data, target) in enumerate(zip(rows, targets, strict=True)):
        if not target:
            continue
        rows_by_username.setdefault(target, []).append(index)
        employee = existing.get(data.employee_no.strip())
        holder = users.get(target)
        if holder is None:
            continue
        own_user_id = employee.user_id if employee is not None else None
        if own_user_id:
            taken = holder.pk != own_user_id
        else:
            # An account with no employee is taken over, as upsert_employee does — unless it
            # holds admin powers.
            linked = getattr(holder, "employee", None)
            taken = (linked is not None and linked.employee_no != data.employee_no.strip()) or (
                _is_privileged(holder))
        if taken:
            add(index, "username", _("The username %s is taken.") % target)
    for username, indexes in rows_by_username.items():
        # Copies of one employee number are reported as such, not again as a username.
        if len({rows[i].employee_no.strip() for i in indexes}) > 1:
            for index in indexes:
                add(index, "username", _("The username %s appears more than once.") % username)
    return problems


def _bulk_update_changed(model: type[Any], changes: list[tuple[Any, set[str]]]) -> None:
    """Save the changed fields of many rows: one UPDATE statement per set of changed fields,
    run with executemany. Django's bulk_update builds a CASE expression per row and field,
    which takes seconds for a few thousand rows; this takes milliseconds. No signals or
    auto_now, like bulk_update: the caller sets updated_at."""
    groups: dict[frozenset[str], list[Any]] = {}
    for obj, fields in changes:
        groups.setdefault(frozenset(fields), []).append(obj)
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    meta = model._meta
    for names, objs in groups.items():
        fields = [meta.get_field(name) for name in sorted(names)]
        assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
        sql = (f"UPDATE {quote(meta.db_table)} SET {assignments} "
               f"WHERE {quote(meta.pk.column)} = %s")
        params = [
            [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk]
            for obj in objs
        ]
        with connection.cursor() as cursor:
            for chunk in _chunked(params):
                cursor.executemany(sql, chunk)


@dataclass(frozen=True)
class ImportResult:
    """What ``import_employees`` did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    accounts_created: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "accounts_created": self.accounts_created}


@transaction.atomic
def import_employees(*, rows: list[EmployeeData], actor: Any, reference: str = "",
                     ) -> ImportResult:
    """Create or update many employees and their accounts at once (the bulk path of the
    spreadsheet import), with the same outcome as ``upsert_employee`` row by row: upsert by
    employee number, the account's username defaults to the employee number, new accounts
    get an unusable password, every account is in the employee group, a left employee's
    account is inactive and their tokens revoked. All or nothing: any invalid row (see
    ``check_employee_rows``) raises ValidationError before anything is written. Writes one
    audit entry for the whole import, with the counts and ``reference``; a few dozen
    queries whatever the number of rows."""
    departments = {d.code: d for d in Department.objects.all()}
    problems = check_employee_rows(rows, departments)
    if problems:
        index = min(problems)
        _field, message = problems[index][0]
        raise errors.ValidationError(
            _("Row %(row)d: %(message)s") % {"row": index + 1, "message": message},
            code="invalid_employee",
            details={"rows": {str(i + 1): dict(p) for i, p in problems.items()}},
        )
    now = timezone.now()
    today = timezone.localdate()
    existing = _employees_by_no([d.employee_no.strip() for d in rows])
    _refuse_offboarding_admins(list(_newly_leaving(rows, existing).values()), actor)
    _refuse_renaming_admins(list(_renames(rows, existing).values()), actor)
    targets = [_target_username(d, existing.get(d.employee_no.strip())) for d in rows]
    users = _users_by_username(targets)

    # Accounts first: employees point at them.
    new_users: list[User] = []
    changed_users: dict[int, tuple[User, set[str]]] = {}
    row_users: list[User] = []
    for data, target in zip(rows, targets, strict=True):
        employee = existing.get(data.employee_no.strip())
        user = employee.user if employee is not None and employee.user_id else users.get(target)
        if user is None:
            user = User(username=target)
            user.set_unusable_password()
            new_users.append(user)
        values = {"username": target, "email": data.email.strip(),
                  "first_name": data.name.strip()[:150],
                  "is_active": data.status == EmployeeStatus.ACTIVE}
        changed = {k for k, v in values.items() if getattr(user, k) != v}
        for key, value in values.items():
            setattr(user, key, value)
        if data.initial_password and (user.pk is None or not user.has_usable_password()):
            try:
                validate_password(data.initial_password, user)
            except DjangoValidationError as exc:
                raise errors.ValidationError(" ".join(exc.messages), code="weak_password") from exc
            user.set_password(data.initial_password)
            changed.add("password")
        if user.pk and changed:
            changed_users[user.pk] = (user, changed)
        row_users.append(user)
    User.objects.bulk_create(new_users, batch_size=_BULK_CHUNK)
    if new_users and new_users[0].pk is None:  # MySQL does not return the new ids
        created_ids = {u.username: u.pk for u in
                       _users_by_username([u.username for u in new_users]).values()}
        for user in new_users:
            user.pk = created_ids[user.username]
            user._state.adding = False
    _bulk_update_changed(User, list(changed_users.values()))

    to_create: list[Employee] = []
    to_update: list[tuple[Employee, set[str]]] = []
    unchanged = 0
    newly_left_user_ids: list[int] = []
    newly_left: list[Employee] = []
    for data, user in zip(rows, row_users, strict=True):
        number = data.employee_no.strip()
        employee = existing.get(number)
        created = employee is None
        if created:
            employee = Employee(employee_no=number)
            before = None
            old_user_id = None
        else:
            before = snapshot(employee, EMPLOYEE_FIELDS)
            old_user_id = employee.user_id
        employee.name = data.name.strip()
        employee.email = data.email.strip()
        employee.phone = data.phone.strip()
        employee.department = departments[data.department_code.strip()]
        employee.position = data.position.strip()
        employee.grade = data.grade.strip()
        employee.hire_date = data.hire_date
        if data.status == EmployeeStatus.LEFT and employee.status != EmployeeStatus.LEFT:
            employee.left_on = today
            if not created:
                newly_left.append(employee)
                if old_user_id:
                    newly_left_user_ids.append(old_user_id)
        elif data.status == EmployeeStatus.ACTIVE:
            employee.left_on = None
        employee.status = data.status
        employee.user = user
        if created:
            to_create.append(employee)
            continue
        after = snapshot(employee, EMPLOYEE_FIELDS)
        changed = {f for f in EMPLOYEE_FIELDS if before[f] != after[f]}
        if old_user_id != user.pk:
            changed.add("user")
        if changed:
            employee.updated_at = now  # bulk_update skips auto_now
            to_update.append((employee, changed | {"updated_at"}))
        else:
            unchanged += 1
    Employee.objects.bulk_create(to_create, batch_size=_BULK_CHUNK)
    _bulk_update_changed(Employee, to_update)
    end_sign_ins(user_ids=newly_left_user_ids)
    if to_create:
        created_ids = [e.pk for e in to_create if e.pk is not None]
        if len(created_ids) < len(to_create):  # a backend that returns no ids from bulk inserts
            numbers = [e.employee_no for e in to_create]
            created_ids = [pk for chunk in _chunked(numbers) for pk in Employee.objects
                           .filter(employee_no__in=chunk).values_list("pk", flat=True)]
        signals.employees_created.send(sender=Employee, employee_ids=created_ids)
    for employee in newly_left:
        signals.employee_left.send(sender=Employee, employee=employee, actor=actor)

    group = Group.objects.get_or_create(name=Role.EMPLOYEE)[0]
    membership = User.groups.through
    user_ids = sorted({u.pk for u in row_users})
    members: set[int] = set()
    for chunk in _chunked(user_ids):
        members.update(membership.objects.filter(group=group, user_id__in=chunk)
                       .values_list("user_id", flat=True))
    membership.objects.bulk_create(
        [membership(user_id=uid, group_id=group.pk) for uid in user_ids if uid not in members],
        batch_size=_BULK_CHUNK,
    )

    result = ImportResult(created=len(to_create), updated=len(to_update), unchanged=unchanged,
                          accounts_created=len(new_users))
    record_audit(
        actor=actor, action="employee.import", object_type="people.employee",
        object_repr=(reference or _("Employee import"))[:200],
        after={"rows": len(rows), **result.as_dict(), "reference": reference},
    )
    return result
