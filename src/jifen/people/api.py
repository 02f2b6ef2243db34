from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from jifen.core import errors
from jifen.core.api_errors import error_response
from jifen.core.apiauth import Principal, principal
from jifen.core.client_address import client_address
from jifen.core.pagination import CursorPage, paginate
from jifen.core.roles import Cap, Role, user_can, user_roles
from jifen.core.schema_types import ApiDate, UrlInt
from jifen.people import selectors, services
from jifen.people.mfa import services as mfa_services
from jifen.people.models import Department, Employee, EmployeeStatus
from jifen.people.sso.selectors import second_factor_required

router = Router(tags=["people"])


def employee_token_principal(token: str) -> Principal | None:
    """The employee a bearer token from ``POST /auth/token`` belongs to, or None when it is
    no live token (registered with ``jifen.core.apiauth`` when the app is ready)."""
    access = services.authenticate_access_token(token)  # brings user.employee along
    return Principal(kind="employee", user=access.user) if access is not None else None


class TokenIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=256)
    # The second factor of an account that has one: a TOTP code or a recovery code.
    code: str | None = Field(default=None, max_length=64)


class TokenOut(Schema):
    token: str
    expires_at: datetime


@router.post("/auth/token", auth=None, response={200: TokenOut}, tags=["auth"])
def create_token(request: HttpRequest, payload: TokenIn) -> dict:
    """Exchange an employee's username and password for a bearer token. Repeated failures
    from one address are throttled (429). An account with a second factor also sends
    ``code`` (TOTP or recovery code); without it the answer is 403 ``second_factor_required``
    (``details.enrolled`` false: an admin who must enrol on the web first)."""
    try:
        user = services.sign_in(username=payload.username, password=payload.password,
                                address=client_address(request))
    except errors.PermissionDenied as exc:
        # Wrong credentials are "who are you?" (401), not "you may not" (403).
        status = 403 if exc.code == errors.ErrorCode.PASSWORD_SIGN_IN_DISABLED else 401
        return error_response(request, status, exc.code, exc.message)  # type: ignore[return-value]
    # An account with a second factor sends its code too; an admin the policy obliges to
    # have one and who has none gets no token until they enrol on the web (decision 0020).
    enrolled = mfa_services.has_second_factor(user)
    if enrolled or second_factor_required(user):
        if not enrolled or not payload.code:
            raise errors.PermissionDenied(
                _("Send the code from your authenticator app (or a recovery code) as “code”.")
                if enrolled else
                _("Set up a second factor on the web before asking for a token."),
                code=errors.ErrorCode.SECOND_FACTOR_REQUIRED, details={"enrolled": enrolled})
        try:
            mfa_services.check_code(user=user, code=payload.code,
                                    address=client_address(request))
        except errors.PermissionDenied as exc:
            return error_response(request, 401, exc.code, exc.message)  # type: ignore[return-value]
    token, plain = services.issue_access_token(user=user)
    return {"token": plain, "expires_at": token.expires_at}


@router.delete("/auth/token", response={204: None}, tags=["auth"])
def delete_token(request: HttpRequest):
    """Revoke the employee token this request is made with (signing a client out); it is a
    401 from then on. System API keys are revoked by an administrator instead (403)."""
    caller = principal(request)
    if caller.kind != "employee":
        raise errors.PermissionDenied(
            _("Only an employee token can revoke itself; API keys are revoked in the console."),
            code=errors.ErrorCode.EMPLOYEE_TOKEN_ONLY)
    # The bearer scheme has already read and checked this header.
    plain = request.headers.get("Authorization", "").partition(" ")[2].strip()
    services.revoke_access_token(user=caller.user, plain=plain)
    return 204, None


class DepartmentIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    parent_code: str | None = Field(default=None, max_length=40)
    manager_employee_no: str | None = Field(default=None, max_length=40)


class DepartmentOut(Schema):
    code: str
    name: str
    parent_code: str | None
    manager_employee_no: str | None

    @staticmethod
    def resolve_parent_code(obj: Department) -> str | None:
        return obj.parent.code if obj.parent_id else None

    @staticmethod
    def resolve_manager_employee_no(obj: Department) -> str | None:
        return obj.manager.employee_no if obj.manager_id else None


@router.put("/departments/{code}", response={200: DepartmentOut, 201: DepartmentOut})
def put_department(request: HttpRequest, code: str, payload: DepartmentIn):
    """Create or update a department (201 when created)."""
    caller = principal(request)
    caller.require("employees:write")
    dept, created = services.upsert_department(
        code=code, name=payload.name, parent_code=payload.parent_code,
        manager_employee_no=payload.manager_employee_no, actor=caller.actor,
    )
    return (201 if created else 200), dept


@router.get("/departments", response=list[DepartmentOut])
def list_departments(request: HttpRequest):
    """Departments in tree order (parents before children). A key with employees:read sees
    every one; an employee token sees what the console shows them: everything for HR and
    auditors, a manager's own subtrees for a manager."""
    caller = principal(request)
    caller.require("employees:read")
    if caller.kind == "employee":
        return list(selectors.departments_visible_to(caller.user).order_by("path"))
    return selectors.department_tree()


class EmployeeIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    department_code: str = Field(min_length=1, max_length=40, examples=["HQ"])
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=30)
    position: str | None = Field(default=None, max_length=100)
    grade: str | None = Field(default=None, max_length=20)
    hire_date: ApiDate | None = None
    status: EmployeeStatus = EmployeeStatus.ACTIVE
    username: str | None = Field(default=None, max_length=150)
    initial_password: str | None = Field(default=None, max_length=128, description="write-only")


class EmployeeOut(Schema):
    employee_no: str
    name: str
    department_code: str
    department_name: str
    email: str
    phone: str
    position: str
    grade: str
    hire_date: date | None
    status: str
    username: str | None

    @staticmethod
    def resolve_department_code(obj: Employee) -> str:
        return obj.department.code

    @staticmethod
    def resolve_department_name(obj: Employee) -> str:
        return obj.department.name

    @staticmethod
    def resolve_username(obj: Employee) -> str | None:
        return obj.user.username if obj.user_id else None


@router.put("/employees/{employee_no}", response={200: EmployeeOut, 201: EmployeeOut})
def put_employee(request: HttpRequest, employee_no: str, payload: EmployeeIn):
    """Create or update an employee and their login (username defaults to the employee
    number). An unknown department is a 422 and nothing is created. Marking a super admin
    as left, or changing the username of an account with admin powers, is for super admins
    only: 403 ``privileged_account`` for anyone else, API keys included."""
    caller = principal(request)
    caller.require("employees:write")
    data = services.EmployeeData(
        employee_no=employee_no, name=payload.name, department_code=payload.department_code,
        email=payload.email or "", phone=payload.phone or "", position=payload.position or "",
        grade=payload.grade or "", hire_date=payload.hire_date, status=payload.status,
        username=payload.username, initial_password=payload.initial_password,
    )
    employee, created = services.upsert_employee(data=data, actor=caller.actor)
    return (201 if created else 200), employee


class EmployeeFilters(Schema):
    q: str = ""
    department_code: str | None = None
    status: EmployeeStatus | None = None
    cursor: str | None = None
    limit: UrlInt = Field(default=50, ge=1, le=200)


@router.get("/employees", response=CursorPage[EmployeeOut])
def list_employees(request: HttpRequest, filters: Query[EmployeeFilters]):
    caller = principal(request)
    caller.require("employees:read")
    department = None
    if filters.department_code:
        department = selectors.department_by_code(filters.department_code)
        if department is None:
            raise errors.NotFound(_("Unknown department %s.") % filters.department_code)
    employees = selectors.search_employees(
        user=caller.user if caller.kind == "employee" else None,
        q=filters.q, department=department, status=filters.status or "",
    )
    return paginate(employees, cursor=filters.cursor, limit=filters.limit, key="employee_no")


@router.get("/employees/{employee_no}", response=EmployeeOut)
def get_employee(request: HttpRequest, employee_no: str):
    caller = principal(request)
    caller.require("employees:read")
    employees = selectors.employees_readable_by(
        caller.user if caller.kind == "employee" else None)
    employee = employees.filter(employee_no=employee_no).first()
    if employee is None:
        raise errors.NotFound(_("Unknown employee %s.") % employee_no)
    return employee


class LeftIn(Schema):
    left_on: ApiDate | None = None


@router.post("/employees/{employee_no}/left", response=EmployeeOut)
def mark_left(request: HttpRequest, employee_no: str, payload: LeftIn | None = None):
    """Off-board an employee (scope ``employees:write``), as the console's "Mark as left":
    status left on ``left_on`` (default today), sign-in disabled, sessions and tokens
    ended. Marking someone already left changes nothing. Off-boarding a super admin is for
    super admins only: 403 ``privileged_account``."""
    caller = principal(request)
    caller.require("employees:write")
    employees = selectors.employees_readable_by(
        caller.user if caller.kind == "employee" else None)
    employee = employees.filter(employee_no=employee_no).first()
    if employee is None:
        raise errors.NotFound(_("Unknown employee %s.") % employee_no)
    return services.mark_employee_left(employee=employee, actor=caller.actor,
                                       left_on=payload.left_on if payload else None)


class RolesIn(Schema):
    roles: list[Literal["hr_admin", "mall_admin", "auditor", "super_admin"]] = Field(
        max_length=4, examples=[["hr_admin"]])


class RolesOut(Schema):
    employee_no: str
    roles: list[str]


@router.put("/employees/{employee_no}/roles", response=RolesOut)
def put_roles(request: HttpRequest, employee_no: str, payload: RolesIn):
    """Give an employee's login exactly these admin roles, as the console's roles form does
    (employee and manager follow from the records and are kept). Only a super admin, with
    their own token: an API key may not grant powers (403 ``forbidden``)."""
    caller = principal(request)
    if caller.kind != "employee" or not user_can(caller.user, Cap.MANAGE_SETTINGS):
        raise errors.PermissionDenied(
            _("Roles are granted by a super admin with their own token."),
            code=errors.ErrorCode.FORBIDDEN)
    caller.require("admin")
    employee = selectors.employees_readable_by(caller.user).filter(
        employee_no=employee_no).first()
    if employee is None:
        raise errors.NotFound(_("Unknown employee %s.") % employee_no)
    if employee.user is None:
        raise errors.Conflict(_("This employee has no sign-in account."),
                              code=errors.ErrorCode.CONFLICT)
    user = services.set_roles(user=employee.user, roles=list(dict.fromkeys(payload.roles)),
                              actor=caller.actor)
    assignable = {Role.HR_ADMIN, Role.MALL_ADMIN, Role.AUDITOR, Role.SUPER_ADMIN}
    return {"employee_no": employee.employee_no,
            "roles": sorted(r for r in user_roles(user) if r in assignable)}


class MeOut(EmployeeOut):
    roles: list[str]

    @staticmethod
    def resolve_roles(obj: Employee) -> list[str]:
        return sorted(user_roles(obj.user))


@router.get("/me", response=MeOut, tags=["me"])
def me(request: HttpRequest):
    """The signed-in employee's profile and roles."""
    return principal(request).require_employee()


class ColleagueAvatarOut(Schema):
    initials: str
    colour: int = Field(description="which of 8 avatar colours (0–7) a person without a photo has")
    photo_url: str | None


class ColleagueOut(Schema):
    employee_no: str
    name: str
    department: str
    avatar: ColleagueAvatarOut


class ColleagueSearchOut(Schema):
    items: list[ColleagueOut]


class ColleagueSearchIn(Schema):
    q: str = Field(default="", max_length=200)
    limit: UrlInt = Field(default=10, ge=1, le=20)


@router.get("/people/search", response=ColleagueSearchOut)
def search_people(request: HttpRequest, filters: Query[ColleagueSearchIn]) -> dict:
    """Find active colleagues for a people picker by name (张伟), full pinyin (zhangwei),
    pinyin initials (zw), department name or employee number; best matches first. Any
    employee's own token (never lists the caller) or an API key with ``employees:read``.
    Only what anyone at the company may see: number, name, department and avatar."""
    caller = principal(request)
    if caller.kind != "employee":
        caller.require("employees:read")
    viewer = getattr(caller.user, "employee", None) if caller.kind == "employee" else None
    found = selectors.search_colleagues(filters.q, viewer=viewer, limit=filters.limit)
    return {"items": [selectors.colleague_card(e) for e in found]}
