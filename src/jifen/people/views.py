"""Web pages for signing in and for the people part of the console (employees,
departments, roles). Thin: parse, check permission, call a selector or service, render."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jifen.core import errors
from jifen.core.client_address import client_address
from jifen.core.exports import spreadsheet_response
from jifen.core.pagination import keyset_page_for
from jifen.core.permissions import forbidden, htmx_partial, require_capability
from jifen.core.redirects import next_path
from jifen.core.roles import Cap, Role, user_can, user_roles
from jifen.core.selectors import site_settings
from jifen.people import selectors, services
from jifen.people.forms import (
    ASSIGNABLE_ROLES,
    DepartmentForm,
    EmployeeForm,
    LoginForm,
    MarkLeftForm,
    PasswordChangeForm,
    PeopleFilterForm,
    RolesForm,
)
from jifen.people.models import Department, Employee, EmployeeStatus
from jifen.people.sso import login as sso_login
from jifen.people.sso import views as sso_views

PAGE_SIZE = 20


def points_number(units: int) -> int | Decimal:
    """A points balance in units → points with the site's decimals (the ledger's amounts
    module does the same; people sits below the ledger and may not import it)."""
    decimals = int(site_settings().decimals)
    return int(units) if not decimals else Decimal(int(units)).scaleb(-decimals)


def points_text(units: int) -> str:
    decimals = int(site_settings().decimals)
    return f"{Decimal(int(units)).scaleb(-decimals):.{decimals}f}"

# --- signing in ----------------------------------------------------------------------------


def _next_url(request: HttpRequest) -> str:
    return next_path(request, resolve_url(settings.LOGIN_REDIRECT_URL))


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return HttpResponseRedirect(_next_url(request))
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                user = services.sign_in(
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password"], address=client_address(request),
                )
            except errors.RateLimited as exc:
                form.add_error(None, exc.message)
                status = 429
            except errors.PermissionDenied as exc:
                form.add_error(None, exc.message)
            else:
                # allauth finishes the sign-in: its stages ask for the second factor of an
                # account that has one (decision 0020).
                return sso_login.finish_password_sign_in(request, user, _next_url(request))
    buttons = sso_views.sign_in_buttons()
    response = render(request, "auth/login.html",
                      {"form": form, "providers": buttons,
                       "next": request.POST.get("next") or request.GET.get("next", "")},
                      status=status)
    return sso_views.allow_form_actions(response, buttons)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    messages.info(request, _("You have signed out."))
    return redirect(settings.LOGOUT_REDIRECT_URL)


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_password(
                user=request.user, old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"], address=client_address(request),
            )
        except errors.RateLimited as exc:
            form.add_service_errors({"__all__": exc.message})
        except errors.ValidationError as exc:
            form.add_service_errors({exc.details.get("field", "__all__"): exc.message})
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password has been changed."))
            return redirect("portal:home")
    return render(request, "auth/password_change.html", {"form": form})


# --- employees ---------------------------------------------------------------------------


def import_url() -> str:
    """The bulk import page (built separately); a plain path until its URL name exists."""
    try:
        return reverse("people_import:start")
    except NoReverseMatch:
        return "/console/people/import/"


def _visible_employee(request: HttpRequest, pk: int) -> Employee:
    employee = selectors.visible_employee(request.user, pk)
    if employee is None:
        raise Http404
    return employee


def _filtered_employees(request: HttpRequest):
    departments = list(selectors.departments_visible_to(request.user))
    form = PeopleFilterForm(request.GET, departments=departments)
    employees = selectors.search_employees(user=request.user, **form.filters())
    return form, employees


@require_capability(Cap.VIEW_PEOPLE)
def people_list(request: HttpRequest) -> HttpResponse:
    form, employees = _filtered_employees(request)
    # Points are shown (and sortable) to those who may see the ledger.
    show_points = user_can(request.user, Cap.VIEW_LEDGER)
    sort = request.GET.get("sort", "")
    if sort not in selectors.EMPLOYEE_SORTS or ("balance" in sort and not show_points):
        sort = ""
    employees = selectors.sort_employees(employees, sort, with_points=show_points)
    page = keyset_page_for(request, employees, order=selectors.list_order(sort),
                           limit=PAGE_SIZE)
    for employee in page.object_list if show_points else ():
        employee.points_text = points_text(employee.points_balance)  # type: ignore[attr-defined]
    context = {
        "form": form,
        "page": page,
        "sort": sort,
        "show_points": show_points,
        "filtered": any(request.GET.get(k) for k in ("q", "department", "status")),
        "can_manage": user_can(request.user, Cap.MANAGE_PEOPLE),
        "import_url": import_url(),
    }
    if htmx_partial(request):
        return render(request, "console/people/list.html#results", context)
    return render(request, "console/people/list.html", context)


EXPORT_COLUMNS = [
    gettext_lazy("Employee number"), gettext_lazy("Name"), gettext_lazy("Department"),
    gettext_lazy("Department code"), gettext_lazy("E-mail"), gettext_lazy("Phone"),
    gettext_lazy("Position"), gettext_lazy("Grade"), gettext_lazy("Hire date"),
    gettext_lazy("Status"), gettext_lazy("Left on"),
]


def _export_rows(employees: Iterable[Employee], *, points: bool = False) -> Iterable[list]:
    for e in employees:
        row = [
            e.employee_no, e.name, e.department.name, e.department.code, e.email, e.phone,
            e.position, e.grade, e.hire_date.isoformat() if e.hire_date else "",
            e.get_status_display(), e.left_on.isoformat() if e.left_on else "",
        ]
        if points:
            row.append(points_number(e.points_balance))  # type: ignore[attr-defined]
        yield row


@require_capability(Cap.MANAGE_PEOPLE)
@require_GET
def people_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as xlsx (default) or csv. CSV is UTF-8 with a BOM so that Excel
    opens Chinese names correctly."""
    _form, employees = _filtered_employees(request)
    points = user_can(request.user, Cap.VIEW_LEDGER)
    employees = selectors.sort_employees(employees, request.GET.get("sort", ""),
                                         with_points=points)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return spreadsheet_response(
        fmt="csv" if request.GET.get("format") == "csv" else "xlsx",
        filename=f"employees-{stamp}",
        header=[*EXPORT_COLUMNS, *([_("Points balance")] if points else [])],
        rows=_export_rows(employees.iterator(), points=points), sheet_title=_("Employees"),
        widths=[14, 12, 16, 14, 26, 16, 16, 8, 12, 8, 12, 12],
    )


def _save_employee(request: HttpRequest, form: EmployeeForm) -> Employee | None:
    try:
        employee, created = services.upsert_employee(data=form.to_data(), actor=request.user)
    except errors.ValidationError as exc:
        form.add_service_errors(exc.details.get("fields") or {"__all__": exc.message})
        return None
    except errors.JifenError as exc:
        field = "username" if exc.code == "username_taken" else None
        form.add_error(field, exc.message)
        form.mark_invalid()
        return None
    if created:
        messages.success(request, _("%(name)s was added.") % {"name": employee.name})
    else:
        messages.success(request, _("%(name)s was saved.") % {"name": employee.name})
    return employee


@require_capability(Cap.MANAGE_PEOPLE)
@require_http_methods(["GET", "POST"])
def employee_create(request: HttpRequest) -> HttpResponse:
    departments = selectors.departments_visible_to(request.user)
    form = EmployeeForm(request.POST or None, departments=departments)
    if request.method == "POST" and form.is_valid():
        employee = _save_employee(request, form)
        if employee is not None:
            return redirect("console:employee_detail", pk=employee.pk)
    return render(request, "console/people/form.html", {"form": form, "employee": None})


@require_capability(Cap.MANAGE_PEOPLE)
@require_http_methods(["GET", "POST"])
def employee_edit(request: HttpRequest, pk: int) -> HttpResponse:
    employee = _visible_employee(request, pk)
    departments = selectors.departments_visible_to(request.user)
    form = EmployeeForm(request.POST or None, departments=departments, employee=employee)
    if request.method == "POST" and form.is_valid():
        saved = _save_employee(request, form)
        if saved is not None:
            return redirect("console:employee_detail", pk=saved.pk)
    return render(request, "console/people/form.html", {"form": form, "employee": employee})


@require_capability(Cap.VIEW_PEOPLE)
def employee_detail(request: HttpRequest, pk: int) -> HttpResponse:
    employee = _visible_employee(request, pk)
    roles = user_roles(employee.user) if employee.user_id else set()
    context = {
        "employee": employee,
        "roles": [r for r in Role if r.value in roles],
        "can_manage": user_can(request.user, Cap.MANAGE_PEOPLE),
        "can_assign_roles": user_can(request.user, Cap.MANAGE_SETTINGS) and employee.user_id,
        "left_form": MarkLeftForm(initial={"left_on": timezone.localdate()}),
    }
    if context["can_assign_roles"]:
        context["roles_form"] = RolesForm(
            initial={"roles": [r.value for r in ASSIGNABLE_ROLES if r.value in roles]}
        )
    if user_can(request.user, Cap.VIEW_AUDIT):
        context["history"] = selectors.employee_history(employee)
    return render(request, "console/people/detail.html", context)


@require_capability(Cap.MANAGE_PEOPLE)
@require_POST
def employee_left(request: HttpRequest, pk: int) -> HttpResponse:
    employee = _visible_employee(request, pk)
    form = MarkLeftForm(request.POST)
    left_on = form.cleaned_data["left_on"] if form.is_valid() else None
    if employee.status == EmployeeStatus.LEFT:
        messages.info(request, _("%(name)s is already marked as left.") % {"name": employee.name})
    else:
        try:
            services.mark_employee_left(employee=employee, actor=request.user, left_on=left_on)
        except errors.JifenError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%(name)s is marked as left; their sign-in is "
                                        "disabled.") % {"name": employee.name})
    return redirect("console:employee_detail", pk=employee.pk)


@require_capability(Cap.MANAGE_SETTINGS)
@require_POST
def employee_roles(request: HttpRequest, pk: int) -> HttpResponse:
    employee = _visible_employee(request, pk)
    if employee.user is None:
        return forbidden(request, _("This employee has no sign-in account."))
    form = RolesForm(request.POST)
    if form.is_valid():
        try:
            services.set_roles(user=employee.user, roles=form.cleaned_data["roles"],
                               actor=request.user)
        except errors.JifenError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Roles of %(name)s saved.") % {"name": employee.name})
    else:
        messages.error(request, _("Choose roles from the list."))
    return redirect("console:employee_detail", pk=employee.pk)


# --- departments -------------------------------------------------------------------------


def _department_rows(departments: list[Department]) -> list[dict]:
    """Tree rows with direct and whole-subtree head counts of active employees."""
    by_path = {d.path: d for d in departments}
    totals = {d.path: 0 for d in departments}
    for d in departments:
        for path in totals:
            if d.path.startswith(path):
                totals[path] += d.head_count
    base = min((d.depth for d in departments), default=0)
    return [
        {"department": by_path[p], "indent": by_path[p].depth - base, "total": totals[p]}
        for p in sorted(by_path)
    ]


@require_capability(Cap.VIEW_PEOPLE)
def departments(request: HttpRequest) -> HttpResponse:
    visible = selectors.departments_with_head_count(request.user)
    return render(request, "console/departments/list.html", {
        "rows": _department_rows(visible),
        "can_manage": user_can(request.user, Cap.MANAGE_PEOPLE),
    })


def _department_form_page(request: HttpRequest, department: Department | None) -> HttpResponse:
    visible = selectors.departments_visible_to(request.user)
    form = DepartmentForm(request.POST or None, departments=visible, department=department)
    if request.method == "POST" and form.is_valid():
        try:
            saved, created = services.upsert_department(actor=request.user,
                                                        **form.service_kwargs())
        except errors.JifenError as exc:
            field = {"unknown_department": "parent_code", "department_cycle": "parent_code",
                     "unknown_employee": "manager_employee_no", "invalid_code": "code",
                     "name_required": "name"}.get(exc.code)
            form.add_error(field, exc.message)
            form.mark_invalid()
        else:
            if created:
                messages.success(request, _("Department %(name)s was created.")
                                 % {"name": saved.name})
            else:
                messages.success(request, _("Department %(name)s was saved.")
                                 % {"name": saved.name})
            return redirect("console:departments")
    return render(request, "console/departments/form.html",
                  {"form": form, "department": department})


@require_capability(Cap.MANAGE_PEOPLE)
@require_http_methods(["GET", "POST"])
def department_create(request: HttpRequest) -> HttpResponse:
    return _department_form_page(request, None)


@require_capability(Cap.MANAGE_PEOPLE)
@require_http_methods(["GET", "POST"])
def department_edit(request: HttpRequest, pk: int) -> HttpResponse:
    department = selectors.visible_department(request.user, pk)
    if department is None:
        raise Http404
    return _department_form_page(request, department)
