"""The daily check-in: once a day in the company's time zone, streaks across month and
year ends, the fact that earns through HR's rules, and make-up cards from the mall."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from jifen.core import errors
from jifen.library.models import CheckIn, MakeUpUse
from jifen.library.services import engagement as services
from jifen.mall import services as mall
from tests.library.engage_fixtures import *  # noqa: F403 - the fixtures
from tests.library.engage_fixtures import UTC, at, spendable

pytestmark = pytest.mark.django_db


def check_in_on(employee, day: date, hour: int = 9):
    return services.check_in(employee=employee, now=at(f"{day.isoformat()} {hour:02d}:00"))


def test_a_check_in_at_2330_utc_counts_for_the_next_day_in_shanghai(employee):
    result = services.check_in(employee=employee, now=at("2026-12-03 23:30", UTC))
    assert result.check_in.day == date(2026, 12, 4)
    # 00:30 UTC on the 4th is still the 4th in Shanghai: the same day, not a second one.
    again = services.check_in(employee=employee, now=at("2026-12-04 00:30", UTC))
    assert again.created is False and again.check_in.pk == result.check_in.pk
    # 16:00 UTC on the 4th is midnight in Shanghai: the 5th, and the streak goes on.
    next_day = services.check_in(employee=employee, now=at("2026-12-04 16:00", UTC))
    assert next_day.check_in.day == date(2026, 12, 5)
    assert next_day.check_in.streak == 2


def test_checking_in_twice_a_day_earns_once(employee, engagement_rules):
    first = services.check_in(employee=employee, now=at("2026-12-04 08:00"))
    second = services.check_in(employee=employee, now=at("2026-12-04 18:00"))
    assert (first.created, first.earned) == (True, 1)
    assert (second.created, second.earned) == (False, 0)
    assert CheckIn.objects.filter(employee=employee).count() == 1
    assert spendable(employee) == 1


@pytest.mark.parametrize("start", [date(2026, 1, 30), date(2026, 2, 27), date(2024, 2, 28),
                                   date(2026, 12, 30)])
def test_a_streak_runs_on_across_month_leap_day_and_year_ends(employee, start):
    streaks = [check_in_on(employee, start + timedelta(days=n)).check_in.streak
               for n in range(4)]
    assert streaks == [1, 2, 3, 4]


def test_a_missed_day_starts_the_streak_again(employee):
    check_in_on(employee, date(2026, 12, 30))
    check_in_on(employee, date(2026, 12, 31))
    after_gap = check_in_on(employee, date(2027, 1, 2))
    assert after_gap.check_in.streak == 1


def test_day_seven_and_thirty_pay_the_streak_bonus_once_each(employee, engagement_rules):
    earned = [check_in_on(employee, date(2026, 11, 20) + timedelta(days=n)).earned
              for n in range(31)]
    assert earned[5] == 1  # day 6: the daily point only
    assert earned[6] == 1 + 10  # day 7
    assert earned[29] == 1 + 50  # day 30, across the end of November
    assert earned[30] == 1
    assert spendable(employee) == 31 + 10 + 50


def test_check_in_facts_carry_the_streak_and_are_unique_per_day(employee, engagement_rules):
    from jifen.earning.models import Event

    check_in_on(employee, date(2026, 12, 3))
    check_in_on(employee, date(2026, 12, 4))
    events = Event.objects.filter(source="library").order_by("occurred_at")
    assert [e.external_id for e in events] == [f"checkin:{employee.pk}:2026-12-03",
                                               f"checkin:{employee.pk}:2026-12-04"]
    assert [e.payload["streak"] for e in events] == [1, 2]


def test_an_employee_who_left_cannot_check_in(employee):
    employee.status = "left"
    employee.save()
    with pytest.raises(errors.Conflict) as caught:
        services.check_in(employee=employee)
    assert caught.value.code == "inactive_employee"


# --- make-up cards --------------------------------------------------------------------


@pytest.fixture
def card_item(make_item, hr_admin):
    card = make_item(name="补签卡", points=20, auto_approve=True)
    services.update_engagement_settings(actor=hr_admin.user, makeup_cards_enabled=True,
                                        makeup_item_id=card.pk, makeup_window_days=7)
    return card


def buy_card(employee, card, quantity=1):
    from tests.mall.conftest import fund

    fund(employee, 100)
    return mall.create_order(employee=employee, item=card, quantity=quantity,
                            idempotency_key=f"card-{employee.pk}-{quantity}")


def test_a_card_bought_in_the_mall_mends_a_missed_day_and_the_streak(employee, card_item):
    check_in_on(employee, date(2026, 12, 1))
    check_in_on(employee, date(2026, 12, 3))
    check_in_on(employee, date(2026, 12, 4))
    buy_card(employee, card_item)
    assert services.makeup_cards_left(employee) == 1
    services.make_up_day(employee=employee, day=date(2026, 12, 2), now=at("2026-12-04 10:00"))
    streaks = dict(CheckIn.objects.filter(employee=employee).values_list("day", "streak"))
    assert streaks == {date(2026, 12, 1): 1, date(2026, 12, 2): 2, date(2026, 12, 3): 3,
                       date(2026, 12, 4): 4}
    assert services.makeup_cards_left(employee) == 0
    with pytest.raises(errors.Conflict) as caught:
        services.make_up_day(employee=employee, day=date(2026, 11, 30),
                             now=at("2026-12-04 10:00"))
    assert caught.value.code == "no_makeup_card"
    assert MakeUpUse.objects.count() == 1


def test_make_up_is_refused_when_off_out_of_range_or_already_checked(employee, card_item,
                                                                     hr_admin):
    buy_card(employee, card_item, quantity=2)
    now = at("2026-12-10 10:00")
    for day in (date(2026, 12, 10), date(2026, 12, 2), date(2026, 12, 11)):
        with pytest.raises(errors.ValidationError) as caught:
            services.make_up_day(employee=employee, day=day, now=now)
        assert caught.value.code == "out_of_range"
    check_in_on(employee, date(2026, 12, 8))
    with pytest.raises(errors.Conflict) as caught:
        services.make_up_day(employee=employee, day=date(2026, 12, 8), now=now)
    assert caught.value.code == "already_checked_in"
    services.update_engagement_settings(actor=hr_admin.user, makeup_cards_enabled=False)
    with pytest.raises(errors.Conflict) as caught:
        services.make_up_day(employee=employee, day=date(2026, 12, 9), now=now)
    assert caught.value.code == "not_available"
    assert services.makeup_cards_left(employee) == 0  # cards are off: none to spend
    assert MakeUpUse.objects.count() == 0


def test_an_unpaid_order_of_the_card_gives_no_card(employee, make_item, hr_admin):
    card = make_item(name="补签卡", points=20, auto_approve=False)
    services.update_engagement_settings(actor=hr_admin.user, makeup_cards_enabled=True,
                                        makeup_item_id=card.pk)
    buy_card(employee, card)
    assert services.makeup_cards_left(employee) == 0


def test_settings_changes_are_audited_and_checked(hr_admin):
    from jifen.core.models import AuditEntry

    with pytest.raises(errors.ValidationError):
        services.update_engagement_settings(actor=hr_admin.user, makeup_cards_enabled=True)
    with pytest.raises(errors.ValidationError):
        services.update_engagement_settings(actor=hr_admin.user, makeup_item_id=999999)
    services.update_engagement_settings(actor=hr_admin.user, comment_min_length=20,
                                        sensitive_words="傻瓜\n 傻瓜 \n\n废物")
    assert services.current_settings().word_list == ["傻瓜", "废物"]
    entry = AuditEntry.objects.get(action="library.settings.update")
    assert entry.before["comment_min_length"] == 15
    assert entry.after["comment_min_length"] == 20
