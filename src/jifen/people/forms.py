"""Forms of the sign-in and people pages. They parse and check shape only; the rules of
the business (unknown department, weak password, …) are the services' to enforce."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jifen.core.forms import StyledForm
from jifen.core.roles import Role
from jifen.people import selectors
from jifen.people.models import Department, Employee, EmployeeStatus
from jifen.people.services import EmployeeData

INDENT = "\u3000"  # an ideographic space: indents a tree in a <select>
ASSIGNABLE_ROLES = (Role.HR_ADMIN, Role.MALL_ADMIN, Role.AUDITOR, Role.SUPER_ADMIN)


def department_choices(departments: Iterable[Department], blank: str) -> list[tuple[str, str]]:
    """Departments as (code, indented name) in tree order, for a select."""
    rows = sorted(departments, key=lambda d: d.path)
    base = min((d.depth for d in rows), default=0)
    return [("", blank)] + [
        (d.code, INDENT * (d.depth - base) + d.name) for d in rows
    ]


class LoginForm(StyledForm, forms.Form):
    username = forms.CharField(
        label=_("Username"), max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True,
                                      "placeholder": _("Employee number or username")}),
    )
    password = forms.CharField(
        label=_("Password"), max_length=256, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password",
                                          "placeholder": _("Your password")}),
    )


class PasswordChangeForm(StyledForm, forms.Form):
    old_password = forms.CharField(
        label=_("Current password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("New password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters, not only digits, not a common password."),
    )
    new_password_again = forms.CharField(
        label=_("New password again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get(
            "new_password_again"
        ):
            self.add_error("new_password_again", _("The two new passwords differ."))
        return data


class PeopleFilterForm(StyledForm, forms.Form):
    q = forms.CharField(
        label=_("Search"), required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Name, number, e-mail or phone"),
                                      "type": "search"}),
    )
    department = forms.ChoiceField(label=_("Department"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False,
        choices=[("", _("Any status")), *EmployeeStatus.choices],
    )

    def __init__(self, *args: Any, departments: Iterable[Department] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.departments = {d.code: d for d in departments}
        self.fields["department"].choices = department_choices(
            self.departments.values(), _("All departments")
        )

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for ``selectors.search_employees`` (empty when invalid)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "q": data["q"].strip(),
            "department": self.departments.get(data["department"]),
            "status": data["status"],
        }


class EmployeeForm(StyledForm, forms.Form):
    employee_no = forms.CharField(label=_("Employee number"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=100)
    department_code = forms.ChoiceField(label=_("Department"))
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    position = forms.CharField(label=_("Position"), max_length=100, required=False)
    grade = forms.CharField(label=_("Grade"), max_length=20, required=False)
    hire_date = forms.DateField(label=_("Hire date"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(label=_("Status"), choices=EmployeeStatus.choices,
                               initial=EmployeeStatus.ACTIVE)
    username = forms.CharField(
        label=_("Username"), max_length=150, required=False,
        help_text=_("For signing in. Leave empty to use the employee number."),
    )
    initial_password = forms.CharField(
        label=_("Password"), required=False, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Sets a new password. Leave empty to keep the current one."),
    )

    def __init__(self, *args: Any, departments: Iterable[Department] = (),
                 employee: Employee | None = None, **kwargs: Any):
        if employee is not None and kwargs.get("initial") is None:
            kwargs["initial"] = {
                "employee_no": employee.employee_no, "name": employee.name,
                "department_code": employee.department.code, "email": employee.email,
                "phone": employee.phone, "position": employee.position,
                "grade": employee.grade, "hire_date": employee.hire_date,
                "status": employee.status,
                "username": employee.user.username if employee.user_id else "",
            }
        super().__init__(*args, **kwargs)
        self.employee = employee
        self.fields["department_code"].choices = department_choices(
            departments, _("Choose a department")
        )
        if employee is not None:
            # The number is the key other systems use; it does not change here.
            self.fields["employee_no"].disabled = True
            self.fields["employee_no"].initial = employee.employee_no

    def clean_employee_no(self) -> str:
        value = self.cleaned_data["employee_no"].strip()
        if self.employee is None and selectors.employee_no_taken(value):
            raise forms.ValidationError(_("Employee number %(no)s is already taken."),
                                        params={"no": value})
        return value

    def to_data(self) -> EmployeeData:
        data = self.cleaned_data
        return EmployeeData(
            employee_no=self.employee.employee_no if self.employee else data["employee_no"],
            name=data["name"], department_code=data["department_code"],
            email=data["email"], phone=data["phone"], position=data["position"],
            grade=data["grade"], hire_date=data["hire_date"], status=data["status"],
            username=data["username"] or None, initial_password=data["initial_password"] or None,
        )


class DepartmentForm(StyledForm, forms.Form):
    code = forms.CharField(label=_("Code"), max_length=40,
                           help_text=_("A short stable key, e.g. RD-FE. Used by imports and "
                                       "the API."))
    name = forms.CharField(label=_("Name"), max_length=100)
    parent_code = forms.ChoiceField(label=_("Parent department"), required=False)
    manager_employee_no = forms.CharField(
        label=_("Manager's employee number"), max_length=40, required=False,
        help_text=_("The manager sees this department and everything below it."),
    )

    def __init__(self, *args: Any, departments: Iterable[Department] = (),
                 department: Department | None = None, **kwargs: Any):
        if department is not None and kwargs.get("initial") is None:
            kwargs["initial"] = {
                "code": department.code, "name": department.name,
                "parent_code": department.parent.code if department.parent_id else "",
                "manager_employee_no": department.manager.employee_no
                if department.manager_id else "",
            }
        super().__init__(*args, **kwargs)
        self.department = department
        candidates = [
            d for d in departments
            if department is None or not d.path.startswith(department.path)
        ]
        self.fields["parent_code"].choices = department_choices(candidates,
                                                                _("— top level —"))
        if department is not None:
            self.fields["code"].disabled = True

    def clean_code(self) -> str:
        value = self.cleaned_data["code"].strip()
        if self.department is None and selectors.department_by_code(value) is not None:
            raise forms.ValidationError(_("Department code %(code)s is already taken."),
                                        params={"code": value})
        return value

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "code": self.department.code if self.department else data["code"],
            "name": data["name"],
            "parent_code": data["parent_code"] or None,
            "manager_employee_no": data["manager_employee_no"].strip() or None,
        }


class RolesForm(StyledForm, forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Admin roles"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(r.value, r.label) for r in ASSIGNABLE_ROLES],
    )


class MarkLeftForm(StyledForm, forms.Form):
    left_on = forms.DateField(label=_("Last day"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
