"""Finding colleagues in a people picker (``people.selectors.search_colleagues``) and its API
call ``GET /api/v1/people/search``: by name, full pinyin, pinyin initials, department and
number, never oneself or someone who left, a bounded list — on every database."""

from __future__ import annotations

import pytest
from django.test import Client

from jifen.integrations.services import create_api_key
from jifen.people import selectors
from jifen.people.models import Employee, EmployeeStatus
from jifen.people.pinyin import search_keys
from jifen.people.services import (
    EmployeeData,
    import_employees,
    issue_access_token,
    upsert_employee,
)
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(department):
    rd = DepartmentFactory(code="RD", name="研发中心", parent=department)
    sales = DepartmentFactory(code="SALES", name="销售部", parent=department)
    return {
        "me": EmployeeFactory(department=rd, name="张伟", employee_no="E100"),
        "zhang": EmployeeFactory(department=rd, name="张伟", employee_no="E101"),
        "zhao": EmployeeFactory(department=sales, name="赵敏", employee_no="E102"),
        "shan": EmployeeFactory(department=sales, name="单丽", employee_no="E103"),
        "li": EmployeeFactory(department=sales, name="李明", employee_no="E104"),
        "gone": EmployeeFactory(department=rd, name="张薇", employee_no="E105",
                                status=EmployeeStatus.LEFT),
        "alice": EmployeeFactory(department=rd, name="Alice Wang", employee_no="E106"),
    }


def numbers(found) -> list[str]:
    return [e.employee_no for e in found]


def test_keys_are_full_pinyin_and_initials_with_a_surname_reading_first():
    assert search_keys("张伟") == ("zhangwei", "zw")
    # 单 as a surname reads "shan"; the everyday reading "dan" is kept as an alternative.
    assert search_keys("单丽") == ("shanli danli", "sl dl")
    assert search_keys("Alice Wang") == ("alicewang", "aw")


def test_found_by_chinese_name_but_never_oneself_or_a_leaver(people):
    found = selectors.search_colleagues("张", viewer=people["me"])
    assert numbers(found) == ["E101"]


def test_found_by_full_pinyin_with_or_without_spaces_and_case(people):
    assert numbers(selectors.search_colleagues("zhangwei", viewer=people["me"])) == ["E101"]
    assert numbers(selectors.search_colleagues("Zhang Wei", viewer=people["me"])) == ["E101"]
    assert "E102" in numbers(selectors.search_colleagues("zhao", viewer=people["me"]))


def test_found_by_pinyin_initials(people):
    assert numbers(selectors.search_colleagues("zw", viewer=people["me"])) == ["E101"]
    assert numbers(selectors.search_colleagues("lm", viewer=people["me"])) == ["E104"]
    assert numbers(selectors.search_colleagues("aw", viewer=people["me"])) == ["E106"]


def test_a_polyphone_surname_is_found_by_either_reading(people):
    assert numbers(selectors.search_colleagues("shanli", viewer=people["me"])) == ["E103"]
    assert numbers(selectors.search_colleagues("sl", viewer=people["me"])) == ["E103"]
    assert numbers(selectors.search_colleagues("danli", viewer=people["me"])) == ["E103"]


def test_found_by_department_name_and_employee_number(people):
    assert set(numbers(selectors.search_colleagues("销售", viewer=people["me"]))) == {
        "E102", "E103", "E104"}
    assert numbers(selectors.search_colleagues("e104", viewer=people["me"])) == ["E104"]


def test_the_exact_name_comes_before_other_matches(people):
    EmployeeFactory(department=people["zhang"].department, name="张伟明", employee_no="E001")
    found = numbers(selectors.search_colleagues("张伟", viewer=people["me"]))
    assert found == ["E101", "E001"]


def test_the_list_is_bounded_and_an_empty_query_finds_nobody(people, department):
    for n in range(30):
        EmployeeFactory(department=department, name=f"王{n}", employee_no=f"W{n:03d}")
    assert len(selectors.search_colleagues("王", viewer=None)) == 10
    assert len(selectors.search_colleagues("王", viewer=None, limit=500)) == 20
    assert selectors.search_colleagues("   ", viewer=None) == []
    # A query longer than any name is cut, not sent to the database whole.
    assert selectors.search_colleagues("w" * 10_000, viewer=None) == []


def test_the_services_keep_the_keys_in_step_with_the_name(department):
    employee, _ = upsert_employee(data=EmployeeData(
        employee_no="K001", name="曾小贤", department_code=department.code))
    assert (employee.name_pinyin, employee.name_initials) == (
        "zengxiaoxian cengxiaoxian", "zxx cxx")
    upsert_employee(data=EmployeeData(
        employee_no="K001", name="胡一菲", department_code=department.code))
    assert Employee.objects.get(employee_no="K001").name_initials == "hyf"


def test_an_import_keeps_the_keys_in_step(department):
    rows = [EmployeeData(employee_no="I001", name="欧阳娜娜", department_code=department.code)]
    import_employees(rows=rows, actor=None)
    assert Employee.objects.get(employee_no="I001").name_initials == "oynn"
    rows = [EmployeeData(employee_no="I001", name="吕子乔", department_code=department.code)]
    import_employees(rows=rows, actor=None)
    assert Employee.objects.get(employee_no="I001").name_pinyin == "lvziqiao"
    assert numbers(selectors.search_colleagues("lzq", viewer=None)) == ["I001"]


# --- the API ------------------------------------------------------------------------------


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_an_employee_finds_colleagues_with_public_fields_only(client: Client, people):
    token = issue_access_token(user=people["me"].user)[1]
    response = client.get("/api/v1/people/search", {"q": "zw"}, **bearer(token))
    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["employee_no"] == "E101" and item["name"] == "张伟"
    assert item["department"] == "研发中心"
    assert item["avatar"]["initials"] == "张伟" and 0 <= item["avatar"]["colour"] < 8
    assert set(item) == {"employee_no", "name", "department", "avatar"}


def test_a_key_needs_employees_read(client: Client, people):
    weak = create_api_key(name="t", scopes=["events:write"])[1]
    assert client.get("/api/v1/people/search", {"q": "zw"},
                      **bearer(weak)).status_code == 403
    strong = create_api_key(name="t", scopes=["employees:read"])[1]
    response = client.get("/api/v1/people/search", {"q": "zw"}, **bearer(strong))
    # A system has no "self": both 张伟 are found.
    assert numbers_of(response) == ["E100", "E101"]
    assert client.get("/api/v1/people/search", {"q": "zw"}).status_code == 401


def test_the_api_limit_is_bounded(client: Client, people):
    token = issue_access_token(user=people["me"].user)[1]
    assert client.get("/api/v1/people/search", {"q": "z", "limit": 21},
                      **bearer(token)).status_code == 422


def numbers_of(response) -> list[str]:
    return [i["employee_no"] for i in response.json()["items"]]
