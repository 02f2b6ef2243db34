"""Types for what API callers send, shared by every app's schemas: values a database
column can hold and the rest of the code can work with, checked where they come in, so a
value out of range is a 422 that names its field and never reaches the database driver or
a time-zone conversion (where it would be an OverflowError: a 500).

They are strict: what a caller means is what they wrote. In a JSON body a number is a
JSON number — ``"1"`` is text, ``1.0`` is not a whole number and ``true`` is not 1 — and
a boolean is ``true`` or ``false``. In a URL (a path or a query) everything is text, so
whole numbers there are decimal digits only (no ``1.0``, ``1_000`` or `` 1``). Dates and
times are ISO 8601 text (never a count of seconds) with the years 1900–9999: before 1901
the zones' offsets are local mean times (Shanghai's was +08:05:43), which RFC 3339 cannot
write, and no HR fact is that old.

Body fields use ``RowId``, ``StrictInt`` (with ``Field(ge=…, le=…)``), ``StrictBool``,
``ApiDecimal(…)``, ``ApiDate``, ``SiteDateTime``; path and query parameters use
``UrlRowId``, ``UrlInt``, ``url_decimal`` (``PointsQuery`` for points) and ``ApiDateTime``.
A JSON number becomes a Decimal in one place, ``json_decimal``."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from annotated_types import Ge, Le
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field
from pydantic import (
    AfterValidator,
    BeforeValidator,
    PlainSerializer,
    PlainValidator,
    Strict,
    WithJsonSchema,
)
from pydantic import StrictBool as StrictBool
from pydantic_core import PydanticCustomError

# The widest integers the columns hold on every supported database: IntegerField and
# PositiveIntegerField are 32-bit (signed), BigIntegerField and the ids 64-bit. Beyond
# them SQLite's driver raises OverflowError and the others refuse the statement.
INT32_MAX = 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# A whole number in a JSON body: a JSON integer, never text, a float or a boolean.
StrictInt = Annotated[int, Strict()]

_DIGITS = re.compile(r"-?[0-9]{1,19}")


def _whole_text(value: Any) -> Any:
    """A whole number in a URL: decimal digits (with an optional minus), nothing else."""
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value):
            raise PydanticCustomError("int_parsing",
                                      "Input should be a whole number in decimal digits")
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("int_type", "Input should be a whole number")
    return value


# A whole number in a path or a query string.
UrlInt = Annotated[int, BeforeValidator(_whole_text)]

# The id of a row as the API takes it, in a body (``RowId``) or a URL (``UrlRowId``): a
# positive integer a database column can hold. Beyond that range an id would reach the
# database driver and fail there (SQLite: "Python int too large to convert to SQLite
# INTEGER") instead of being a 422.
RowId = Annotated[int, Strict(), Field(ge=1, le=INT64_MAX, examples=[1])]
UrlRowId = Annotated[int, BeforeValidator(_whole_text), Ge(1), Le(INT64_MAX),
                   Field(json_schema_extra={"example": 1})]


class NumberRefused(ValueError):
    """Why ``json_decimal`` refused a value: ``reason`` is ``"type"`` (not a JSON number),
    ``"finite"`` (NaN or an infinity) or ``"magnitude"`` (beyond the bound)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def json_decimal(value: Any, *, max_abs: int | Decimal) -> Decimal:
    """A JSON number (an int, float or Decimal as the JSON parser gives it; never text or a
    boolean) as the Decimal the caller wrote, finite and at most ``max_abs`` in magnitude.

    The one door from a JSON number to a Decimal (``ApiDecimal``; ``to_units`` for points).
    The magnitude is checked before any arithmetic: a number beyond Decimal's 28 digits of
    precision (``1e300``, ``1`` and 40 zeros) cannot be quantized or scaled exactly —
    ``quantize`` raises InvalidOperation, which was a 500. Raises NumberRefused."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise NumberRefused("type")
    # repr() of a float is the shortest text that reads back as that float, i.e. the
    # number the client wrote (0.1 stays 0.1, not 0.1000000000000000055…).
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise NumberRefused("finite")
    if abs(number) > max_abs:
        raise NumberRefused("magnitude")
    return number


_NUMBER_TEXT = re.compile(r"-?[0-9]{1,19}(\.[0-9]{1,19})?")


def url_decimal(value: Any) -> Decimal:
    """A number in a URL (a query string): decimal digits with an optional minus and an
    optional fraction after a point — no exponent, underscore, space, sign ``+`` or bare
    point (``1e2``, ``1_0``, `` 10``, ``10.`` are refused, where ``float()`` took them)."""
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
        return Decimal(value)
    raise PydanticCustomError("decimal_parsing",
                              "Input should be a number in decimal digits, e.g. 10 or 12.5")


def ApiDecimal(*, max_digits: int, decimal_places: int, ge: int | None = None) -> Any:
    """A decimal amount in a JSON body: a JSON number (never text or a boolean) with at
    most ``decimal_places`` decimals and ``max_digits`` digits."""
    whole = max_digits - decimal_places
    too_many_digits = ("decimal_whole_digits",
                       "Decimal input should have no more than {n} digits before the decimal "
                       "point", {"n": whole})

    def parse(value: Any) -> Decimal:
        try:
            number = json_decimal(value, max_abs=10**whole)
        except NumberRefused as exc:
            if exc.reason == "type":
                raise PydanticCustomError("decimal_type", "Input should be a JSON number") from exc
            if exc.reason == "finite":
                raise PydanticCustomError("finite_number",
                                          "Input should be a finite number") from exc
            raise PydanticCustomError(*too_many_digits) from exc
        if ge is not None and number < ge:
            raise PydanticCustomError("greater_than_equal",
                                      "Input should be greater than or equal to {ge}", {"ge": ge})
        # Within 10**whole, so the arithmetic below is exact.
        exponent = number.normalize().as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        if places > decimal_places:
            raise PydanticCustomError("decimal_max_places",
                                      "Decimal input should have no more than {n} decimal places",
                                      {"n": decimal_places})
        if abs(number) >= 10**whole:
            raise PydanticCustomError(*too_many_digits)
        return number

    schema: dict[str, Any] = {"type": "number", "exclusiveMaximum": 10**whole}
    if ge is not None:
        schema["minimum"] = ge
    else:
        schema["exclusiveMinimum"] = -(10**whole)
    # Written back as a JSON number, as it came (the default in the OpenAPI document too).
    return Annotated[Decimal, PlainValidator(parse), WithJsonSchema(schema),
                     PlainSerializer(float, return_type=float, when_used="json")]


# The years every date and time the API takes falls in (``SITE_YEARS`` for a kept time).
API_YEARS = (1900, 9999)

# The years a kept time may fall in, counted in the site's zone. Times are stored in UTC
# and shown, and counted in days, weeks, months and years (caps, reports), in the site's
# zone: each of those periods must exist in both, so the last year, which a zone east of
# UTC pushes past 9999, is left out.
SITE_YEARS = (API_YEARS[0], 9998)

# ISO 8601 text: a calendar date, and a date with a time of day (the offset, seconds and
# fraction optional: what follows the minutes is left to the parser). Not a count of
# seconds, which pydantic would take as a Unix time.
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}.{0,40}")


def _date_text(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value  # from Python code, not from a caller
    if not isinstance(value, str) or not _DATE_TEXT.fullmatch(value):
        raise PydanticCustomError("date_type", "Input should be a date written YYYY-MM-DD")
    return value


def _datetime_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value  # from Python code, not from a caller
    if not isinstance(value, str) or not _DATETIME_TEXT.fullmatch(value):
        raise PydanticCustomError(
            "datetime_type", "Input should be an ISO 8601 date and time, "
            "e.g. 2026-03-02T10:00:00+08:00")
    return value


def _date_in_range(value: date) -> date:
    if not API_YEARS[0] <= value.year <= API_YEARS[1]:
        raise PydanticCustomError("date_out_of_range", out_of_range_message(dates=True))
    return value


# A calendar date a caller sends (a hire date): YYYY-MM-DD within ``API_YEARS``.
ApiDate = Annotated[date, BeforeValidator(_date_text), AfterValidator(_date_in_range),
                    WithJsonSchema({"type": "string", "format": "date"})]


def aware_in_range(moment: datetime, *, site_zone: bool = False,
                   api_years: bool = False) -> datetime | None:
    """``moment`` with an offset (a time without one is read in the current zone), or
    None when it has no UTC equivalent — 0001-01-01 east of Greenwich, 9999-12-31 west of
    it — so it cannot be stored or compared with a stored time. With ``api_years``, also
    None outside ``API_YEARS`` in UTC (what a caller may send). With ``site_zone``, also
    None unless it falls in ``SITE_YEARS`` in the current (the site's) zone, so that it and
    the periods holding it can be stored and shown: 9999-12-31T23:00Z is already
    10000-01-01 in Shanghai."""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    try:
        in_utc = moment.astimezone(UTC)
        if api_years and not API_YEARS[0] <= in_utc.year <= API_YEARS[1]:
            return None
        if site_zone and not SITE_YEARS[0] <= timezone.localtime(moment).year <= SITE_YEARS[1]:
            return None
    except OverflowError:
        return None
    return moment


def out_of_range_message(*, site_zone: bool = False, dates: bool = False) -> str:
    if dates:
        return _("The date is out of range: give one between the years %(first)d and "
                 "%(last)d.") % {"first": API_YEARS[0], "last": API_YEARS[1]}
    if site_zone:
        return _("The time is out of range: give one between the years %(first)d and "
                 "%(last)d.") % {"first": SITE_YEARS[0], "last": SITE_YEARS[1]}
    return _("The time is out of range: give one between the years %(first)d and %(last)d "
             "in UTC.") % {"first": API_YEARS[0], "last": API_YEARS[1]}


def _checked(moment: datetime, *, site_zone: bool) -> datetime:
    # A kept time is bounded in the site's zone, where it is shown and counted; a time to
    # compare with, in UTC.
    aware = aware_in_range(moment, site_zone=site_zone, api_years=not site_zone)
    if aware is None:
        # The message is no format string: nothing in it is a {placeholder}.
        raise PydanticCustomError("datetime_out_of_range",
                                  out_of_range_message(site_zone=site_zone))
    return aware


def _comparable(moment: datetime) -> datetime:
    return _checked(moment, site_zone=False)


def _storable(moment: datetime) -> datetime:
    return _checked(moment, site_zone=True)


# A time a caller sends to compare with stored times (a filter's ``since``/``until``):
# ISO 8601 text, read in the site's zone when it has no offset, within ``API_YEARS`` in UTC.
ApiDateTime = Annotated[datetime, BeforeValidator(_datetime_text), AfterValidator(_comparable),
                        WithJsonSchema({"type": "string", "format": "date-time"})]

# A time a caller sends to be kept (a rule's validity, a sample event's time): as
# ``ApiDateTime``, and within ``SITE_YEARS`` in the site's zone, where it is shown and
# counted.
SiteDateTime = Annotated[datetime, BeforeValidator(_datetime_text), AfterValidator(_storable),
                         WithJsonSchema({"type": "string", "format": "date-time"})]
