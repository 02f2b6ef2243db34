"""The sign-in pages and the people pages of the console, as each role sees them."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from jifen.core.models import AuditEntry
from jifen.core.roles import Role
from jifen.people.models import Department, Employee, EmployeeStatus, User
from jifen.people.services import upsert_department
from tests.factories import PASSWORD, DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db


def signed_in(client, employee):
    client.force_login(employee.user)
    return client


@pytest.fixture
def tree(department):
    """HQ ─┬─ RD ── FE
           └─ SALES   with one employee in each and a manager for RD."""
    rd = DepartmentFactory(code="RD", name="研发中心", parent=department)
    fe = DepartmentFactory(code="RD-FE", name="前端组", parent=rd)
    sales = DepartmentFactory(code="SALES", name="销售部", parent=department)
    people = {
        "rd_person": EmployeeFactory(department=rd, name="研发甲", employee_no="R001"),
        "fe_person": EmployeeFactory(department=fe, name="前端乙", employee_no="F001"),
        "sales_person": EmployeeFactory(department=sales, name="销售丙", employee_no="S001"),
    }
    manager = EmployeeFactory(department=rd, name="经理丁", employee_no="M001")
    upsert_department(code="RD", name="研发中心", parent_code=department.code,
                      manager_employee_no=manager.employee_no)
    return {"hq": department, "rd": rd, "fe": fe, "sales": sales, "manager": manager, **people}


# --- signing in ----------------------------------------------------------------------------


def test_login_page_shows_the_platform_name(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "积分商城" in response.content.decode()


def test_signing_in_goes_to_the_portal(client, employee):
    response = client.post(reverse("login"), {"username": employee.user.username,
                                              "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("portal:home")
    assert client.get(reverse("portal:home")).status_code == 200


def test_signing_in_returns_to_a_local_next_page_only(client, employee):
    response = client.post(reverse("login"), {"username": employee.user.username,
                                              "password": PASSWORD, "next": "/orders/"})
    assert response.url == "/orders/"
    client.logout()
    response = client.post(reverse("login"), {"username": employee.user.username,
                                              "password": PASSWORD,
                                              "next": "https://evil.example/"})
    assert response.url == reverse("portal:home")


@pytest.mark.parametrize("target", ["foo", "a:b", "javascript:alert(1)", "//evil.example/"])
def test_a_next_that_is_no_local_path_goes_home_instead(client, employee, target):
    """A bare word was taken for a view name and made a 500."""
    client.force_login(employee.user)
    response = client.get(reverse("login"), {"next": target})
    assert response.status_code == 302 and response.url == reverse("portal:home")


def test_a_wrong_password_says_so(client, employee):
    response = client.post(reverse("login"), {"username": employee.user.username,
                                              "password": "nope"})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    assert response.context["form"].non_field_errors()


def test_too_many_failures_pause_sign_in_even_with_the_right_password(client, employee,
                                                                      settings):
    settings.LOGIN_THROTTLE_LIMIT = 3
    for _ in range(3):
        client.post(reverse("login"), {"username": employee.user.username, "password": "x"})
    response = client.post(reverse("login"), {"username": employee.user.username,
                                              "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    errors = " ".join(response.context["form"].non_field_errors())
    assert "15" in errors  # the wait, in minutes


def test_a_former_employee_cannot_sign_in(client, employee):
    employee.user.is_active = False
    employee.user.save()
    response = client.post(reverse("login"), {"username": employee.user.username,
                                              "password": PASSWORD})
    assert response.status_code == 400


def test_logout_needs_a_post(client, employee):
    signed_in(client, employee)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.url == reverse("login")
    assert client.get(reverse("portal:home")).status_code == 302


def test_changing_the_password_checks_the_current_one(client, employee):
    signed_in(client, employee)
    response = client.post(reverse("password_change"), {
        "old_password": "wrong", "new_password": "Brand-New-Pass-42",
        "new_password_again": "Brand-New-Pass-42",
    })
    assert response.status_code == 200
    assert response.context["form"].errors["old_password"]
    employee.user.refresh_from_db()
    assert employee.user.check_password(PASSWORD)


def test_changing_the_password_keeps_you_signed_in(client, employee):
    signed_in(client, employee)
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password": "Brand-New-Pass-42",
        "new_password_again": "Brand-New-Pass-42",
    })
    assert response.status_code == 302
    employee.user.refresh_from_db()
    assert employee.user.check_password("Brand-New-Pass-42")
    assert client.get(reverse("portal:home")).status_code == 200


def test_a_weak_new_password_is_refused_on_its_field(client, employee):
    signed_in(client, employee)
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password": "12345678", "new_password_again": "12345678",
    })
    assert response.context["form"].errors["new_password"]


# --- who may open the people pages ---------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("console:people"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert "next=/console/people/" in response.url


def test_an_employee_gets_403_on_console_pages(client, employee):
    signed_in(client, employee)
    for name in ("console:dashboard", "console:people", "console:departments",
                 "console:employee_create", "console:people_export"):
        response = client.get(reverse(name))
        assert response.status_code == 403, name
    assert client.get(reverse("console:employee_detail", args=[employee.pk])).status_code == 403


def test_a_manager_sees_only_their_subtree(client, tree):
    signed_in(client, tree["manager"])
    response = client.get(reverse("console:people"))
    assert response.status_code == 200
    listed = {e.employee_no for e in response.context["page"].object_list}
    assert listed == {"R001", "F001", "M001"}
    assert client.get(reverse("console:employee_detail", args=[tree["sales_person"].pk])
                      ).status_code == 404
    assert client.get(reverse("console:employee_detail", args=[tree["fe_person"].pk])
                      ).status_code == 200


def test_a_manager_cannot_change_people(client, tree):
    signed_in(client, tree["manager"])
    pk = tree["fe_person"].pk
    assert client.get(reverse("console:employee_edit", args=[pk])).status_code == 403
    assert client.post(reverse("console:employee_left", args=[pk])).status_code == 403
    page = client.get(reverse("console:employee_detail", args=[pk])).content.decode()
    assert reverse("console:employee_edit", args=[pk]) not in page


def test_a_manager_sees_only_their_departments(client, tree):
    signed_in(client, tree["manager"])
    response = client.get(reverse("console:departments"))
    codes = {row["department"].code for row in response.context["rows"]}
    assert codes == {"RD", "RD-FE"}


def test_an_auditor_reads_but_cannot_change_people(client, make_role_employee, employee):
    auditor = make_role_employee(Role.AUDITOR)
    signed_in(client, auditor)
    assert client.get(reverse("console:people")).status_code == 200
    assert client.get(reverse("console:employee_detail", args=[employee.pk])).status_code == 200
    response = client.post(reverse("console:employee_edit", args=[employee.pk]), {
        "name": "改名", "department_code": employee.department.code, "status": "active",
    })
    assert response.status_code == 403
    assert client.post(reverse("console:employee_create"), {}).status_code == 403
    assert client.get(reverse("console:people_export")).status_code == 403
    employee.refresh_from_db()
    assert employee.name == "张伟"


# --- the list --------------------------------------------------------------------------


def test_the_list_searches_filters_by_department_subtree_and_status(client, tree, hr_admin):
    signed_in(client, hr_admin)
    Employee.objects.filter(pk=tree["rd_person"].pk).update(status=EmployeeStatus.LEFT)

    def listed(**params):
        response = client.get(reverse("console:people"), params)
        return {e.employee_no for e in response.context["page"].object_list}

    assert listed(q="前端") == {"F001"}
    assert listed(department="RD") == {"R001", "F001", "M001"}
    assert listed(department="RD", status="active") == {"F001", "M001"}
    assert listed(status="left") == {"R001"}


def test_the_list_pages_through_many_people(client, hr_admin, department):
    for n in range(25):
        EmployeeFactory(department=department, employee_no=f"P{n:03d}")
    signed_in(client, hr_admin)
    first = client.get(reverse("console:people"))
    page = first.context["page"]
    assert len(page.object_list) == 20 and page.has_next and not page.has_previous
    second = client.get(reverse("console:people"), {"after": page.next_cursor})
    rest = second.context["page"]
    assert len(rest.object_list) == 6 and rest.has_previous and not rest.has_next
    assert 'rel="next"' in first.content.decode()


def test_an_htmx_search_returns_only_the_results(client, hr_admin):
    signed_in(client, hr_admin)
    response = client.get(reverse("console:people"), {"q": "人事"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body
    assert 'data-testid="people-table"' in body
    assert "人事管理员" in body


def test_an_empty_result_says_what_to_do(client, hr_admin):
    signed_in(client, hr_admin)
    response = client.get(reverse("console:people"), {"q": "nobody-like-this"})
    assert 'data-testid="people-empty"' in response.content.decode()


def test_the_list_links_to_the_bulk_import(client, hr_admin):
    signed_in(client, hr_admin)
    assert "/console/people/import/" in client.get(reverse("console:people")).content.decode()


# --- export ----------------------------------------------------------------------------


def test_xlsx_export_contains_the_filtered_rows(client, tree, hr_admin):
    signed_in(client, hr_admin)
    response = client.get(reverse("console:people_export"), {"department": "RD",
                                                             "format": "xlsx"})
    assert response.status_code == 200
    assert "spreadsheetml" in response["Content-Type"]
    assert response["Content-Disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows[0]) == 12  # the last: points balance, for those who may see the ledger
    numbers = {row[0] for row in rows[1:]}
    assert numbers == {"R001", "F001", "M001"}
    fe_row = next(row for row in rows if row[0] == "F001")
    assert fe_row[1] == "前端乙" and fe_row[2] == "前端组"


def test_csv_export_has_a_bom_so_excel_reads_chinese(client, tree, hr_admin):
    signed_in(client, hr_admin)
    response = client.get(reverse("console:people_export"), {"q": "销售", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["S001"]
    assert rows[1][1] == "销售丙"


# --- create, edit, leave -------------------------------------------------------------------


def employee_post(**overrides):
    data = {"employee_no": "N100", "name": "新同事", "department_code": "HQ",
            "email": "new@example.com", "phone": "", "position": "工程师", "grade": "P5",
            "hire_date": "2025-03-01", "status": "active", "username": "",
            "initial_password": ""}
    data.update(overrides)
    return data


def test_hr_admin_adds_an_employee_who_can_then_sign_in(client, hr_admin, department):
    signed_in(client, hr_admin)
    response = client.post(reverse("console:employee_create"),
                           employee_post(initial_password="Welcome-2026-jf"))
    employee = Employee.objects.get(employee_no="N100")
    assert response.url == reverse("console:employee_detail", args=[employee.pk])
    assert employee.department == department and employee.position == "工程师"
    assert User.objects.get(username="N100").check_password("Welcome-2026-jf")
    assert AuditEntry.objects.filter(action="employee.create", object_id=str(employee.pk)).exists()


def test_adding_shows_errors_on_the_fields(client, hr_admin, department):
    signed_in(client, hr_admin)
    response = client.post(reverse("console:employee_create"),
                           employee_post(email="not-an-email", name=""))
    form = response.context["form"]
    assert "email" in form.errors and "name" in form.errors
    assert 'is-invalid' in response.content.decode()
    assert not Employee.objects.filter(employee_no="N100").exists()


def test_a_weak_initial_password_is_shown_on_its_field(client, hr_admin, department):
    signed_in(client, hr_admin)
    response = client.post(reverse("console:employee_create"),
                           employee_post(initial_password="123"))
    assert response.status_code == 200
    assert response.context["form"].errors["initial_password"]
    assert not Employee.objects.filter(employee_no="N100").exists()


def test_adding_a_taken_employee_number_does_not_overwrite_anyone(client, hr_admin, employee):
    signed_in(client, hr_admin)
    response = client.post(reverse("console:employee_create"),
                           employee_post(employee_no=employee.employee_no, name="冒名"))
    assert response.context["form"].errors["employee_no"]
    employee.refresh_from_db()
    assert employee.name == "张伟"


def test_editing_an_employee_is_audited_with_before_and_after(client, hr_admin, employee,
                                                              make_role_employee):
    signed_in(client, hr_admin)
    form_page = client.get(reverse("console:employee_edit", args=[employee.pk]))
    assert form_page.context["form"]["name"].value() == "张伟"
    response = client.post(reverse("console:employee_edit", args=[employee.pk]), employee_post(
        employee_no="ignored", name="张伟", position="高级工程师",
        username=employee.user.username,
    ))
    assert response.status_code == 302
    employee.refresh_from_db()
    assert employee.position == "高级工程师"
    assert employee.employee_no != "ignored"
    entry = AuditEntry.objects.get(action="employee.update", object_id=str(employee.pk))
    assert ("position", "", "高级工程师") in entry.changes()
    assert entry.actor == hr_admin.user

    auditor = make_role_employee(Role.AUDITOR)
    client.force_login(auditor.user)
    page = client.get(reverse("console:audit"), {"action": "employee.update"}).content.decode()
    assert "高级工程师" in page and hr_admin.name in page


def test_marking_an_employee_as_left_disables_their_sign_in(client, hr_admin, employee):
    signed_in(client, hr_admin)
    response = client.post(reverse("console:employee_left", args=[employee.pk]),
                           {"left_on": "2026-06-30"})
    assert response.status_code == 302
    employee.refresh_from_db()
    assert employee.status == EmployeeStatus.LEFT
    assert str(employee.left_on) == "2026-06-30"
    assert not User.objects.get(pk=employee.user_id).is_active


def test_the_detail_page_asks_before_marking_as_left(client, hr_admin, employee):
    signed_in(client, hr_admin)
    page = client.get(reverse("console:employee_detail", args=[employee.pk])).content.decode()
    assert 'id="left-modal"' in page
    assert reverse("console:employee_left", args=[employee.pk]) in page


# --- roles -----------------------------------------------------------------------------


def test_a_super_admin_assigns_admin_roles(client, super_admin, employee):
    signed_in(client, super_admin)
    response = client.post(reverse("console:employee_roles", args=[employee.pk]),
                           {"roles": [Role.AUDITOR, Role.MALL_ADMIN]})
    assert response.status_code == 302
    groups = set(employee.user.groups.values_list("name", flat=True))
    assert {Role.AUDITOR, Role.MALL_ADMIN, Role.EMPLOYEE} <= groups
    assert AuditEntry.objects.filter(action="user.roles").exists()


def test_an_hr_admin_cannot_assign_roles(client, hr_admin, employee):
    signed_in(client, hr_admin)
    page = client.get(reverse("console:employee_detail", args=[employee.pk])).content.decode()
    assert 'data-testid="roles-form"' not in page
    response = client.post(reverse("console:employee_roles", args=[employee.pk]),
                           {"roles": [Role.SUPER_ADMIN]})
    assert response.status_code == 403
    assert not employee.user.groups.filter(name=Role.SUPER_ADMIN).exists()


def test_a_super_admin_cannot_drop_their_own_super_admin_role(client, super_admin):
    signed_in(client, super_admin)
    client.post(reverse("console:employee_roles", args=[super_admin.pk]), {"roles": []})
    assert super_admin.user.groups.filter(name=Role.SUPER_ADMIN).exists()


# --- departments -----------------------------------------------------------------------


def test_the_department_tree_shows_managers_and_head_counts(client, tree, hr_admin):
    signed_in(client, hr_admin)
    response = client.get(reverse("console:departments"))
    rows = {row["department"].code: row for row in response.context["rows"]}
    assert rows["RD"]["department"].head_count == 2  # 研发甲 and the manager
    assert rows["RD"]["total"] == 3  # plus 前端乙 below
    assert rows["HQ"]["total"] == 5  # everyone incl. hr_admin
    assert list(rows) == ["HQ", "RD", "RD-FE", "SALES"]
    assert "经理丁" in response.content.decode()


def test_hr_admin_creates_and_moves_a_department(client, tree, hr_admin):
    signed_in(client, hr_admin)
    response = client.post(reverse("console:department_create"), {
        "code": "RD-QA", "name": "测试组", "parent_code": "RD", "manager_employee_no": "",
    })
    assert response.status_code == 302
    qa = Department.objects.get(code="RD-QA")
    assert qa.parent == tree["rd"]
    client.post(reverse("console:department_edit", args=[qa.pk]), {
        "code": "ignored", "name": "质量组", "parent_code": "SALES",
        "manager_employee_no": "S001",
    })
    qa.refresh_from_db()
    assert (qa.code, qa.name, qa.parent.code, qa.manager.employee_no) == (
        "RD-QA", "质量组", "SALES", "S001")


def test_department_errors_are_shown_on_the_form(client, tree, hr_admin):
    signed_in(client, hr_admin)
    response = client.post(reverse("console:department_create"), {
        "code": "RD", "name": "重复", "parent_code": "", "manager_employee_no": "",
    })
    assert response.context["form"].errors["code"]
    response = client.post(reverse("console:department_create"), {
        "code": "NEW", "name": "新部门", "parent_code": "", "manager_employee_no": "NOBODY",
    })
    assert response.context["form"].errors["manager_employee_no"]
    assert not Department.objects.filter(code="NEW").exists()
    # A department cannot be moved under its own child: the child is not even offered.
    form = client.get(reverse("console:department_edit", args=[tree["rd"].pk])).context["form"]
    offered = {code for code, _label in form.fields["parent_code"].choices}
    assert "RD-FE" not in offered and "SALES" in offered


def test_an_expired_form_explains_itself_instead_of_a_bare_csrf_error(employee):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": employee.user.username,
                                              "password": PASSWORD})
    assert response.status_code == 403
    assert "页面已过期" in response.content.decode()


def test_the_people_list_costs_the_same_queries_for_many_rows(client, hr_admin, department,
                                                              django_assert_max_num_queries):
    for n in range(30):
        EmployeeFactory(department=department, employee_no=f"Q{n:03d}")
    signed_in(client, hr_admin)
    client.get(reverse("console:people"))  # warm the site-settings cache
    with django_assert_max_num_queries(12):
        response = client.get(reverse("console:people"), {"department": "HQ"})
    assert len(response.context["page"].object_list) == 20
