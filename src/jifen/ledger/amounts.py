"""Points as the API speaks them versus how the ledger stores them.

The ledger stores integers in the smallest unit; the site's ``decimals`` (0–2) say how many
of those make a point. The API speaks JSON numbers with at most that many decimals: a
string, a boolean, NaN, a number with more decimals or a magnitude beyond ``MAX_POINTS`` is
refused, so a malformed amount can never reach a service.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from django.utils.translation import gettext as _
from pydantic import PlainSerializer, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from jifen.core.schema_types import NumberRefused, json_decimal, url_decimal
from jifen.core.selectors import site_settings

MAX_POINTS = 10**15


def site_decimals() -> int:
    return int(site_settings().decimals)


def to_units(value: Any, decimals: int | None = None) -> int:
    """A JSON number of points → integer units. Raises ValueError (with a message fit for
    an API client) for anything that is not a number with at most ``decimals`` decimals and
    at most ``MAX_POINTS`` in magnitude."""
    decimals = site_decimals() if decimals is None else decimals
    try:
        number = json_decimal(value, max_abs=MAX_POINTS)
    except NumberRefused as exc:
        messages = {
            "type": _("Points must be a JSON number, not text."),
            "finite": _("Points must be a finite number."),
            "magnitude": _("Points must be at most %(max)s in magnitude.") % {"max": MAX_POINTS},
        }
        raise ValueError(messages[exc.reason]) from exc
    units = number.scaleb(decimals)
    if units != units.to_integral_value():
        if decimals == 0:
            raise ValueError(_("Points must be a whole number."))
        raise ValueError(_("Points may have at most %(n)d decimals.") % {"n": decimals})
    return int(units)


def from_units(units: int, decimals: int | None = None) -> int | float:
    """Integer units → the JSON number of points (an int when decimals is 0)."""
    decimals = site_decimals() if decimals is None else decimals
    if decimals == 0:
        return int(units)
    return float(Decimal(int(units)).scaleb(-decimals))


def format_points(units: int, decimals: int | None = None) -> str:
    """Units as text with exactly the site's decimals, for pages and exports."""
    decimals = site_decimals() if decimals is None else decimals
    return f"{Decimal(int(units)).scaleb(-decimals):.{decimals}f}"


# For API schemas: request fields take points and give units to the handler; response
# fields take units and write points.
PointsIn = Annotated[
    int,
    PlainValidator(lambda value: to_units(value)),
    WithJsonSchema({"type": "number", "minimum": -MAX_POINTS, "maximum": MAX_POINTS,
                    "description": "Points, with at most the site's decimals (0–2)."}),
]


def _points_in_url(value: Any) -> int:
    number = url_decimal(value)
    if number < 0:
        raise PydanticCustomError("greater_than_equal",
                                  "Input should be greater than or equal to {ge}", {"ge": 0})
    return to_units(number)


# Points in a query string (a price filter): decimal digits, at most the site's decimals,
# not negative — ``1_0``, `` 10``, ``1e2`` and ``10.`` are refused (``float()`` took them).
PointsQuery = Annotated[
    int,
    PlainValidator(_points_in_url),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": MAX_POINTS,
                    "description": "Points, with at most the site's decimals (0–2)."}),
]
PointsOut = Annotated[
    int,
    PlainSerializer(lambda units: from_units(units), return_type=int | float),
    WithJsonSchema({"type": "number"}),
]
