"""The employee spreadsheet import: columns, parsing and the bulk commit
(the mechanism is ``jifen.core.imports``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jifen.core.imports import (
    Importer,
    ImportField,
    Problem,
    RowResult,
    cell_date,
    cell_text,
    normalize_header,
    register,
)
from jifen.core.models import ImportJob
from jifen.people import selectors
from jifen.people.models import Department, EmployeeStatus
from jifen.people.services import (
    EmployeeData,
    check_employee_rows,
    check_offboarding_rows,
    check_renaming_rows,
    import_employees,
)

STATUS_VALUES: dict[str, str] = {
    normalize_header(text): status
    for status, texts in (
        (EmployeeStatus.ACTIVE, ("active", "在职", "正式", "试用", "试用期", "在岗")),
        (EmployeeStatus.LEFT, ("left", "离职", "已离职", "inactive")),
    )
    for text in texts
}


@dataclass
class Departments:
    """All departments, loaded once per import: by code, and by name when the name is
    unique (a name shared by two departments cannot say which one is meant)."""

    by_code: dict[str, Department]
    by_name: dict[str, list[Department]]

    @classmethod
    def load(cls) -> Departments:
        by_code: dict[str, Department] = {}
        by_name: dict[str, list[Department]] = {}
        for dept in selectors.all_departments():
            by_code[dept.code] = dept
            by_name.setdefault(dept.name.strip(), []).append(dept)
        return cls(by_code=by_code, by_name=by_name)

    def resolve(self, code: str, name: str) -> tuple[str, Problem | None]:
        """The department code for a row. The code column is authoritative; a name (in the
        name column, or in the code column when no department has that code) is accepted
        when exactly one department has it."""
        if code and code in self.by_code:
            return code, None
        lookup = code or name
        if not lookup:
            return "", None
        matches = self.by_name.get(lookup, [])
        if len(matches) == 1:
            return matches[0].code, None
        if len(matches) > 1:
            return lookup, ("department_code", _(
                "More than one department is called %s; give the department code instead."
            ) % lookup)
        # Unknown: validate_employee_data names it.
        return lookup, None


@register
class EmployeeImporter(Importer):
    kind = "people.employees"
    scope = "employees:write"
    verbose_name = gettext_lazy("employees")
    fields = (
        ImportField("employee_no", gettext_lazy("Employee number"),
                    ("工号", "员工编号", "员工号", "职工号", "employee number", "emp no"),
                    required=True),
        ImportField("name", gettext_lazy("Name"), ("姓名", "员工姓名", "名字", "full name"),
                    required=True),
        ImportField("department_code", gettext_lazy("Department code"),
                    ("部门编码", "部门代码", "部门编号", "dept code"),
                    help_text=gettext_lazy("Authoritative. Give the code or the name.")),
        ImportField("department_name", gettext_lazy("Department name"),
                    ("部门", "部门名称", "所属部门", "department", "dept"),
                    help_text=gettext_lazy("Used when there is no code; must be unique.")),
        ImportField("email", gettext_lazy("E-mail"),
                    ("邮箱", "电子邮箱", "电子邮件", "邮件", "e-mail", "mail")),
        ImportField("phone", gettext_lazy("Phone"),
                    ("手机", "手机号", "手机号码", "电话", "联系电话", "mobile")),
        ImportField("position", gettext_lazy("Position"),
                    ("职位", "岗位", "职务", "title", "job title")),
        ImportField("grade", gettext_lazy("Grade"), ("职级", "级别", "等级", "level")),
        ImportField("hire_date", gettext_lazy("Hire date"),
                    ("入职日期", "入职时间", "hire date", "start date", "date hired"),
                    help_text=gettext_lazy("An Excel date, 2024-03-01 or 2024/3/1.")),
        ImportField("status", gettext_lazy("Status"), ("状态", "在职状态", "员工状态"),
                    help_text=gettext_lazy("active or left (在职 / 离职); empty means active.")),
        ImportField("username", gettext_lazy("Username"),
                    ("用户名", "账号", "登录名", "登录账号", "login"),
                    help_text=gettext_lazy("Defaults to the employee number.")),
    )
    example_row = {
        "employee_no": "E10001", "name": "张三", "department_code": "HQ",
        "department_name": "", "email": "zhangsan@example.com", "phone": "13800138000",
        "position": "工程师", "grade": "P5", "hire_date": "2024-03-01", "status": "在职",
        "username": "",
    }

    def mapping_problems(self, mapping: dict[str, int | None], columns: int) -> list[str]:
        problems = super().mapping_problems(mapping, columns)
        if mapping.get("department_code") is None and mapping.get("department_name") is None:
            problems.append(_("Choose the column for the department code or name."))
        return problems

    def begin(self) -> Departments:
        return Departments.load()

    def parse(self, values: dict[str, Any], context: Departments,
              ) -> tuple[EmployeeData, list[Problem]]:
        text = {name: cell_text(value) for name, value in values.items()}
        problems: list[Problem] = []
        hire_date = None
        try:
            hire_date = cell_date(values.get("hire_date"))
        except ValueError:
            problems.append(("hire_date", _("%s is not a date; write it like 2024-03-01.")
                             % text["hire_date"]))
        status = text.get("status", "")
        status = STATUS_VALUES.get(normalize_header(status), status) if status else (
            EmployeeStatus.ACTIVE
        )
        code, problem = context.resolve(text.get("department_code", ""),
                                        text.get("department_name", ""))
        if problem:
            problems.append(problem)
        data = EmployeeData(
            employee_no=text.get("employee_no", ""), name=text.get("name", ""),
            department_code=code, email=text.get("email", ""), phone=text.get("phone", ""),
            position=text.get("position", ""), grade=text.get("grade", ""),
            hire_date=hire_date, status=status, username=text.get("username") or None,
        )
        return data, problems

    def check_batch(self, results: list[RowResult], context: Departments) -> None:
        found = check_employee_rows([r.item for r in results], context.by_code)
        for index, problems in found.items():
            for field_name, message in problems:
                results[index].add(field_name, message)

    def check_actor(self, results: list[RowResult], context: Departments, actor: Any) -> None:
        # A row marking a super admin as left, when ``actor`` is not one: the commit would
        # refuse the whole file, so the preview says so on that row.
        rows = [r.item for r in results]
        for index, message in check_offboarding_rows(rows, actor).items():
            results[index].add("status", message)
        # Likewise a row renaming the login of an account with admin powers.
        for index, message in check_renaming_rows(rows, actor).items():
            results[index].add("username", message)

    def commit(self, items: list[EmployeeData], *, actor: Any, job: ImportJob,
               progress: Any) -> dict[str, int]:
        result = import_employees(
            rows=items, actor=actor,
            reference=_("Import #%(id)d: %(file)s") % {"id": job.pk, "file": job.original_name},
        )
        return result.as_dict()
