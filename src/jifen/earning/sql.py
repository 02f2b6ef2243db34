"""The earning app's hand-written SQL and vendor-specific statements (DESIGN.md §2: raw
statements live only in ``<app>/sql.py``). Each function says what it does on SQLite,
PostgreSQL and MariaDB; tests/earning/test_sql.py pins every branch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection

from jifen.earning.models import Award, AwardStatus
from jifen.people.models import Employee

# Windows per UNION ALL statement off PostgreSQL (six parameters each, well under
# SQLite's and MariaDB's parameter limits).
WINDOWS_PER_STATEMENT = 300

# (employee id, rule id, start of the period, end of the period)
CapWindow = tuple[int, int, datetime, datetime]


def lock_employees(*employee_ids: int) -> dict[int, str]:
    """Serialise scoring, approvals and giving for these employees (see
    ``jifen.earning.services``), locking in id order so two callers never deadlock.
    Returns their status as it is under the lock (someone may have marked them as left a
    moment ago). On PostgreSQL the lock is ``FOR NO KEY UPDATE``: it serialises these
    callers just the same, but leaves alone the key-share check of an order's foreign key
    to the employee at its COMMIT, which ``FOR UPDATE`` blocked into a deadlock
    (tests/gates/test_lock_order.py). MariaDB takes ``FOR UPDATE``; SQLite has no row
    locks (its one writer at a time serialises instead)."""
    no_key = connection.features.has_select_for_no_key_update
    return dict(Employee.objects.select_for_update(no_key=no_key).filter(pk__in=employee_ids)
                .order_by("pk").values_list("pk", "status"))


def credited_in_windows(windows: Sequence[CapWindow]) -> list[int]:
    """Units credited (positive awards only) per window — an employee, a rule and a
    half-open period ``[start, end)`` — in the order given. On PostgreSQL one join against
    the windows as arrays (planning a UNION of hundreds of sums cost more than running
    them); elsewhere UNION ALLs of indexed range sums (``earning_award_cap``),
    ``WINDOWS_PER_STATEMENT`` a statement."""
    if not windows:
        return []
    table = connection.ops.quote_name(Award._meta.db_table)
    used = [0] * len(windows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT w.n, COALESCE(SUM(a.points), 0) FROM unnest(%s::int[], "
                f"%s::bigint[], %s::bigint[], %s::timestamptz[], %s::timestamptz[]) "
                f"AS w(n, employee_id, rule_id, since, until) LEFT JOIN {table} a "
                f"ON a.employee_id = w.employee_id AND a.rule_id = w.rule_id "
                f"AND a.status = %s AND a.points > 0 AND a.occurred_at >= w.since "
                f"AND a.occurred_at < w.until GROUP BY w.n",
                [list(range(len(windows))), [w[0] for w in windows], [w[1] for w in windows],
                 [w[2] for w in windows], [w[3] for w in windows], AwardStatus.CREDITED])
            for n, total in cursor.fetchall():
                used[n] = int(total)
            return used
        moment = Award._meta.get_field("occurred_at")
        one = (f"SELECT %s, COALESCE(SUM(a.points), 0) FROM {table} a "
               f"WHERE a.employee_id = %s AND a.rule_id = %s AND a.status = %s "
               f"AND a.points > 0 AND a.occurred_at >= %s AND a.occurred_at < %s")
        for start in range(0, len(windows), WINDOWS_PER_STATEMENT):
            chunk = windows[start:start + WINDOWS_PER_STATEMENT]
            params: list[Any] = []
            for n, (employee_id, rule_id, since, until) in enumerate(chunk):
                params += [start + n, employee_id, rule_id, AwardStatus.CREDITED,
                           moment.get_db_prep_value(since, connection),
                           moment.get_db_prep_value(until, connection)]
            cursor.execute(" UNION ALL ".join([one] * len(chunk)), params)
            for n, total in cursor.fetchall():
                used[int(n)] = int(total)
    return used
