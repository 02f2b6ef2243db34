from __future__ import annotations

from decimal import Decimal

import pytest

from jifen.ledger.amounts import MAX_POINTS, format_points, from_units, to_units


@pytest.mark.parametrize("value,decimals,units", [
    (12, 0, 12), (-3, 0, -3), (5.0, 0, 5), (12.5, 1, 125), (0.1, 2, 10), (1.23, 2, 123),
    (Decimal("2.50"), 2, 250), (MAX_POINTS, 2, MAX_POINTS * 100),
])
def test_numbers_with_at_most_the_site_decimals_become_units(value, decimals, units):
    assert to_units(value, decimals) == units


@pytest.mark.parametrize("value,decimals", [
    ("10", 0), ("1.5", 2), (True, 0), (None, 0), ([1], 0), (1.5, 0), (1.234, 2), (0.001, 2),
    (float("nan"), 2), (float("inf"), 0), (MAX_POINTS + 1, 0), (1e20, 2), (10**40, 0),
])
def test_anything_else_is_refused(value, decimals):
    with pytest.raises(ValueError):
        to_units(value, decimals)


@pytest.mark.parametrize("units,decimals,number,text", [
    (12, 0, 12, "12"), (125, 1, 12.5, "12.5"), (10, 2, 0.1, "0.10"), (-250, 2, -2.5, "-2.50"),
])
def test_units_go_out_as_numbers_and_text_with_the_site_decimals(units, decimals, number, text):
    assert from_units(units, decimals) == number
    assert type(from_units(units, decimals)) is (int if decimals == 0 else float)
    assert format_points(units, decimals) == text
