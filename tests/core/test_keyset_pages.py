"""Keyset pages (``jifen.core.pagination.keyset_page``): every row exactly once, in order,
forwards and backwards, also when many rows share the sort key; a cursor that is not one of
ours is refused as ``invalid_cursor`` before it reaches a query."""

from __future__ import annotations

import pytest

from jifen.core import errors
from jifen.core.pagination import encode_cursor, keyset_page
from jifen.ledger.models import Transaction
from jifen.people.models import Employee
from jifen.people.selectors import with_points_balance
from tests.factories import EmployeeFactory
from tests.ledger.helpers import fund

pytestmark = pytest.mark.django_db


def walk(queryset, order, limit):
    pages, page = [], keyset_page(queryset, order=order, limit=limit)
    while True:
        pages.append([e.employee_no for e in page])
        if not page.has_next:
            return pages, page
        page = keyset_page(queryset, order=order, limit=limit, after=page.next_cursor)


@pytest.fixture
def namesakes(department):
    # 23 people, only three names: most rows share the first sort key with their neighbours.
    return [EmployeeFactory(department=department, employee_no=f"K{n:03d}",
                            name=("王芳", "李伟", "张敏")[n % 3]) for n in range(23)]


def test_pages_continue_without_gaps_or_repeats_when_sort_keys_are_equal(namesakes):
    order = ("name", "employee_no")
    pages, last = walk(Employee.objects.all(), order, 5)

    expected = list(Employee.objects.order_by(*order).values_list("employee_no", flat=True))
    assert [no for page in pages for no in page] == expected
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    # And back again from the last page, page by page.
    back, page = [pages[-1]], last
    while page.has_previous:
        page = keyset_page(Employee.objects.all(), order=order, limit=5,
                           before=page.previous_cursor)
        back.append([e.employee_no for e in page])
    assert back[::-1] == pages
    assert not page.has_previous and page.has_next


def test_mixed_directions_on_an_annotation(namesakes):
    for n, person in enumerate(namesakes):
        if n % 4:
            fund(person, (n % 3 + 1) * 10)  # many equal balances; every fourth has none
    order = ("-points_balance", "employee_no")
    rows = with_points_balance(Employee.objects.all())

    pages, _last = walk(rows, order, 4)

    expected = list(rows.order_by(*order).values_list("employee_no", flat=True))
    assert [no for page in pages for no in page] == expected


@pytest.mark.parametrize("cursor", [
    "not-base64!!", encode_cursor("K001"), encode_cursor(["K001"]),
    encode_cursor(["王芳", "K001", 3]), encode_cursor([1, "K001"]),
    encode_cursor(["王\x00芳", "K001"]), encode_cursor([None, "K001"]),
    encode_cursor({"name": "王芳"}),
])
def test_a_cursor_that_is_not_ours_is_invalid_cursor(namesakes, cursor):
    with pytest.raises(errors.ValidationError) as caught:
        keyset_page(Employee.objects.all(), order=("name", "employee_no"), limit=5,
                    after=cursor)
    assert caught.value.code == errors.ErrorCode.INVALID_CURSOR


def test_a_time_key_round_trips(department):
    person = EmployeeFactory(department=department)
    for amount in range(1, 8):
        fund(person, amount)
    order = ("-created_at", "-pk")
    first = keyset_page(Transaction.objects.all(), order=order, limit=3)
    second = keyset_page(Transaction.objects.all(), order=order, limit=3,
                         after=first.next_cursor)
    seen = [t.pk for t in first] + [t.pk for t in second]
    assert seen == list(Transaction.objects.order_by(*order).values_list("pk", flat=True))[:6]
    with pytest.raises(errors.ValidationError):
        keyset_page(Transaction.objects.all(), order=order, limit=3,
                    after=encode_cursor(["2026-01-01T00:00:00", 5]))  # no offset
