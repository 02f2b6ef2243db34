from __future__ import annotations

from datetime import date, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from jifen.ledger import expiry, services
from jifen.ledger.expiry import ExpiryRule, add_months
from jifen.ledger.models import AccountKind, ExpiryMode, ExpiryNotice, Transaction, TransactionKind
from jifen.ledger.tasks import expire_points
from jifen.notifications.models import Notification
from tests.factories import EmployeeFactory
from tests.ledger.helpers import earn, hold, key, lots, sink_balance, spend, spendable, wallet

pytestmark = pytest.mark.django_db


def local(*args: int) -> datetime:
    """A time in the site's zone (Asia/Shanghai)."""
    return timezone.make_aware(datetime(*args))


@pytest.fixture
def year_end_policy(hr_admin):
    services.update_policy(actor=hr_admin.user, expiry_mode=ExpiryMode.YEAR_END,
                           expiry_years_after=1)


@pytest.fixture
def alice():
    return EmployeeFactory(hire_date=date(2023, 3, 1))


class TestCalendarExpiry:
    def test_points_earned_during_2024_expire_at_the_end_of_2025(self, alice, year_end_policy):
        earn(alice, 10, now=local(2024, 1, 1, 0, 5))
        earn(alice, 20, now=local(2024, 12, 31, 23, 55))
        assert {lot.expires_at for lot in lots(alice)} == {local(2026, 1, 1)}
        assert spendable(alice, now=local(2025, 12, 31, 23, 59)) == 30
        assert spendable(alice, now=local(2026, 1, 1)) == 0

    def test_spending_uses_the_earlier_years_points_first(self, alice, year_end_policy):
        newer = earn(alice, 50, now=local(2025, 2, 1))
        older = earn(alice, 50, now=local(2024, 11, 1), earned_at=local(2024, 11, 1))
        spend(alice, 60, now=local(2025, 3, 1))
        remaining = {lot.source_transaction_id: lot.remaining for lot in lots(alice)}
        assert remaining == {older.pk: 0, newer.pk: 40}

    def test_the_sweep_expires_last_years_points_once(self, alice, year_end_policy):
        earn(alice, 30, now=local(2024, 6, 1))
        earn(alice, 40, now=local(2025, 6, 1))
        new_year = local(2026, 1, 1)
        assert expiry.expire_lots(now=new_year) == 1
        assert expiry.expire_lots(now=new_year) == 0
        assert wallet(alice).balance == 40
        assert sink_balance(AccountKind.EXPIRY) == 30
        expired = Transaction.objects.get(kind=TransactionKind.EXPIRE)
        assert expired.idempotency_key == f"expire:lot:{lots(alice)[0].pk}"
        assert expired.cause_type == "ledger.lot"

    def test_a_lot_released_after_it_was_swept_is_swept_again(self, alice, year_end_policy):
        earn(alice, 30, now=local(2024, 6, 1))
        reserved = hold(alice, 10, now=local(2025, 12, 1))
        assert expiry.expire_lots(now=local(2026, 1, 2)) == 1  # the 20 not held
        services.release(hold=reserved, idempotency_key=key(), now=local(2026, 1, 3))
        assert expiry.expire_lots(now=local(2026, 1, 4)) == 1
        assert wallet(alice).balance == 0
        assert sink_balance(AccountKind.EXPIRY) == 30


class TestMonthsAndOverrides:
    def test_n_months_after_earning_clamps_to_the_end_of_short_months(self):
        assert add_months(local(2024, 1, 31, 9), 1) == local(2024, 2, 29, 9)
        assert add_months(local(2024, 11, 30), 3) == local(2025, 2, 28)

    def test_months_policy_sets_each_lots_expiry(self, alice, hr_admin):
        services.update_policy(actor=hr_admin.user, expiry_mode=ExpiryMode.MONTHS,
                               expiry_months=12)
        earn(alice, 10, now=local(2024, 5, 20, 10))
        assert lots(alice)[0].expires_at == local(2025, 5, 20, 10)

    def test_a_rule_can_override_the_site_policy(self, alice, year_end_policy):
        earn(alice, 10, now=local(2024, 5, 20), expiry=ExpiryRule(mode=ExpiryMode.MONTHS,
                                                                  months=1))
        earn(alice, 10, now=local(2024, 5, 20), expiry=ExpiryRule(mode=ExpiryMode.NEVER))
        earn(alice, 10, now=local(2024, 5, 20), expires_at=local(2024, 6, 1))
        assert [lot.expires_at for lot in lots(alice)] == [
            local(2024, 6, 20), None, local(2024, 6, 1)]


class TestTenure:
    @pytest.fixture
    def policy(self, hr_admin):
        services.update_policy(actor=hr_admin.user, expiry_mode=ExpiryMode.YEAR_END,
                               expiry_years_after=1, never_expire_tenure_years=5)

    def test_points_of_long_serving_employees_never_expire(self, policy):
        veteran = EmployeeFactory(hire_date=date(2015, 1, 1))
        earn(veteran, 10, now=local(2024, 6, 1))
        assert lots(veteran)[0].expires_at is None
        assert expiry.expire_lots(now=local(2030, 1, 1)) == 0
        assert spendable(veteran, now=local(2030, 1, 1)) == 10

    def test_reaching_the_tenure_stops_points_already_earned_from_expiring(self, policy):
        nearly = EmployeeFactory(hire_date=date(2020, 6, 1))  # 5 years on 2025-06-01
        earn(nearly, 10, now=local(2024, 3, 1))
        assert lots(nearly)[0].expires_at == local(2026, 1, 1)
        assert spendable(nearly, now=local(2026, 2, 1)) == 10
        assert expiry.expire_lots(now=local(2026, 2, 1)) == 0
        assert lots(nearly)[0].expires_at is None

    def test_short_tenure_points_still_expire(self, policy):
        junior = EmployeeFactory(hire_date=date(2023, 6, 1))
        earn(junior, 10, now=local(2024, 3, 1))
        assert expiry.expire_lots(now=local(2026, 1, 1)) == 1
        assert wallet(junior).balance == 0


class TestNotices:
    def test_employees_are_noted_once_30_days_before_points_expire(self, alice,
                                                                   year_end_policy):
        earn(alice, 10, now=local(2024, 3, 1))
        earn(alice, 10, now=local(2025, 3, 1))
        assert expiry.record_expiry_notices(now=local(2025, 11, 30)) == 0
        assert expiry.record_expiry_notices(now=local(2025, 12, 5)) == 1
        assert expiry.record_expiry_notices(now=local(2025, 12, 6)) == 0
        notice = ExpiryNotice.objects.get()
        assert (notice.employee, notice.amount, notice.expires_at) == (
            alice, 10, local(2026, 1, 1))

    def test_the_employee_gets_one_in_app_message_however_many_lots_expire(
        self, alice, year_end_policy
    ):
        earn(alice, 10, now=local(2024, 3, 1))
        earn(alice, 5, now=local(2024, 4, 1))
        expiry.record_expiry_notices(now=local(2025, 12, 5))
        expiry.record_expiry_notices(now=local(2025, 12, 5))
        message = Notification.objects.get(recipient=alice.user)
        assert message.kind == "ledger.points_expiring"
        assert "15" in message.title and "2026-01-01" in message.title
        assert message.url == "/points/"

    def test_spent_points_get_no_notice(self, alice, year_end_policy):
        earn(alice, 10, now=local(2024, 3, 1))
        spend(alice, 10, now=local(2024, 4, 1))
        assert expiry.record_expiry_notices(now=local(2025, 12, 5)) == 0


class TestDailyJob:
    def test_the_daily_job_expires_first_then_notes_what_expires_soon(self, alice,
                                                                      year_end_policy):
        earn(alice, 10, now=local(2024, 3, 1))  # expires 2026-01-01
        earn(alice, 5, now=local(2025, 3, 1))  # expires 2027-01-01
        assert expiry.run_daily_expiry(now=local(2026, 1, 1)) == {"expired": 1, "noticed": 0}
        assert expiry.run_daily_expiry(now=local(2026, 12, 10)) == {"expired": 0, "noticed": 1}
        assert expiry.run_daily_expiry(now=local(2026, 12, 11)) == {"expired": 0, "noticed": 0}
        assert ExpiryNotice.objects.get().amount == 5

    def test_the_scheduled_task_runs_the_daily_job(self, alice, year_end_policy):
        earn(alice, 10, now=local(2024, 3, 1))
        assert expire_points.call() == {"expired": 1, "noticed": 0}
        assert wallet(alice).balance == 0


class TestExpireCommand:
    def test_the_command_expires_and_reports(self, alice, year_end_policy, capsys):
        earn(alice, 10, now=local(2024, 3, 1))
        call_command("ledger", "expire", "--now", "2026-01-01T00:00:00+08:00")
        assert "Expired 1 lot(s)" in capsys.readouterr().out
        assert wallet(alice).balance == 0

    def test_a_time_without_offset_is_refused(self):
        with pytest.raises(CommandError):
            call_command("ledger", "expire", "--now", "2026-01-01T00:00:00")
