"""SCIM writes: users and groups (departments) saved from their SCIM representation.

Each function is one transaction, takes the provisioning client as ``actor`` and goes
through the people services the console uses (``upsert_employee``, ``mark_employee_left``,
``upsert_department``), so the leaving policy, sign-in ending and audit apply the same way;
each SCIM write adds its own audit entry naming the client."""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

from django.db import transaction
from django.db.models import ProtectedError, RestrictedError

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.db import locked_singleton
from jifen.core.services import record_audit
from jifen.people.models import Department, Employee, EmployeeStatus, User
from jifen.people.scim.errors import ScimError, bad_request
from jifen.people.scim.models import ScimGroup, ScimLock, ScimUser
from jifen.people.scim.patch import apply_patch
from jifen.people.scim.representation import group_resource, names_after_patch, user_resource
from jifen.people.scim.schema import ENTERPRISE
from jifen.people.services import (
    EmployeeData,
    mark_employee_left,
    upsert_department,
    upsert_employee,
)

FALLBACK_DEPARTMENT_CODE = "scim-unassigned"
FALLBACK_DEPARTMENT_NAME = "Unassigned"
_CJK = re.compile(r"[\u3400-\u9fff]")


def ensure_lock_row() -> None:
    """Make the SCIM lock's row exist, outside any transaction of a write: on MariaDB,
    locking a missing row takes a gap lock and parallel first writers would deadlock.
    The migration creates it; a flushed test database may not have it."""
    if not ScimLock.objects.filter(pk=1).exists():
        ScimLock.objects.get_or_create(pk=1)


def _text(value: Any, field: str, limit: int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise bad_request(f"{field} must be a string.")
    text = str(value).strip()
    if len(text) > limit:
        raise bad_request(f"{field} is longer than {limit} characters.")
    return text


def parse_active(value: Any) -> bool:
    """SCIM's boolean, and Entra ID's "True"/"False" strings."""
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise bad_request("active must be true or false.")


def _pick(items: Any, field: str) -> str:
    """The work (else primary, else first) value of a multi-valued attribute."""
    if items is None:
        return ""
    if not isinstance(items, list):
        raise bad_request(f"{field} must be a list.")
    candidates = [item for item in items if isinstance(item, dict) and item.get("value")]
    if len(candidates) != len([i for i in items if i not in (None, {})]):
        raise bad_request(f"Each of {field} must be an object with a value.")
    for choose in (lambda i: str(i.get("type", "")).lower() == "work",
                   lambda i: i.get("primary") in (True, "true", "True"), lambda i: True):
        for item in candidates:
            if choose(item):
                return str(item["value"])
    return ""


def full_name(resource: dict[str, Any], user_name: str) -> str:
    """name.formatted, else family + given name (no space between CJK names), else
    displayName, else the userName."""
    name = resource.get("name")
    if name is not None and not isinstance(name, dict):
        raise bad_request("name must be an object.")
    name = name or {}
    formatted = _text(name.get("formatted"), "name.formatted", 100)
    if formatted:
        return formatted
    given = _text(name.get("givenName"), "name.givenName", 100)
    family = _text(name.get("familyName"), "name.familyName", 100)
    if given or family:
        if _CJK.search(given + family):
            return f"{family}{given}"[:100]
        return " ".join(part for part in (given, family) if part)[:100]
    display = _text(resource.get("displayName"), "displayName", 100)
    return display or user_name[:100]


def _manager_ref(extension: dict[str, Any]) -> str:
    manager = extension.get("manager")
    if manager is None:
        return ""
    if isinstance(manager, dict):
        return _text(manager.get("value"), "manager.value", 255)
    return _text(manager, "manager", 255)  # Entra ID sends the bare id as the value


def find_manager(ref: str) -> Employee | None:
    """The employee a manager reference names: by SCIM id, externalId, employee number or
    userName (in that order)."""
    if not ref:
        return None
    if ref.isdigit():
        found = Employee.objects.filter(pk=int(ref)).first()
        if found is not None:
            return found
    return (Employee.objects.filter(scim__external_id=ref).first()
            or Employee.objects.filter(employee_no=ref).first()
            or Employee.objects.filter(user__username__iexact=ref).first())


def fallback_department(actor: Actor) -> Department:
    found = Department.objects.filter(code=FALLBACK_DEPARTMENT_CODE).first()
    if found is not None:
        return found
    department, _ = upsert_department(code=FALLBACK_DEPARTMENT_CODE,
                                      name=FALLBACK_DEPARTMENT_NAME, actor=actor)
    return department


def resolve_department(text: str, actor: Actor) -> Department:
    """A department named by code, else by name; a name never seen before becomes a new
    top-level department (the identity provider is the truth about the organisation)."""
    found = (Department.objects.filter(code=text).first()
             or Department.objects.filter(name=text).order_by("pk").first())
    if found is not None:
        return found
    code = "scim-" + hashlib.sha256(text.encode()).hexdigest()[:16]
    department, _ = upsert_department(code=code, name=text[:100], actor=actor)
    return department


def _adoptable(employee_number: str, user_name: str) -> Employee | None:
    """An employee that existed before provisioning (a spreadsheet import, the console, or
    one deleted over SCIM earlier) is taken over by a POST naming its employee number, or
    else its userName — once: one already provisioned is a conflict."""
    found = None
    if employee_number:
        found = Employee.objects.filter(employee_no=employee_number).first()
    if found is None:
        found = Employee.objects.filter(user__username__iexact=user_name).first()
    if found is not None and ScimUser.objects.filter(employee=found).exists():
        raise ScimError(409, f"{user_name} is already provisioned.", "uniqueness")
    return found


def _new_employee_no(user_name: str) -> str:
    if 0 < len(user_name) <= 40 and not Employee.objects.filter(employee_no=user_name).exists():
        return user_name
    return "S" + uuid.uuid4().hex[:15].upper()


def _raise_domain(exc: errors.JifenError) -> ScimError:
    if isinstance(exc, errors.Conflict):
        return ScimError(409, exc.message, "uniqueness")
    if isinstance(exc, errors.PermissionDenied):
        return ScimError(403, exc.message)
    return ScimError(400, exc.message, "invalidValue")


@transaction.atomic
def save_user(*, resource: dict[str, Any], actor: Actor,
              employee: Employee | None = None) -> Employee:
    """Create (``employee`` None) or replace an employee from a SCIM User representation.
    ``active`` false off-boards through ``mark_employee_left`` (the leaving policy applies,
    sign-ins end); true later re-activates (old sessions stay ended)."""
    locked_singleton(ScimLock)
    if employee is not None:
        employee = _fresh_employee(employee)
    try:
        return _save_user(resource, actor, employee)
    except errors.JifenError as exc:
        raise _raise_domain(exc) from exc


@transaction.atomic
def patch_user(*, employee: Employee, body: Any, base: str, actor: Actor) -> Employee:
    """Apply a SCIM PatchOp to an employee: read as SCIM under the lock, patched, saved as
    ``save_user`` saves a PUT."""
    locked_singleton(ScimLock)
    employee = _fresh_employee(employee)
    current = user_resource(employee, base)
    patched = names_after_patch(current, apply_patch(current, body))
    try:
        return _save_user(patched, actor, employee)
    except errors.JifenError as exc:
        raise _raise_domain(exc) from exc


def _fresh_employee(employee: Employee) -> Employee:
    return Employee.objects.select_related("user", "department", "scim").get(pk=employee.pk)


def _save_user(resource: dict[str, Any], actor: Actor, employee: Employee | None) -> Employee:
    user_name = _text(resource.get("userName"), "userName", 150)
    if not user_name:
        raise bad_request("userName is required.")
    extension = resource.get(ENTERPRISE) or {}
    if not isinstance(extension, dict):
        raise bad_request("The enterprise extension must be an object.")
    employee_number = _text(extension.get("employeeNumber"), "employeeNumber", 40)
    external_id = _text(resource.get("externalId"), "externalId", 255)
    active = parse_active(resource.get("active"))
    taken = User.objects.filter(username__iexact=user_name)
    if employee is not None:
        taken = taken.exclude(pk__in=[employee.user_id] if employee.user_id else [])
        if employee_number and employee_number != employee.employee_no:
            _renumber(employee, employee_number, actor)
        employee_no = employee.employee_no
    else:
        existing = _adoptable(employee_number, user_name)
        if existing is not None:
            employee = existing
            taken = taken.exclude(pk__in=[existing.user_id] if existing.user_id else [])
            employee_number = employee_number or existing.employee_no
        employee_no = employee_number or _new_employee_no(user_name)
    if taken.exists():
        raise ScimError(409, f"The userName {user_name} is taken.", "uniqueness")

    department_text = _text(extension.get("department"), "department", 100)
    if department_text:
        department = resolve_department(department_text, actor)
    elif employee is not None:
        department = employee.department
    else:
        department = fallback_department(actor)

    was_active = employee is not None and employee.status == EmployeeStatus.ACTIVE
    leaving = was_active and not active
    created = employee is None
    data = EmployeeData(
        employee_no=employee_no,
        name=full_name(resource, user_name),
        department_code=department.code,
        email=_pick(resource.get("emails"), "emails")[:254],
        phone=_pick(resource.get("phoneNumbers"), "phoneNumbers"),
        position=_text(resource.get("title"), "title", 100),
        grade=employee.grade if employee is not None else "",
        hire_date=employee.hire_date if employee is not None else None,
        status=EmployeeStatus.ACTIVE if (active or leaving) else EmployeeStatus.LEFT,
        username=user_name,
    )
    saved, _ = upsert_employee(data=data, actor=actor)
    if leaving:
        saved = mark_employee_left(employee=saved, actor=actor)

    link, _ = ScimUser.objects.get_or_create(employee=saved)
    before = {"externalId": link.external_id, "manager": link.manager_ref}
    link.external_id = external_id
    name = resource.get("name") or {}
    link.given_name = _text(name.get("givenName"), "name.givenName", 100)
    link.family_name = _text(name.get("familyName"), "name.familyName", 100)
    link.manager_ref = _manager_ref(extension)
    manager = find_manager(link.manager_ref)
    link.manager = manager if manager is not None and manager.pk != saved.pk else None
    link.save()
    _resolve_pending_managers(saved)
    record_audit(
        actor=actor, action="scim.user.create" if created else "scim.user.update", obj=saved,
        before=None if created else before,
        after={"userName": user_name, "externalId": link.external_id,
               "manager": link.manager_ref, "active": active},
    )
    return saved


def _renumber(employee: Employee, employee_no: str, actor: Actor) -> None:
    """The identity provider changed the employee number: the row keeps its id (and so its
    ledger and history), only the number changes."""
    if Employee.objects.filter(employee_no=employee_no).exclude(pk=employee.pk).exists():
        raise ScimError(409, f"Employee number {employee_no} is taken.", "uniqueness")
    before = {"employee_no": employee.employee_no}
    Employee.objects.filter(pk=employee.pk).update(employee_no=employee_no)
    employee.employee_no = employee_no
    record_audit(actor=actor, action="employee.update", obj=employee, before=before,
                 after={"employee_no": employee_no})


def _resolve_pending_managers(employee: Employee) -> None:
    """The second pass: reports that named this employee as manager before it existed."""
    names = {str(employee.pk), employee.employee_no}
    link = getattr(employee, "scim", None)
    if link is not None and link.external_id:
        names.add(link.external_id)
    if employee.user is not None:
        names.add(employee.user.username)
    ScimUser.objects.filter(manager__isnull=True, manager_ref__in=names).exclude(
        employee=employee).update(manager=employee)


@transaction.atomic
def delete_user(*, employee: Employee, actor: Actor) -> Employee:
    """DELETE /Users/{id}: off-board (the same service as the console). The employee row
    stays, because the ledger and history refer to it; SCIM no longer lists it."""
    locked_singleton(ScimLock)
    try:
        if employee.status == EmployeeStatus.ACTIVE:
            employee = mark_employee_left(employee=employee, actor=actor)
    except errors.JifenError as exc:
        raise _raise_domain(exc) from exc
    ScimUser.objects.filter(employee=employee).delete()
    record_audit(actor=actor, action="scim.user.delete", obj=employee)
    return employee


# --- groups ------------------------------------------------------------------------------


def _member_ids(resource: dict[str, Any]) -> list[int]:
    members = resource.get("members") or []
    if not isinstance(members, list):
        raise bad_request("members must be a list.")
    ids = []
    for member in members:
        value = member.get("value") if isinstance(member, dict) else None
        if value is None or not str(value).isdigit():
            raise bad_request("Each member needs the value of a user's id.")
        ids.append(int(value))
    return ids


@transaction.atomic
def save_group(*, resource: dict[str, Any], actor: Actor,
               department: Department | None = None) -> Department:
    """Create or replace a department from a SCIM Group. Membership is the employees'
    department: a member is moved into it; an active employee no longer listed moves to
    the fallback department (an employee has exactly one department)."""
    locked_singleton(ScimLock)
    if department is not None:
        department = Department.objects.select_related("parent", "manager").get(
            pk=department.pk)
    try:
        return _save_group(resource, actor, department)
    except errors.JifenError as exc:
        raise _raise_domain(exc) from exc


@transaction.atomic
def patch_group(*, department: Department, body: Any, base: str, actor: Actor) -> Department:
    """Apply a SCIM PatchOp to a department (members added or removed move employees)."""
    locked_singleton(ScimLock)
    department = Department.objects.select_related("parent", "manager").get(pk=department.pk)
    current = group_resource(department, base)
    try:
        return _save_group(apply_patch(current, body), actor, department)
    except errors.JifenError as exc:
        raise _raise_domain(exc) from exc


def _save_group(resource: dict[str, Any], actor: Actor,
                department: Department | None) -> Department:
    name = _text(resource.get("displayName"), "displayName", 100)
    if not name:
        raise bad_request("displayName is required.")
    external_id = _text(resource.get("externalId"), "externalId", 255)
    member_ids = _member_ids(resource)
    members = list(Employee.objects.filter(pk__in=member_ids).select_related("user", "department"))
    if len(members) != len(set(member_ids)):
        raise bad_request("A member names a user that does not exist.", "invalidValue")
    created = department is None
    if department is None:
        code = "scim-" + uuid.uuid4().hex[:16]
        department, _ = upsert_department(code=code, name=name, actor=actor)
    else:
        department, _ = upsert_department(
            code=department.code, name=name,
            parent_code=department.parent.code if department.parent is not None else None,
            manager_employee_no=(department.manager.employee_no
                                 if department.manager is not None else None),
            actor=actor)
    link, _ = ScimGroup.objects.get_or_create(department=department)
    link.external_id = external_id
    link.save()
    wanted = {member.pk for member in members}
    for member in members:
        if member.department_id != department.pk:
            _move(member, department, actor)
    # Members are the active employees (what a GET lists); leavers stay where they left.
    leaving = Employee.objects.filter(
        department=department, status=EmployeeStatus.ACTIVE).exclude(pk__in=wanted)
    if leaving.exists():
        fallback = fallback_department(actor)
        if fallback.pk != department.pk:
            for member in leaving.select_related("user", "department"):
                _move(member, fallback, actor)
    record_audit(actor=actor, action="scim.group.create" if created else "scim.group.update",
                 obj=department, after={"displayName": name, "externalId": external_id,
                                        "members": sorted(wanted)})
    return department


def _move(employee: Employee, department: Department, actor: Actor) -> None:
    data = EmployeeData(
        employee_no=employee.employee_no, name=employee.name, department_code=department.code,
        email=employee.email, phone=employee.phone, position=employee.position,
        grade=employee.grade, hire_date=employee.hire_date, status=employee.status,
        username=employee.user.username if employee.user is not None else None,
    )
    upsert_employee(data=data, actor=actor)


@transaction.atomic
def delete_group(*, department: Department, actor: Actor) -> None:
    """DELETE /Groups/{id}: its employees move to the fallback department and the
    department is removed; a department with sub-departments or history that refers to it
    is kept and the answer is 409."""
    locked_singleton(ScimLock)
    if department.code == FALLBACK_DEPARTMENT_CODE:
        raise ScimError(409, "The fallback department cannot be deleted.", "mutability")
    if Department.objects.filter(parent=department).exists():
        raise ScimError(409, "The department has sub-departments.", "mutability")
    fallback = fallback_department(actor)
    for member in Employee.objects.filter(department=department).select_related("user"):
        _move(member, fallback, actor)
    record_audit(actor=actor, action="scim.group.delete", obj=department,
                 before={"displayName": department.name, "code": department.code})
    try:
        with transaction.atomic():
            department.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise ScimError(409, "Other records refer to this department; it is kept.",
                        "mutability") from exc

