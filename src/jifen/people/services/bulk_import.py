"""Employees many at a time: the bulk path of the spreadsheet import, with the same outcome
as ``upsert_employee`` row by row in a few dozen queries for any size."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.roles import Role
from jifen.core.services import record_audit, snapshot
from jifen.people import signals, sql
from jifen.people.models import Department, Employee, EmployeeStatus, User
from jifen.people.services.accounts import end_sign_ins
from jifen.people.services.batches import BULK_CHUNK, chunked, employees_by_no, users_by_username
from jifen.people.services.employees import EMPLOYEE_FIELDS, EmployeeData, validate_employee_data
from jifen.people.services.roles import (
    is_privileged,
    may_manage_admin_accounts,
    offboarding_refusals,
    refuse_offboarding_admins,
    refuse_renaming_admins,
    renaming_refusals,
)


def _target_username(data: EmployeeData, existing: Employee | None) -> str:
    """The account username a row ends up with: the one given, else the employee's current
    account's, else the employee number (as ``upsert_employee`` does)."""
    wanted = (data.username or "").strip()
    if existing is not None and existing.user is not None:
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


def check_offboarding_rows(rows: list[EmployeeData], actor: Actor) -> dict[int, str]:
    """Row index → why ``actor`` may not import that row: it marks as left someone only a
    super admin may off-board (``offboarding_refusals``). ``import_employees`` refuses a
    batch holding such a row. Reads only."""
    if may_manage_admin_accounts(actor):
        return {}
    leaving = _newly_leaving(rows, employees_by_no(
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
        if employee is None or employee.user is None:
            continue
        target = _target_username(data, employee)
        if target != employee.user.username:
            renames[index] = (employee, target)
    return renames


def check_renaming_rows(rows: list[EmployeeData], actor: Actor) -> dict[int, str]:
    """Row index → why ``actor`` may not import that row: it renames the login of an
    account with admin powers, which only a super admin may (``renaming_refusals``).
    ``import_employees`` refuses a batch holding such a row. Reads only."""
    if may_manage_admin_accounts(actor):
        return {}
    renames = _renames(rows, employees_by_no(
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

    existing = employees_by_no(list(rows_by_no))
    targets = [_target_username(d, existing.get(d.employee_no.strip())) for d in rows]
    users = users_by_username([t for t in targets if t])
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
                is_privileged(holder))
        if taken:
            add(index, "username", _("The username %s is taken.") % target)
    for username, indexes in rows_by_username.items():
        # Copies of one employee number are reported as such, not again as a username.
        if len({rows[i].employee_no.strip() for i in indexes}) > 1:
            for index in indexes:
                add(index, "username", _("The username %s appears more than once.") % username)
    return problems


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
def import_employees(*, rows: list[EmployeeData], actor: Actor, reference: str = "",
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
            code=errors.ErrorCode.INVALID_EMPLOYEE,
            details={"rows": {str(i + 1): dict(p) for i, p in problems.items()}},
        )
    now = timezone.now()
    today = timezone.localdate()
    existing = employees_by_no([d.employee_no.strip() for d in rows])
    refuse_offboarding_admins(list(_newly_leaving(rows, existing).values()), actor)
    refuse_renaming_admins(list(_renames(rows, existing).values()), actor)
    targets = [_target_username(d, existing.get(d.employee_no.strip())) for d in rows]
    users = users_by_username(targets)

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
                raise errors.ValidationError(" ".join(exc.messages),
                                             code=errors.ErrorCode.WEAK_PASSWORD) from exc
            user.set_password(data.initial_password)
            changed.add("password")
        if user.pk and changed:
            changed_users[user.pk] = (user, changed)
        row_users.append(user)
    User.objects.bulk_create(new_users, batch_size=BULK_CHUNK)
    if new_users and new_users[0].pk is None:  # MySQL does not return the new ids
        created_ids = {u.username: u.pk for u in
                       users_by_username([u.username for u in new_users]).values()}
        for user in new_users:
            user.pk = created_ids[user.username]
            user._state.adding = False
    sql.update_changed(User, list(changed_users.values()))

    to_create: list[Employee] = []
    to_update: list[tuple[Employee, set[str]]] = []
    unchanged = 0
    newly_left_user_ids: list[int] = []
    newly_left: list[Employee] = []
    for data, user in zip(rows, row_users, strict=True):
        number = data.employee_no.strip()
        found = existing.get(number)
        created = found is None
        employee = Employee(employee_no=number) if found is None else found
        before = None if found is None else snapshot(found, EMPLOYEE_FIELDS)
        old_user_id = None if found is None else found.user_id
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
        # bulk_create and update_changed skip Employee.save, which keeps the keys in step.
        keys_changed = employee.refresh_search_keys()
        if before is None:  # created
            to_create.append(employee)
            continue
        after = snapshot(employee, EMPLOYEE_FIELDS)
        changed = {f for f in EMPLOYEE_FIELDS if before[f] != after[f]}
        if keys_changed:
            changed |= {"name_pinyin", "name_initials"}
        if old_user_id != user.pk:
            changed.add("user")
        if changed:
            employee.updated_at = now  # bulk_update skips auto_now
            to_update.append((employee, changed | {"updated_at"}))
        else:
            unchanged += 1
    Employee.objects.bulk_create(to_create, batch_size=BULK_CHUNK)
    sql.update_changed(Employee, to_update)
    end_sign_ins(user_ids=newly_left_user_ids)
    if to_create:
        created_ids = [e.pk for e in to_create if e.pk is not None]
        if len(created_ids) < len(to_create):  # a backend that returns no ids from bulk inserts
            numbers = [e.employee_no for e in to_create]
            created_ids = [pk for chunk in chunked(numbers) for pk in Employee.objects
                           .filter(employee_no__in=chunk).values_list("pk", flat=True)]
        signals.employees_created.send(sender=Employee, employee_ids=created_ids)
    for employee in newly_left:
        signals.employee_left.send(sender=Employee, employee=employee, actor=actor)

    group = Group.objects.get_or_create(name=Role.EMPLOYEE)[0]
    membership = User.groups.through
    user_ids = sorted({u.pk for u in row_users})
    members: set[int] = set()
    for chunk in chunked(user_ids):
        members.update(membership.objects.filter(group=group, user_id__in=chunk)
                       .values_list("user_id", flat=True))
    membership.objects.bulk_create(
        [membership(user_id=uid, group_id=group.pk) for uid in user_ids if uid not in members],
        batch_size=BULK_CHUNK,
    )

    result = ImportResult(created=len(to_create), updated=len(to_update), unchanged=unchanged,
                          accounts_created=len(new_users))
    record_audit(
        actor=actor, action="employee.import", object_type="people.employee",
        object_repr=reference[:200],  # the action's label names it; no words of the moment
        after={"rows": len(rows), **result.as_dict(), "reference": reference},
    )
    return result
