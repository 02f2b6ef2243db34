"""Employees and departments as SCIM resources (what a GET answers, and what a PATCH
starts from)."""

from __future__ import annotations

from typing import Any

from jifen.people.models import Department, Employee, EmployeeStatus
from jifen.people.scim.schema import CORE_GROUP, CORE_USER, ENTERPRISE


def _iso(moment: Any) -> str:
    return moment.isoformat()


def user_resource(employee: Employee, base: str) -> dict[str, Any]:
    link = getattr(employee, "scim", None)
    location = f"{base}/Users/{employee.pk}"
    resource: dict[str, Any] = {
        "schemas": [CORE_USER, ENTERPRISE],
        "id": str(employee.pk),
        "userName": employee.user.username if employee.user is not None else employee.employee_no,
        "name": {"formatted": employee.name},
        "displayName": employee.name,
        "active": employee.status == EmployeeStatus.ACTIVE,
    }
    if link is not None and link.external_id:
        resource["externalId"] = link.external_id
    if link is not None and link.given_name:
        resource["name"]["givenName"] = link.given_name
    if link is not None and link.family_name:
        resource["name"]["familyName"] = link.family_name
    if employee.position:
        resource["title"] = employee.position
    if employee.email:
        resource["emails"] = [{"value": employee.email}]
    if employee.phone:
        resource["phoneNumbers"] = [{"value": employee.phone}]
    extension: dict[str, Any] = {"employeeNumber": employee.employee_no,
                                 "department": employee.department.name}
    if link is not None and link.manager_ref:
        extension["manager"] = {"value": link.manager_ref}
    resource[ENTERPRISE] = extension
    resource["groups"] = [{"value": str(employee.department_id),
                           "$ref": f"{base}/Groups/{employee.department_id}",
                           "display": employee.department.name}]
    resource["meta"] = {"resourceType": "User", "created": _iso(employee.created_at),
                        "lastModified": _iso(employee.updated_at), "location": location}
    return resource


def group_resource(department: Department, base: str, *, with_members: bool = True,
                   ) -> dict[str, Any]:
    link = getattr(department, "scim", None)
    resource: dict[str, Any] = {"schemas": [CORE_GROUP], "id": str(department.pk),
                                "displayName": department.name}
    if link is not None and link.external_id:
        resource["externalId"] = link.external_id
    if with_members:
        resource["members"] = [
            {"value": str(pk), "$ref": f"{base}/Users/{pk}"}
            for pk in department.employees.filter(status=EmployeeStatus.ACTIVE)
            .order_by("pk").values_list("pk", flat=True)
        ]
    resource["meta"] = {"resourceType": "Group", "created": _iso(department.created_at),
                        "lastModified": _iso(department.updated_at),
                        "location": f"{base}/Groups/{department.pk}"}
    return resource


def names_after_patch(current: dict[str, Any], patched: dict[str, Any]) -> dict[str, Any]:
    """Which of the name attributes a PATCH meant: a changed displayName (Entra ID's
    default mapping) or changed given/family names win over the unchanged formatted name
    the representation carried in."""
    name = patched.get("name")
    if isinstance(name, dict) and name != current["name"] and (
            name.get("formatted") == current["name"].get("formatted")):
        patched["name"] = {k: v for k, v in name.items() if k != "formatted"}
    elif patched.get("displayName") != current.get("displayName") and (
            patched.get("name") == current["name"]) and patched.get("displayName"):
        patched["name"] = {"formatted": patched["displayName"]}
    return patched
