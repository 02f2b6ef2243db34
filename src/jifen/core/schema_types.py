"""Types for what API callers send, shared by every app's schemas: values a database
column can hold and the rest of the code can work with, checked where they come in, so a
value out of range is a 422 that names its field and never reaches the database driver or
a time-zone conversion (where it would be an OverflowError: a 500)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

# The widest integers the columns hold on every supported database: IntegerField and
# PositiveIntegerField are 32-bit (signed), BigIntegerField and the ids 64-bit. Beyond
# them SQLite's driver raises OverflowError and the others refuse the statement.
INT32_MAX = 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# The id of a row as the API takes it, in a path or a body: a positive integer a database
# column can hold. Beyond that range an id would reach the database driver and fail there
# (SQLite: "Python int too large to convert to SQLite INTEGER") instead of being a 422.
RowId = Annotated[int, Field(ge=1, le=INT64_MAX)]


# The years a kept time may fall in, counted in the site's zone. Times are stored in UTC
# and shown, and counted in days, weeks, months and years (caps, reports), in the site's
# zone: each of those periods must exist in both, so the first and the last year, which
# some zone pushes out of 1-9999, are left out.
SITE_YEARS = (2, 9998)


def aware_in_range(moment: datetime, *, site_zone: bool = False) -> datetime | None:
    """``moment`` with an offset (a time without one is read in the current zone), or
    None when it has no UTC equivalent — 0001-01-01 east of Greenwich, 9999-12-31 west of
    it — so it cannot be stored or compared with a stored time. With ``site_zone``, also
    None unless it falls in ``SITE_YEARS`` in the current (the site's) zone, so that it and
    the periods holding it can be stored and shown: 9999-12-31T23:00Z is already 10000-01-01
    in Shanghai, and the year holding 0001-01-01T00:00Z starts before UTC's year 1."""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    try:
        moment.astimezone(UTC)
        if site_zone and not SITE_YEARS[0] <= timezone.localtime(moment).year <= SITE_YEARS[1]:
            return None
    except OverflowError:
        return None
    return moment


def out_of_range_message(*, site_zone: bool = False) -> str:
    if site_zone:
        return _("The time is out of range: give one between the years %(first)d and "
                 "%(last)d.") % {"first": SITE_YEARS[0], "last": SITE_YEARS[1]}
    return _("The time is out of range: give one between the years 1 and 9999 in UTC.")


def _checked(moment: datetime, *, site_zone: bool) -> datetime:
    aware = aware_in_range(moment, site_zone=site_zone)
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
# ISO 8601, read in the site's zone when it has no offset, with a UTC equivalent.
ApiDateTime = Annotated[datetime, AfterValidator(_comparable)]

# A time a caller sends to be kept (a rule's validity, an event's occurred_at): as
# ``ApiDateTime``, and within ``SITE_YEARS`` in the site's zone, where it is shown and
# counted.
SiteDateTime = Annotated[datetime, AfterValidator(_storable)]
