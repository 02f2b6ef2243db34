"""Points as the API speaks them versus how the ledger stores them.

The ledger stores integers in the smallest unit; the site's ``decimals`` (0–2) say how many
of those make a point. The API speaks JSON numbers with at most that many decimals: a
string, a boolean, NaN, a number with more decimals or a magnitude beyond ``MAX_POINTS`` is
refused, so a malformed amount can never reach a service.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from django.utils.translation import gettext as _
from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

MAX_POINTS = 10**15


def site_decimals() -> int:
    from jifen.core.selectors import site_settings

    return int(site_settings().decimals)


def to_units(value: Any, decimals: int | None = None) -> int:
    """A JSON number of points → integer units. Raises ValueError (with a message fit for
    an API client) for anything that is not a number with at most ``decimals`` decimals and
    at most ``MAX_POINTS`` in magnitude."""
    decimals = site_decimals() if decimals is None else decimals
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(_("Points must be a JSON number, not text."))
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(_("Points must be a finite number."))
    try:
        # repr() of a float is the shortest text that reads back as that float, i.e. the
        # number the client wrote (0.1 stays 0.1, not 0.1000000000000000055…).
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - guarded by the type check above
        raise ValueError(_("Points must be a number.")) from exc
    if abs(number) > MAX_POINTS:
        raise ValueError(_("Points must be at most %(max)s in magnitude.") % {"max": MAX_POINTS})
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
    WithJsonSchema({"type": "number", "description": "Points, with at most the site's "
                    "decimals (0–2)."}),
]
PointsOut = Annotated[
    int,
    PlainSerializer(lambda units: from_units(units), return_type=int | float),
    WithJsonSchema({"type": "number"}),
]
