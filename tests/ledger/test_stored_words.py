"""Postings the system writes by itself (an expiry, a leaver's forfeit) store no words:
words written at posting time stay in the language of that moment. Their history lines
are worded when read, in the reader's language."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from django.utils import timezone, translation

from jifen.ledger import expiry, selectors, services
from jifen.ledger.models import ExpiryMode, LeavingPolicy, Transaction, TransactionKind
from tests.factories import EmployeeFactory
from tests.ledger.helpers import earn

pytestmark = pytest.mark.django_db
CJK = re.compile(r"[\u4e00-\u9fff]")


def local(*args: int) -> datetime:
    return timezone.make_aware(datetime(*args))


def _lines_in(language: str, employee) -> list[str]:
    with translation.override(language):
        entries = list(selectors.history_lines_query(employee=employee)[:50])
        return [line.description for line in
                selectors.history_lines(entries, employee=employee, for_employee=True)]


def test_an_expiry_and_a_forfeit_posted_in_chinese_read_in_english(hr_admin):
    services.update_policy(actor=hr_admin.user, expiry_mode=ExpiryMode.YEAR_END,
                           expiry_years_after=1, on_leaving=LeavingPolicy.FORFEIT)
    employee = EmployeeFactory(hire_date=date(2023, 3, 1))
    earn(employee, 30, now=local(2024, 6, 1), reason="training")
    earn(employee, 40, now=local(2025, 6, 1), reason="training")
    with translation.override("zh-hans"):
        assert expiry.expire_lots(now=local(2026, 1, 1)) == 1
        services.apply_leaving_policy(employee=employee, actor=hr_admin.user,
                                      now=local(2026, 1, 2))
    written = Transaction.objects.filter(
        kind__in=[TransactionKind.EXPIRE, TransactionKind.FORFEIT])
    assert [t.reason for t in written] == ["", ""]
    english = _lines_in("en", employee)
    assert "Expired" in english and "Forfeited on leaving the company" in english
    assert not any(CJK.search(text) for text in english), english
    chinese = _lines_in("zh-hans", employee)
    assert all(CJK.search(text) for text in chinese[:2]), chinese
