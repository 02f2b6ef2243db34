from __future__ import annotations

import json

import pytest
from django.test import Client

from jifen.core.models import AuditEntry
from jifen.core.roles import Role
from jifen.integrations.services import create_api_key
from jifen.people.models import Department, Employee
from jifen.people.services import issue_access_token
from tests.factories import EmployeeFactory


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def key_with(*scopes: str) -> str:
    return create_api_key(name="test", scopes=list(scopes))[1]


def token_for(employee) -> str:
    return issue_access_token(user=employee.user)[1]


def put(client: Client, path: str, body: dict, token: str):
    return client.put(path, data=json.dumps(body), content_type="application/json",
                      **bearer(token))


@pytest.mark.django_db
class TestDepartmentsAndEmployeesUpsert:
    def test_system_key_creates_a_department_tree_then_updates_it(self, client):
        token = key_with("employees:write")
        assert put(client, "/api/v1/departments/HQ", {"name": "总部"}, token).status_code == 201
        response = put(client, "/api/v1/departments/RD", {"name": "研发", "parent_code": "HQ"},
                       token)
        assert response.status_code == 201
        assert response.json()["parent_code"] == "HQ"
        response = put(client, "/api/v1/departments/RD", {"name": "研发中心",
                                                           "parent_code": "HQ"}, token)
        assert response.status_code == 200
        assert Department.objects.get(code="RD").name == "研发中心"

    def test_employee_upsert_creates_a_login_with_the_initial_password(self, client, department):
        token = key_with("employees:write")
        response = put(client, "/api/v1/employees/E900", {
            "name": "李娜", "department_code": department.code, "email": "lina@example.com",
            "hire_date": "2020-05-01", "initial_password": "Lina-pass-2026",
        }, token)
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["username"] == "E900"
        assert "initial_password" not in body
        login = client.post("/api/v1/auth/token", data={"username": "E900",
                            "password": "Lina-pass-2026"}, content_type="application/json")
        assert login.status_code == 200
        me = client.get("/api/v1/me", **bearer(login.json()["token"]))
        assert me.json()["name"] == "李娜"
        assert me.json()["roles"] == ["employee"]

    def test_second_upsert_updates_and_records_before_and_after(self, client, department):
        token = key_with("employees:write")
        body = {"name": "王芳", "department_code": department.code}
        assert put(client, "/api/v1/employees/E901", body, token).status_code == 201
        response = put(client, "/api/v1/employees/E901", {**body, "position": "经理"}, token)
        assert response.status_code == 200
        assert Employee.objects.filter(employee_no="E901").count() == 1
        entry = AuditEntry.objects.filter(action="employee.update").get()
        assert entry.before["position"] == "" and entry.after["position"] == "经理"
        assert entry.actor_label.startswith("API key test")

    def test_unknown_department_is_422_and_creates_nothing(self, client, db):
        token = key_with("employees:write")
        response = put(client, "/api/v1/employees/E902",
                       {"name": "赵强", "department_code": "NOPE"}, token)
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "invalid_employee"
        assert "department_code" in error["details"]["fields"]
        assert not Employee.objects.filter(employee_no="E902").exists()

    def test_weak_initial_password_is_refused_without_creating_the_employee(self, client,
                                                                            department):
        token = key_with("employees:write")
        response = put(client, "/api/v1/employees/E903", {
            "name": "孙丽", "department_code": department.code, "initial_password": "123",
        }, token)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "weak_password"
        assert not Employee.objects.filter(employee_no="E903").exists()

    def test_moving_a_department_under_its_own_child_is_refused(self, client, db):
        token = key_with("employees:write")
        put(client, "/api/v1/departments/A", {"name": "A"}, token)
        put(client, "/api/v1/departments/B", {"name": "B", "parent_code": "A"}, token)
        response = put(client, "/api/v1/departments/A", {"name": "A", "parent_code": "B"}, token)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "department_cycle"
        assert Department.objects.get(code="A").parent is None

    def test_moving_a_department_moves_its_subtree(self, client, db):
        token = key_with("employees:write")
        for code, parent in [("R", None), ("X", "R"), ("Y", "R"), ("X1", "X"), ("X11", "X1")]:
            put(client, f"/api/v1/departments/{code}", {"name": code, "parent_code": parent},
                token)
        put(client, "/api/v1/departments/X", {"name": "X", "parent_code": "Y"}, token)
        y = Department.objects.get(code="Y")
        x11 = Department.objects.get(code="X11")
        assert x11.path.startswith(y.path)
        assert x11.depth == 4


@pytest.mark.django_db
class TestAuthentication:
    def test_missing_token_is_401_in_the_error_shape(self, client):
        response = client.get("/api/v1/me")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"
        assert response["WWW-Authenticate"].startswith("Bearer")

    @pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer jfk_abc_def", "Bearer jft_x",
                                        "Basic dXNlcjpwYXNz", "Bearer"])
    def test_bad_tokens_are_401(self, client, header):
        response = client.get("/api/v1/me", HTTP_AUTHORIZATION=header)
        assert response.status_code == 401
        assert set(response.json()["error"]) == {"code", "message", "details"}

    def test_key_without_the_scope_is_403(self, client, department):
        token = key_with("employees:read")
        response = put(client, "/api/v1/departments/X", {"name": "X"}, token)
        assert response.status_code == 403
        assert response.json()["error"]["details"]["required_scope"] == "employees:write"
        assert not Department.objects.filter(code="X").exists()

    def test_revoked_key_is_401(self, client, db):
        key, plain = create_api_key(name="x", scopes=["admin"])
        from jifen.integrations.services import revoke_api_key

        revoke_api_key(key=key, actor=None)
        assert client.get("/api/v1/departments", **bearer(plain)).status_code == 401

    def test_wrong_password_is_401_and_repeated_failures_are_throttled(self, client, employee):
        for _ in range(5):
            response = client.post("/api/v1/auth/token", data={"username": employee.user.username,
                                   "password": "wrong"}, content_type="application/json")
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "invalid_credentials"
        response = client.post("/api/v1/auth/token", data={"username": employee.user.username,
                               "password": "Jifen-Test-2026"}, content_type="application/json")
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "rate_limited"
        assert int(response["Retry-After"]) > 0

    def test_employee_who_left_cannot_get_a_token_and_their_tokens_stop_working(
        self, client, employee, hr_admin
    ):
        token = token_for(employee)
        from jifen.people.services import mark_employee_left

        mark_employee_left(employee=employee, actor=hr_admin.user)
        assert client.get("/api/v1/me", **bearer(token)).status_code == 401
        response = client.post("/api/v1/auth/token", data={"username": employee.user.username,
                               "password": "Jifen-Test-2026"}, content_type="application/json")
        assert response.status_code == 401

    def test_system_key_has_no_me(self, client, db):
        response = client.get("/api/v1/me", **bearer(key_with("admin")))
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "employee_only"


@pytest.mark.django_db
class TestRoleMatrixOnTheApi:
    """Employee tokens reach system endpoints only through the role policy."""

    def test_plain_employee_gets_403_on_admin_calls(self, client, employee):
        token = token_for(employee)
        assert put(client, "/api/v1/departments/X", {"name": "X"}, token).status_code == 403
        assert client.get("/api/v1/employees", **bearer(token)).status_code == 403
        assert client.get("/api/v1/departments", **bearer(token)).status_code == 403

    def test_hr_admin_token_may_upsert_employees(self, client, hr_admin, department):
        token = token_for(hr_admin)
        response = put(client, "/api/v1/employees/E950",
                       {"name": "周杰", "department_code": department.code}, token)
        assert response.status_code == 201
        entry = AuditEntry.objects.get(action="employee.create", object_repr__contains="E950")
        assert entry.actor_id == hr_admin.user.pk

    def test_manager_lists_only_their_subtree(self, client, db):
        from tests.factories import DepartmentFactory

        root = DepartmentFactory(code="ROOT")
        sales = DepartmentFactory(code="SALES", parent=root)
        east = DepartmentFactory(code="EAST", parent=sales)
        rd = DepartmentFactory(code="RD", parent=root)
        boss = EmployeeFactory(department=sales)
        DepartmentFactory._create(Department, code="SALES", name="销售", parent=root,
                                  manager=boss)
        EmployeeFactory(department=east, employee_no="EAST1")
        EmployeeFactory(department=rd, employee_no="RD1")
        boss.user.refresh_from_db()
        response = client.get("/api/v1/employees", **bearer(token_for(boss)))
        assert response.status_code == 200
        numbers = {e["employee_no"] for e in response.json()["items"]}
        assert "EAST1" in numbers and boss.employee_no in numbers
        assert "RD1" not in numbers
        assert client.get("/api/v1/employees/RD1", **bearer(token_for(boss))).status_code == 404

    def test_manager_lists_only_their_departments(self, client, db):
        from tests.factories import DepartmentFactory

        root = DepartmentFactory(code="ROOT")
        sales = DepartmentFactory(code="SALES", parent=root)
        DepartmentFactory(code="EAST", parent=sales)
        DepartmentFactory(code="RD", parent=root)
        boss = EmployeeFactory(department=sales)
        DepartmentFactory._create(Department, code="SALES", name="销售", parent=root,
                                  manager=boss)
        boss.user.refresh_from_db()
        response = client.get("/api/v1/departments", **bearer(token_for(boss)))
        assert response.status_code == 200
        assert [d["code"] for d in response.json()] == ["SALES", "EAST"]
        everything = client.get("/api/v1/departments", **bearer(key_with("employees:read")))
        assert {d["code"] for d in everything.json()} == {"ROOT", "SALES", "EAST", "RD"}

    def test_auditor_may_read_but_not_write(self, client, make_role_employee):
        auditor = make_role_employee(Role.AUDITOR)
        token = token_for(auditor)
        assert client.get("/api/v1/employees", **bearer(token)).status_code == 200
        response = put(client, "/api/v1/employees/E999",
                       {"name": "x", "department_code": auditor.department.code}, token)
        assert response.status_code == 403


@pytest.mark.django_db
class TestBadInput:
    def test_malformed_json_is_400_in_the_error_shape(self, client, db):
        response = client.put("/api/v1/departments/X", data="{not json",
                              content_type="application/json", **bearer(key_with("admin")))
        assert response.status_code in (400, 422)
        assert "error" in response.json()

    def test_wrong_types_are_422_naming_the_field(self, client, department):
        response = put(client, "/api/v1/employees/E1", {"name": "x", "department_code":
                       department.code, "hire_date": "yesterday"}, key_with("admin"))
        assert response.status_code == 422
        assert response.json()["error"]["details"]["errors"][0]["field"] == "hire_date"

    def test_unknown_status_is_422(self, client, department):
        response = put(client, "/api/v1/employees/E1", {"name": "x", "department_code":
                       department.code, "status": "retired"}, key_with("admin"))
        assert response.status_code == 422
        assert not Employee.objects.filter(employee_no="E1").exists()

    def test_pagination_walks_every_employee_once(self, client, department):
        for n in range(7):
            EmployeeFactory(department=department, employee_no=f"P{n}")
        token, seen, cursor = key_with("employees:read"), [], None
        while True:
            url = "/api/v1/employees?limit=3" + (f"&cursor={cursor}" if cursor else "")
            body = client.get(url, **bearer(token)).json()
            seen += [e["employee_no"] for e in body["items"]]
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert seen == sorted(seen) and len(seen) == len(set(seen)) == 7

    def test_garbage_cursor_is_422(self, client, db):
        response = client.get("/api/v1/employees?cursor=!!!", **bearer(key_with("admin")))
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_cursor"


@pytest.mark.django_db
def test_openapi_document_is_valid_openapi(client):
    from openapi_spec_validator import validate

    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    validate(spec)
    assert "/api/v1/employees/{employee_no}" in spec["paths"]


@pytest.mark.django_db
def test_moving_an_employee_is_audited_with_department_codes(client, department):
    from tests.factories import DepartmentFactory

    DepartmentFactory(code="OPS", name="运营")
    token = key_with("employees:write")
    put(client, "/api/v1/employees/E960", {"name": "钱多", "department_code": department.code},
        token)
    put(client, "/api/v1/employees/E960", {"name": "钱多", "department_code": "OPS"}, token)
    entry = AuditEntry.objects.get(action="employee.update")
    assert ("department", department.code, "OPS") in entry.changes()


@pytest.mark.django_db
class TestAccountsCannotBeTakenOver:
    def test_an_upsert_cannot_adopt_an_admin_login_or_reset_its_password(self, client,
                                                                         department):
        from jifen.people.models import User

        boss = User.objects.create_user("boss", password="Boss-Pass-2026", is_superuser=True)
        response = put(client, "/api/v1/employees/E999", {
            "name": "n", "department_code": department.code, "username": "boss",
            "initial_password": "Hijack-Pass-4321"}, key_with("employees:write"))
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "username_taken"
        boss.refresh_from_db()
        assert boss.check_password("Boss-Pass-2026")

    def test_initial_password_does_not_replace_a_password_already_set(self, client, employee):
        token = key_with("employees:write")
        response = put(client, f"/api/v1/employees/{employee.employee_no}", {
            "name": employee.name, "department_code": employee.department.code,
            "initial_password": "Hijack-Pass-4321"}, token)
        assert response.status_code == 200
        employee.user.refresh_from_db()
        assert employee.user.check_password("Jifen-Test-2026")
        assert not employee.user.check_password("Hijack-Pass-4321")
