"""The employee's console profile shows their points, and "Adjust points" from there comes
back there (issue #12 point 6)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jifen.core.roles import Role
from jifen.ledger.models import Transaction
from tests.conftest import login_client
from tests.ledger.helpers import earn, hold


def _profile(client, employee, language="en"):
    client.cookies["django_language"] = language
    return client.get(reverse("console:employee_detail", args=[employee.pk]))


def test_the_profile_shows_balance_and_recent_history(employee, hr_admin):
    earn(employee, 120, reason="年度学习")
    hold(employee, 20)

    page = _profile(login_client(hr_admin.user), employee)

    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="profile-spendable">100<' in body
    assert 'data-testid="profile-held">20<' in body
    assert "年度学习" in body
    assert reverse("console:employee_points", args=[employee.pk]) in body
    assert body.count("<h1") == 1


def test_a_manager_without_ledger_rights_sees_no_points(employee, make_role_employee):
    manager = make_role_employee(Role.MANAGER)
    employee.department.manager = manager
    employee.department.save()
    earn(employee, 120)

    page = _profile(login_client(manager.user), employee)

    assert page.status_code == 200
    assert "profile-points" not in page.content.decode()


def test_adjusting_from_the_profile_returns_to_the_profile(employee, hr_admin):
    earn(employee, 50)
    client = login_client(hr_admin.user)
    profile = reverse("console:employee_detail", args=[employee.pk])
    body = _profile(client, employee).content.decode()
    assert f"next={profile}" in body

    form = client.get(reverse("console:adjust"), {"employee": employee.employee_no,
                                                  "next": profile})
    key = form.context["form"].initial["key"]
    data = {"employee": employee.employee_no, "amount": "15", "reason": "季度奖励",
            "key": key, "next": profile}
    confirm = client.post(reverse("console:adjust"), data)
    assert f'name="next" value="{profile}"' in confirm.content.decode()
    done = client.post(reverse("console:adjust"), {**data, "confirm": "1"})

    assert done.status_code == 302 and done.url == profile
    after = _profile(client, employee).content.decode()
    assert 'data-testid="profile-spendable">65<' in after
    assert "Adjustment by HR: 季度奖励" in after


@pytest.mark.parametrize("target", ["https://evil.example/x", "//evil.example/x",
                                    "/\\evil.example", "javascript:alert(1)"])
def test_an_adjustment_never_redirects_off_site(employee, hr_admin, target):
    earn(employee, 50)
    client = login_client(hr_admin.user)
    data = {"employee": employee.employee_no, "amount": "5", "reason": "r", "key": "k1",
            "next": target, "confirm": "1"}

    done = client.post(reverse("console:adjust"), data)

    txn = Transaction.objects.get(kind="adjust")
    assert done.status_code == 302
    assert done.url == reverse("console:ledger_transaction", args=[txn.pk])


def test_the_whole_history_page_lists_lines_in_words(employee, hr_admin):
    earn(employee, 50, reason="学习")
    client = login_client(hr_admin.user)
    client.cookies["django_language"] = "en"

    page = client.get(reverse("console:employee_points", args=[employee.pk]))

    assert page.status_code == 200
    assert [line["description"] for line in page.context["lines"]] == ["学习"]
    assert login_client(employee.user).get(
        reverse("console:employee_points", args=[employee.pk])).status_code in (302, 403)
