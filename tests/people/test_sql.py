"""people/sql.py on whichever database the suite runs on (SQLite, PostgreSQL, MariaDB): the
token look-up every employee API call makes, and the import's field-by-field update."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from jifen.core.secrets import hash_secret
from jifen.people import sql
from jifen.people.models import AccessToken, Employee, User
from jifen.people.services import issue_access_token
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def test_a_live_token_comes_back_with_its_user_and_employee_in_one_statement(
        employee, django_assert_num_queries):
    token, plain = issue_access_token(user=employee.user)
    with django_assert_num_queries(1):
        found = sql.live_token(hash_secret(plain), timezone.now())
        assert found.pk == token.pk
        assert found.user.pk == employee.user.pk
        assert found.user.employee.employee_no == employee.employee_no


def test_a_user_without_an_employee_record_has_none_cached(db):
    user = User.objects.create_user(username="ops", password="x" * 12)
    _token, plain = issue_access_token(user=user)
    found = sql.live_token(hash_secret(plain), timezone.now())
    assert found.user.pk == user.pk
    with pytest.raises(Employee.DoesNotExist):
        found.user.employee  # noqa: B018 — cached as missing, no query


@pytest.mark.parametrize("spoil", ["revoked", "expired", "inactive", "epoch"])
def test_a_token_that_no_longer_signs_in_is_not_found(employee, spoil):
    token, plain = issue_access_token(user=employee.user)
    now = timezone.now()
    if spoil == "revoked":
        AccessToken.objects.filter(pk=token.pk).update(revoked_at=now)
    elif spoil == "expired":
        AccessToken.objects.filter(pk=token.pk).update(expires_at=now - timedelta(seconds=1))
    elif spoil == "inactive":
        User.objects.filter(pk=employee.user.pk).update(is_active=False)
    else:
        User.objects.filter(pk=employee.user.pk).update(
            credentials_epoch=F("credentials_epoch") + 1)
    assert sql.live_token(hash_secret(plain), now) is None


def test_the_bulk_update_writes_only_the_changed_fields_of_each_row(db):
    a, b, c = (EmployeeFactory(name=n, phone="100") for n in ("甲", "乙", "丙"))
    a.name, b.phone = "甲二", "200"
    c.name, c.phone = "丙二", "300"
    b.name = "never saved"  # not listed as changed: must stay
    sql.update_changed(Employee, [(a, {"name"}), (b, {"phone"}), (c, {"name", "phone"})])
    rows = dict(Employee.objects.filter(pk__in=[a.pk, b.pk, c.pk])
                .values_list("pk", "name"))
    phones = dict(Employee.objects.filter(pk__in=[a.pk, b.pk, c.pk])
                  .values_list("pk", "phone"))
    assert rows == {a.pk: "甲二", b.pk: "乙", c.pk: "丙二"}
    assert phones == {a.pk: "100", b.pk: "200", c.pk: "300"}
