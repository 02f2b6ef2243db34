from __future__ import annotations

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    F,
    FilteredRelation,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.models import AuditEntry
from jifen.core.roles import Cap, user_can
from jifen.core.selectors import described_audit_entries, search_audit_log
from jifen.core.templatetags.jifen_ui import initials
from jifen.people.models import Department, Employee, EmployeeStatus, User
from jifen.people.pinyin import normalise_query

SEARCH_LIMIT_MAX = 20
SEARCH_QUERY_MAX = 50
AVATAR_COLOURS = 8


def path_ids(path: str) -> list[int]:
    """The department ids of a tree ``path`` ("/1/5/9/"), top first: a department and its
    ancestors."""
    return [int(part) for part in path.strip("/").split("/") if part.isdigit()]


def managed_department_paths(user: User) -> list[str]:
    """Paths of the departments this user manages (their subtrees are theirs to see)."""
    employee = getattr(user, "employee", None)
    if employee is None:
        return []
    return list(Department.objects.filter(manager=employee).values_list("path", flat=True))


def _subtree_q(paths: list[str], prefix: str = "") -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def departments_visible_to(user: User) -> QuerySet[Department]:
    """All departments for people who may see everyone; a manager's own subtrees otherwise."""
    departments = Department.objects.select_related("parent", "manager")
    if user_can(user, Cap.VIEW_ALL_PEOPLE):
        return departments
    if user_can(user, Cap.VIEW_PEOPLE):
        return departments.filter(_subtree_q(managed_department_paths(user)))
    return departments.none()


def employees_visible_to(user: User) -> QuerySet[Employee]:
    employees = Employee.objects.select_related("department", "user")
    if user_can(user, Cap.VIEW_ALL_PEOPLE):
        return employees
    if user_can(user, Cap.VIEW_PEOPLE):
        return employees.filter(_subtree_q(managed_department_paths(user), "department__"))
    return employees.none()


def employees_readable_by(user: User | None) -> QuerySet[Employee]:
    """The employees a caller may read: those visible to ``user``, or every one for a system
    caller (``user=None``: an API key)."""
    if user is not None:
        return employees_visible_to(user)
    return Employee.objects.select_related("department", "user")


def visible_employee(user: User, pk: int) -> Employee | None:
    """The employee ``pk`` if ``user`` may see them (None otherwise, as for a missing one)."""
    return employees_visible_to(user).filter(pk=pk).first()


def visible_department(user: User, pk: int) -> Department | None:
    """The department ``pk`` if ``user`` may see it (None otherwise, as for a missing one)."""
    return departments_visible_to(user).filter(pk=pk).first()


def departments_with_head_count(user: User) -> list[Department]:
    """The departments visible to ``user``, each with ``head_count``: its active employees
    (not those of its sub-departments)."""
    return list(departments_visible_to(user).annotate(
        head_count=Count("employees", filter=Q(employees__status=EmployeeStatus.ACTIVE))))


def employee_history(employee: Employee, limit: int = 10) -> list[AuditEntry]:
    """The latest audit entries about ``employee``, their values in words (found for all
    of them at once)."""
    return described_audit_entries(search_audit_log(object_type="people.employee")
                                   .filter(object_id=str(employee.pk))[:limit])


def employee_no_taken(employee_no: str) -> bool:
    return Employee.objects.filter(employee_no=employee_no).exists()


def search_employees(
    *,
    user: User | None,
    q: str = "",
    department: Department | None = None,
    status: str = "",
) -> QuerySet[Employee]:
    """The console's employee list: visible to ``user``, optionally within one department's
    subtree, with a status, matching ``q`` against number, name, e-mail or phone.
    ``user=None`` is a system caller (an API key), which sees every employee."""
    employees = employees_readable_by(user)
    if department is not None:
        employees = employees.filter(department__path__startswith=department.path)
    if status:
        employees = employees.filter(status=status)
    if q:
        q = q.strip()
        employees = employees.filter(
            Q(employee_no__icontains=q) | Q(name__icontains=q) | Q(email__icontains=q)
            | Q(phone__icontains=q)
        )
    return employees.order_by("employee_no")


def department_tree() -> list[Department]:
    """Every department in tree order (parents before children, siblings by path)."""
    return list(Department.objects.select_related("manager").order_by("path"))


def find_employee(employee_no: str) -> Employee | None:
    """The employee with this number, or None — for a number naming the resource in a URL
    path, where not there is a 404; ``employee_by_no`` is for a number sent in a body."""
    return Employee.objects.filter(employee_no=employee_no).first()


def employee_by_no(employee_no: str) -> Employee:
    """The employee with this number. An unknown number is the caller's mistake in what
    they sent: a 422 ``unknown_employee`` naming it, the same for every API call and page."""
    employee = find_employee(employee_no)
    if employee is None:
        raise errors.ValidationError(_("Unknown employee %s.") % employee_no,
                                     code=errors.ErrorCode.UNKNOWN_EMPLOYEE,
                                     details={"employee_no": employee_no})
    return employee


def departments_by_codes(codes: set[str]) -> list[Department]:
    return list(Department.objects.filter(code__in=codes))


def department_by_code(code: str) -> Department | None:
    return Department.objects.filter(code=code).first()


def all_departments() -> QuerySet[Department]:
    return Department.objects.all()


# --- the people list's points column ------------------------------------------------------

# The people list's orders: the ``sort`` parameter → ORDER BY (ties by employee number).
EMPLOYEE_SORTS: dict[str, tuple[str, ...]] = {
    "": ("employee_no",),
    "name": ("name", "employee_no"),
    "balance": ("points_balance", "employee_no"),
    "-balance": ("-points_balance", "employee_no"),
}


def with_points_balance(employees: QuerySet[Employee]) -> QuerySet[Employee]:
    """Each employee with ``points_balance``: the balance of their points wallet (0 before
    they have one). One LEFT JOIN on the wallet, no GROUP BY, the same on every database.
    The wallet is the ledger's account of kind "wallet", named here by its value: people
    sits below the ledger and may not import it."""
    wallet = FilteredRelation("ledger_accounts", condition=Q(ledger_accounts__kind="wallet"))
    return employees.annotate(points_wallet=wallet).annotate(
        points_balance=Coalesce(F("points_wallet__balance"), Value(0),
                                output_field=BigIntegerField()))


def list_order(sort: str) -> tuple[str, ...]:
    """The ordering keys of the employee list for ``sort`` (the last one unique, so a
    keyset page can seek on them)."""
    return EMPLOYEE_SORTS.get(sort, EMPLOYEE_SORTS[""])


def sort_employees(employees: QuerySet[Employee], sort: str, *,
                   with_points: bool = False) -> QuerySet[Employee]:
    """``employees`` in the list's order named by ``sort`` (unknown: by number), with
    ``points_balance`` when ``with_points`` (sorting by points needs it)."""
    if with_points:
        employees = with_points_balance(employees)
    elif "balance" in sort:
        sort = ""
    return employees.order_by(*EMPLOYEE_SORTS.get(sort, EMPLOYEE_SORTS[""]))


def _key_q(field: str, key: str, *, contains: bool) -> Q:
    """``key`` at the start of one of the space-separated readings in ``field`` (or
    anywhere in them, when ``contains``). Keys are stored in lower case."""
    if contains:
        return Q(**{f"{field}__contains": key})
    return Q(**{f"{field}__startswith": key}) | Q(**{f"{field}__contains": f" {key}"})


def search_colleagues(query: str, *, viewer: Employee | None,
                      limit: int = 10) -> list[Employee]:
    """Active colleagues (never ``viewer``, never someone who left) matching what a person
    types in a people picker: part of the name (张伟), its full pinyin (zhangwei, zhang w),
    its pinyin initials (zw), a department name, or an employee number. Best matches
    first — exact name or number, then initials, then names and pinyin that start with the
    query, then the rest — at most ``limit`` (≤ 20) of them. Plain prefix and contains
    matches on stored keys (``Employee.name_pinyin``/``name_initials``), so it runs the
    same on SQLite, PostgreSQL and MariaDB."""
    text = (query or "").strip()[:SEARCH_QUERY_MAX]
    limit = max(1, min(int(limit), SEARCH_LIMIT_MAX))
    if not text:
        return []
    key = normalise_query(text)
    match = (Q(name__icontains=text) | Q(employee_no__istartswith=text)
             | Q(department__name__icontains=text))
    rank = [When(Q(name__iexact=text) | Q(employee_no__iexact=text), then=Value(0))]
    if key and key.isascii():
        match |= _key_q("name_initials", key, contains=False)
        rank.append(When(_key_q("name_initials", key, contains=False), then=Value(1)))
        if len(key) >= 2:
            match |= _key_q("name_pinyin", key, contains=True)
        rank.append(When(_key_q("name_pinyin", key, contains=False), then=Value(2)))
    rank.append(When(name__istartswith=text, then=Value(2)))
    rank.append(When(name__icontains=text, then=Value(3)))
    found = (Employee.objects.filter(match, status=EmployeeStatus.ACTIVE)
             .select_related("department")
             .annotate(rank=Case(*rank, default=Value(4), output_field=IntegerField())))
    if viewer is not None and viewer.pk is not None:
        found = found.exclude(pk=viewer.pk)
    return list(found.order_by("rank", "name", "employee_no")[:limit])


def avatar_colour(employee: Employee) -> int:
    """Which of the avatar colours a person without a photo gets (stable per person)."""
    return (employee.pk or 0) % AVATAR_COLOURS


def colleague_card(employee: Employee) -> dict[str, object]:
    """What anyone signed in may see of a colleague in a picker: number, name, department,
    avatar (initials on a colour; there are no photos yet)."""
    return {
        "employee_no": employee.employee_no, "name": employee.name,
        "department": employee.department.name,
        "avatar": {"initials": initials(employee.name), "colour": avatar_colour(employee),
                   "photo_url": None},
    }


def colleagues_named(text: str, *, viewer: Employee | None) -> list[Employee]:
    """Whom a typed "colleague" field means, for forms that work without the picker: the
    active colleague with exactly this number, else those with exactly this name, else
    what ``search_colleagues`` finds (up to 5). One answer is a match; several ask the
    person to choose."""
    found = search_colleagues(text, viewer=viewer, limit=5)
    text = (text or "").strip()
    for exact in ([e for e in found if e.employee_no.lower() == text.lower()],
                  [e for e in found if e.name == text]):
        if exact:
            return exact
    return found


def audience_problem(employee: Employee, departments: list[Department],
                     grades: list[str]) -> str:
    """Why ``employee`` is outside an audience of ``departments`` (each including its
    sub-departments) and ``grades`` ("" when inside; empty lists mean everyone). Mall
    items, activities and library resources all say it in these words."""
    if departments:
        path = employee.department.path if employee.department_id else ""
        if not any(path.startswith(d.path) for d in departments):
            return _("Only for %(departments)s.") % {
                "departments": "、".join(d.name for d in departments)}
    if grades and (employee.grade or "").strip() not in grades:
        return _("Only for grades %(grades)s.") % {"grades": ", ".join(grades)}
    return ""
