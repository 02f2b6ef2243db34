"""The audit log in words: objects named and linked (where the reader may follow), stored
codes shown as their labels and related objects by name, in the reader's language, with
a bounded number of queries for a page of entries."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from jifen.core.models import AuditEntry
from jifen.core.roles import Role
from jifen.core.selectors import described_audit_entries, search_audit_log
from jifen.mall import services as mall
from jifen.mall.models import Fulfilment, ItemStatus
from jifen.people.services import EmployeeData, upsert_employee
from jifen.people.services.employees import employee_audit_snapshot
from tests.factories import DepartmentFactory, EmployeeFactory
from tests.mall.conftest import fund

pytestmark = pytest.mark.django_db


def _english(client: Client, url: str) -> str:
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        return client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.fixture
def auditor(department):
    return EmployeeFactory(department=department, name="Audrey", roles=[Role.AUDITOR])


def _move(employee, department, actor):
    data = EmployeeData(**{**{k: v for k, v in employee_audit_snapshot(employee).items()
                              if k in ("employee_no", "name", "email", "phone", "position",
                                       "grade", "hire_date", "status")},
                           "department_code": department.code})
    return upsert_employee(data=data, actor=actor)[0]


def test_a_department_change_shows_the_departments_names_not_their_codes(
        super_admin, auditor):
    general = DepartmentFactory(code="GM", name="General management")
    sales = DepartmentFactory(code="SL", name="Sales")
    person = EmployeeFactory(department=general, name="Wei Zhang", employee_no="JF0001")
    with translation.override("zh-hans"):
        _move(person, sales, super_admin.user)
    client = Client()
    client.force_login(super_admin.user)
    page = _english(client, reverse("console:audit") + "?action=employee.update")
    assert "General management" in page and "Sales" in page
    assert not re.search(r">\s*GM\s*<", page) and not re.search(r">\s*SL\s*<", page)
    # The employee, named and linked for a reader who may see people.
    link = reverse("console:employee_detail", args=[person.pk])
    assert f'href="{link}"' in page
    assert "Employee Wei Zhang (JF0001)" in page
    assert not re.search(r">[^<]*people\.employee", page)


def test_a_status_is_shown_by_its_label_in_the_readers_language(super_admin):
    person = EmployeeFactory(name="Li Na")
    with translation.override("zh-hans"):
        from jifen.people.services import mark_employee_left

        mark_employee_left(employee=person, actor=super_admin.user)
    entry = search_audit_log(action="employee.left").get()
    with translation.override("en"):
        [entry] = described_audit_entries([entry])
        changes = {field: (old, new) for field, old, new in entry.labelled_changes()}
    assert changes["status"] == ("Active", "Left")
    with translation.override("zh-hans"):
        [entry] = described_audit_entries([search_audit_log(action="employee.left").get()])
        changes = dict((f, (o, n)) for f, o, n in entry.labelled_changes())
    assert changes["状态"][0] != "active" and changes["状态"][1] != "left"


@pytest.fixture
def delivered_order(super_admin):
    buyer = EmployeeFactory(name="Ming Li")
    fund(buyer, 500)
    category = mall.save_category(actor=super_admin.user, name="Gadgets")
    item = mall.create_item(actor=super_admin.user, name="Headphones", points=100,
                            status=ItemStatus.LISTED, fulfilment=Fulfilment.SHIPPED,
                            category=category)
    address = mall.add_address(employee=buyer, recipient="Ming Li", phone="13800138000",
                               region="Shanghai", address="88 Zhangjiang Road")
    order = mall.create_order(employee=buyer, item=item, address=address,
                              idempotency_key="words-order-1")
    with translation.override("zh-hans"):
        mall.approve_order(order=order, actor=super_admin.user)
        mall.ship_order(order=order, actor=super_admin.user, carrier="SF", tracking_no="SF1")
        mall.deliver_order(order=order, actor=super_admin.user)
    order.refresh_from_db()
    return order


def test_an_order_is_named_by_its_number_with_states_as_words(super_admin, delivered_order):
    client = Client()
    client.force_login(super_admin.user)
    page = _english(client, reverse("console:audit") + "?action=mall.order.deliver")
    assert f"Order {delivered_order.number}" in page
    assert f'href="{reverse("console:mall_order", args=[delivered_order.pk])}"' in page
    assert re.search(r">\s*Shipped\s*<", page) and re.search(r">\s*Delivered\s*<", page)
    assert not re.search(r">\s*(shipped|delivered)\s*<", page)
    assert not re.search(r">[^<]*mall\.order", page)  # the code only in a tooltip


def test_a_link_is_given_only_to_readers_who_may_follow_it(auditor, delivered_order):
    client = Client()
    client.force_login(auditor.user)
    page = _english(client, reverse("console:audit") + "?action=mall.order.deliver")
    assert f"Order {delivered_order.number}" in page  # named…
    assert reverse("console:mall_order", args=[delivered_order.pk]) not in page  # …not linked


def test_roles_are_named(super_admin):
    from jifen.people.services import set_roles

    person = EmployeeFactory(name="Jun Wang")
    set_roles(user=person.user, roles=[Role.HR_ADMIN, Role.AUDITOR], actor=super_admin.user)
    with translation.override("en"):
        [entry] = described_audit_entries([search_audit_log(action="user.roles").get()])
        [(field, _old, new)] = entry.labelled_changes()
    assert field == "roles" and set(new) == {"Auditor", "HR admin"}


def test_an_object_that_is_gone_keeps_the_name_it_was_recorded_with(super_admin):
    entry = AuditEntry.objects.create(action="mall.order.approve", object_type="mall.order",
                                      object_id="999999", object_repr="M999999",
                                      before={"status": "submitted"},
                                      after={"status": "approved"})
    with translation.override("en"):
        [entry] = described_audit_entries([entry], user=super_admin.user)
        assert entry.object_label == "M999999"
        assert entry.object_url == ""
        assert entry.labelled_changes()[0][1:] == ("Submitted", "Approved")


def test_a_page_of_entries_is_described_in_a_bounded_number_of_queries(
        super_admin, delivered_order, django_assert_max_num_queries):
    departments = [DepartmentFactory(code=f"Q{i}", name=f"Team {i}") for i in range(6)]
    people = [EmployeeFactory(name=f"Person {i}", department=departments[0]) for i in range(6)]
    for i, person in enumerate(people):
        _move(person, departments[i % 5 + 1], super_admin.user)
    entries = list(search_audit_log()[:50])
    assert len(entries) >= 15
    # objects: one query per object type; values: one per field kept as a code
    with django_assert_max_num_queries(12):
        described_audit_entries(entries, user=super_admin.user)
        for entry in entries:
            entry.object_label, entry.object_url, entry.labelled_changes()


def test_a_rules_formula_and_caps_are_shown_in_words(super_admin):
    from jifen.earning import services as earning

    with translation.override("zh-hans"):
        rule = earning.create_rule(
            actor=super_admin.user, reason="v1", name="Training", category="learning",
            event_type="training_completed",
            formula={"kind": "per_unit", "field": "hours", "points": 3}, caps={"month": 100})
        earning.update_rule(rule=rule, actor=super_admin.user, reason="v2",
                            caps={"month": 120})
    with translation.override("en"):
        [entry] = described_audit_entries([search_audit_log(action="earning.rule.update").get()])
        changes = {field: (old, new) for field, old, new in entry.labelled_changes()}
    old, new = next(v for k, v in changes.items() if "cap" in k.lower())
    assert "100" in old and "120" in new
    assert "{" not in old and "{" not in new  # words, not JSON


def test_a_foreign_key_is_shown_by_the_related_objects_name(super_admin, delivered_order):
    with translation.override("en"):
        [entry] = described_audit_entries([search_audit_log(action="mall.item.create").get()],
                                          user=super_admin.user)
        changes = {field: new for field, _old, new in entry.labelled_changes()}
    assert changes["category"] == "Gadgets"
    assert changes["fulfilment"] == "Delivery by courier"
    assert entry.object_label == "Item Headphones"
