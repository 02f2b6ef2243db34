"""Departments: the tree, its codes and managers."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.roles import Role
from jifen.core.services import record_audit
from jifen.people.models import Department
from jifen.people.selectors import employee_by_no
from jifen.people.services.roles import grant_role, refresh_manager_role

DEPARTMENT_FIELDS = ("code", "name", "parent", "manager")


# --- departments -----------------------------------------------------------------------


def _department_snapshot(dept: Department) -> dict[str, Any]:
    return {
        "code": dept.code,
        "name": dept.name,
        "parent": dept.parent.code if dept.parent is not None else None,
        "manager": dept.manager.employee_no if dept.manager is not None else None,
    }


@transaction.atomic
def upsert_department(
    *,
    code: str,
    name: str,
    parent_code: str | None = None,
    manager_employee_no: str | None = None,
    actor: Actor = None,
) -> tuple[Department, bool]:
    """Create or update the department ``code``. Moving a department moves its whole
    subtree; a move under its own descendant is refused. Returns (department, created)."""
    code = (code or "").strip()
    name = (name or "").strip()
    if not code or len(code) > 40:
        raise errors.ValidationError(_("A department code of 1–40 characters is required."),
                                     code=errors.ErrorCode.INVALID_CODE)
    if not name:
        raise errors.ValidationError(_("A department name is required."),
                                     code=errors.ErrorCode.NAME_REQUIRED)
    parent = None
    if parent_code:
        parent = Department.objects.select_for_update().filter(code=parent_code).first()
        if parent is None:
            raise errors.ValidationError(
                _("Unknown parent department %s.") % parent_code,
                code=errors.ErrorCode.UNKNOWN_DEPARTMENT,
                details={"parent_code": parent_code},
            )
    manager = None
    if manager_employee_no:
        try:
            manager = employee_by_no(manager_employee_no)
        except errors.ValidationError as exc:  # the same 422, naming the field it came in
            exc.details = {"manager_employee_no": manager_employee_no}
            raise

    found = Department.objects.select_for_update().filter(code=code).first()
    created = found is None
    before = None if found is None else _department_snapshot(found)
    old_manager_id = None if found is None else found.manager_id
    dept = Department(code=code) if found is None else found
    if found is not None and parent is not None and (
            parent.pk == found.pk or parent.path.startswith(found.path)):
        raise errors.ValidationError(
            _("A department cannot be moved under itself or one of its sub-departments."),
            code=errors.ErrorCode.DEPARTMENT_CYCLE,
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
        grant_role(manager.user, Role.MANAGER)
    if old_manager_id and old_manager_id != dept.manager_id:
        refresh_manager_role(old_manager_id)
    after = _department_snapshot(dept)
    if created or before != after:
        record_audit(
            actor=actor, action="department.create" if created else "department.update",
            obj=dept, before=before, after=after,
        )
    return dept, created
