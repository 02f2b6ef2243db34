"""Roles, and who may do what to an administrator's account: only a super admin may
off-board a super admin or rename the login of an account with admin powers."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor, actor_user
from jifen.core.roles import Role, user_roles
from jifen.core.services import record_audit
from jifen.people.models import Employee, User
from jifen.people.services.batches import chunked

# --- roles -------------------------------------------------------------------------------


def grant_role(user: User | None, role: str) -> None:
    if user is not None:
        user.groups.add(Group.objects.get_or_create(name=role)[0])


def refresh_manager_role(employee_id: int) -> None:
    employee = Employee.objects.select_related("user").filter(pk=employee_id).first()
    if employee and employee.user and not employee.managed_departments.exists():
        employee.user.groups.remove(*Group.objects.filter(name=Role.MANAGER))


@transaction.atomic
def set_roles(*, user: User, roles: list[str], actor: Actor) -> User:
    """Give ``user`` exactly these admin roles (employee and manager are kept as they are:
    they follow from being an employee and from managing a department)."""
    assignable = {Role.HR_ADMIN, Role.MALL_ADMIN, Role.AUDITOR, Role.SUPER_ADMIN}
    unknown = set(roles) - {r.value for r in assignable}
    if unknown:
        raise errors.ValidationError(_("Unknown roles: %s") % ", ".join(sorted(unknown)),
                                     code=errors.ErrorCode.INVALID_ROLE)
    acting_user = actor_user(actor)
    demoting_self = (acting_user is not None and acting_user.pk == user.pk
                     and Role.SUPER_ADMIN not in roles)
    if demoting_self and user.groups.filter(name=Role.SUPER_ADMIN).exists():
        raise errors.ValidationError(_("You cannot remove your own super admin role."),
                                     code=errors.ErrorCode.SELF_DEMOTION)
    before = sorted(user.groups.filter(name__in=assignable).values_list("name", flat=True))
    user.groups.remove(*Group.objects.filter(name__in=assignable))
    user.groups.add(*[Group.objects.get_or_create(name=r)[0] for r in roles])
    after = sorted(roles)
    if before != after:
        record_audit(actor=actor, action="user.roles", obj=user, object_repr=user.audit_label,
                     before={"roles": before}, after={"roles": after})
    return user


# --- employees ---------------------------------------------------------------------------


def may_manage_admin_accounts(actor: Actor) -> bool:
    """The system (no actor) and super admins may mark anyone as left and rename anyone's
    login; HR (a user or an HR system's API key) may not do so to administrators."""
    return actor is None or Role.SUPER_ADMIN in user_roles(actor)


def offboarding_refusals(employees: list[Employee], actor: Actor) -> dict[int, str]:
    """Why ``actor`` may not mark each of ``employees`` as left, by employee id; empty when
    they may mark them all. Only a super admin may mark a super admin's employee record as
    left: off-boarding disables the login, so HR (or an HR system's API key) could
    otherwise lock every administrator out. The system itself (no actor: the command line)
    may. Reads only."""
    if may_manage_admin_accounts(actor):
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


def refuse_offboarding_admins(employees: list[Employee], actor: Actor) -> None:
    """Raise PermissionDenied naming the first of ``employees`` that ``actor`` may not mark
    as left (``offboarding_refusals``)."""
    refusals = offboarding_refusals(employees, actor)
    for employee in employees:
        if employee.pk in refusals:
            raise errors.PermissionDenied(refusals[employee.pk],
                                          code=errors.ErrorCode.PRIVILEGED_ACCOUNT)


ADMIN_ROLES = (Role.HR_ADMIN, Role.MALL_ADMIN, Role.AUDITOR, Role.SUPER_ADMIN)


def privileged() -> Q:
    """Accounts with admin powers: never adopted by an employee upsert or import, and only
    a super admin may rename their login."""
    return Q(is_superuser=True) | Q(is_staff=True) | Q(groups__name__in=ADMIN_ROLES)


def is_privileged(user: User) -> bool:
    return User.objects.filter(privileged(), pk=user.pk).exists()


def renaming_refusals(changes: list[tuple[Employee, str]], actor: Actor) -> dict[int, str]:
    """Why ``actor`` may not give each employee's existing login the new username, by
    employee id; empty when they may rename them all. ``changes`` are (employee, wanted
    username). Only a super admin may rename the login of an account with admin powers
    (``is_privileged``): HR, or an HR system's API key, could otherwise take an
    administrator's login name away. The system itself (no actor) may. Reads only."""
    if may_manage_admin_accounts(actor):
        return {}
    renamed = [(employee, username) for employee, username in changes
               if username and employee.user is not None and username != employee.user.username]
    user_ids = sorted({employee.user_id for employee, _username in renamed
                       if employee.user_id is not None})
    admins: set[int] = set()
    for chunk in chunked(user_ids):
        admins.update(User.objects.filter(privileged(), pk__in=chunk)
                      .values_list("pk", flat=True))
    return {
        employee.pk: _("%(name)s (%(no)s) has an admin account; only a super admin can "
                       "change its username.") % {"name": employee.name,
                                                  "no": employee.employee_no}
        for employee, _username in renamed if employee.user_id in admins
    }


def refuse_renaming_admins(changes: list[tuple[Employee, str]], actor: Actor) -> None:
    """Raise PermissionDenied naming the first employee whose admin login ``actor`` may not
    rename (``renaming_refusals``)."""
    refusals = renaming_refusals(changes, actor)
    for employee, _username in changes:
        if employee.pk in refusals:
            raise errors.PermissionDenied(refusals[employee.pk],
                                          code=errors.ErrorCode.PRIVILEGED_ACCOUNT,
                                          details={"fields": {"username": refusals[employee.pk]}})
