"""Insights and console lists at size: 100,000 employees and ~10,000,000 ledger entries on
PostgreSQL; each query's server time (measured in-process around the selector call, median
of ``--rounds``) beside the plain GROUP BY over the ledger that the rollups replace.

    .venv/bin/python bench/insights.py [--database postgresql://postgres@127.0.0.1:5432/jifen_bench_insights]
                                       [--employees 100000] [--months 24] [--earn-rate 1.65]
                                       [--rounds 20] [--rebuild | --measure-only] [--verify]
                                       [--explain] [--write]

What it does:

1. builds the database (created if missing) with the small demo company and, beside it, a
   bulk-loaded one of ``--employees`` with ``--months`` of history — the loader of
   ``jifen demo --size large`` (COPY), then ``rollups.rebuild()``. A database that already
   holds that company is reused (``--rebuild`` drops and builds it again);
2. times, ``--rounds`` times each (the median counts):
   - the console lists' first page and 100th page (the cursor reached by following
     "next" 99 times, then fetched directly): people (by number), ledger transactions
     (newest first), mall orders (the order desk, all statuses, and the completed ones);
   - rankings and dashboards: the rows the rollups give (top 10 of a year from
     ``Standing``; the company's months from ``CompanyMonth``) and, beside them, the
     plain GROUP BY over ledger entries that computes the same answer;
   - the leaderboard and dashboard selectors named in ``LEADERBOARD_HOOKS`` and
     ``DASHBOARD_HOOKS`` (filled by whoever adds them; skipped while empty);
3. checks `jifen ledger verify` is clean when it built the database, prints a Markdown
   table, and with ``--write`` puts it into docs/performance.md.

``--measure-only`` times a database built before (by an earlier run) without loading
anything: the step to repeat on a quiet machine.

Not run in CI: building the full size takes a while (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from performance_doc import DOC, ensure_database, write_section

ROOT = Path(__file__).resolve().parent.parent
PAGE_PEOPLE, PAGE_TXNS, PAGE_ORDERS = 50, 25, 25  # the console pages' sizes


@dataclass
class Context:
    """What a timed query may need: a year, a department with employees, a viewer."""

    year: int
    department_id: int
    hr_user: Any
    team_ids: tuple[int, ...] = ()
    last_month: Any = None  # a date: the first day of last month
    middle_employee_no: str = ""


# --- hooks: the insights selectors, added as they land ------------------------------------
# Each entry: (label, callable taking the Context and returning what the page shows). The
# lead adds the calls of jifen.insights.selectors.leaderboard / .dashboards here, e.g.
#   ("leaderboard: company, year", lambda ctx: leaderboard.top(period=str(ctx.year), ...)),
LEADERBOARD_HOOKS: list[tuple[str, Callable[[Context], Any]]] = []
DASHBOARD_HOOKS: list[tuple[str, Callable[[Context], Any]]] = []


def _board(scope: str, period: str, *, category: str = "", fresh: bool = False,
           ) -> Callable[[Context], Any]:
    """The leaderboard page's read (``selectors.leaderboard.board``) as the hr login sees
    it; ``fresh`` drops the cached ladder first: the first read after a fold."""
    def call(ctx: Context) -> Any:
        from django.core.cache import cache

        from jifen.insights.selectors import leaderboard
        from jifen.people.models import Department

        if fresh:
            cache.clear()
        department = Department.objects.get(pk=ctx.department_id)
        chosen = (leaderboard.Scope("department", department=department)
                  if scope == "department" else leaderboard.Scope(scope,
                  department_ids=ctx.team_ids if scope == "team" else ()))
        return leaderboard.board(viewer=ctx.hr_user, scope=chosen,
                                 period=leaderboard.parse_period(period), category=category)
    return call


def _chart(key: str, *, department: bool = False, fresh: bool = False,
           **options: Any) -> Callable[[Context], Any]:
    """One dashboard chart (``selectors.dashboards.chart``), the default period (the last
    twelve months) for the whole company or one department; ``fresh`` drops what the
    charts keep per fold first (inactive, fairness): the first read after a fold."""
    def call(ctx: Context) -> Any:
        from django.core.cache import cache

        from jifen.insights.selectors import dashboards
        from jifen.people.models import Department

        if fresh:
            cache.clear()

        code = Department.objects.get(pk=ctx.department_id).code if department else None
        filters = dashboards.filters_for(user=ctx.hr_user, department=code)
        return dashboards.chart(key, filters, **options).rows
    return call


for _period in ("month", "quarter", "year", "all"):
    LEADERBOARD_HOOKS.append((f"leaderboard: company, {_period}", _board("company", _period)))
LEADERBOARD_HOOKS += [
    ("leaderboard: company, year, one category", _board("company", "year",
                                                        category="performance")),
    ("leaderboard: department, month", _board("department", "month")),
    ("leaderboard: department, year", _board("department", "year")),
    ("leaderboard: team (a top-level subtree), year", _board("team", "year")),
    ("leaderboard: company, year — first read after a fold", _board("company", "year",
                                                                   fresh=True)),
    ("leaderboard: company, all — first read after a fold", _board("company", "all",
                                                                  fresh=True)),
]
def _payroll_page(*, middle: bool) -> Callable[[Context], Any]:
    """A page of 100 lines of last month's payroll (``GET /api/v1/payroll/periods/{month}``
    reads ``payroll.read_period``): the first page, or one from the middle of the company."""
    def call(ctx: Context) -> Any:
        from jifen.insights.services import payroll

        return payroll.read_period(month=ctx.last_month, limit=100,
                                   after=ctx.middle_employee_no if middle else "").lines
    return call


for _key in ("flows", "categories", "per-head", "items", "activities", "liability",
             "inactive", "fairness", "heatmap"):
    DASHBOARD_HOOKS.append((f"dashboard {_key}: company, last 12 months", _chart(_key)))
DASHBOARD_HOOKS += [
    ("dashboard inactive: company, 90 days, page 20", _chart("inactive", days=90, page=20)),
    ("dashboard fairness: one department", _chart("fairness", department=True)),
    ("dashboard inactive: one department", _chart("inactive", department=True)),
    ("dashboard inactive: company — first read after a fold", _chart("inactive", fresh=True)),
    ("dashboard fairness: company — first read after a fold", _chart("fairness", fresh=True)),
    ("dashboard flows: company — first read after a fold", _chart("flows", fresh=True)),
    ("dashboard per-head: company — first read after a fold", _chart("per-head", fresh=True)),
    ("dashboard liability: company — first read after a fold",
     _chart("liability", fresh=True)),
    ("dashboard heatmap: company — first read after a fold", _chart("heatmap", fresh=True)),
]
def _refresh(what: str) -> Callable[[Context], Any]:
    """The worker's refresh after the minute's fold (decision 0037), as it runs when
    someone has looked within the hour: the company's ladders, or the default dashboard."""
    def call(ctx: Context) -> Any:
        from django.core.cache import cache

        from jifen.insights.selectors import dashboards, leaderboard

        module = leaderboard if what == "leaderboard" else dashboards
        cache.set(module.READ_RECENTLY, True, module.READ_RECENTLY_SECONDS)
        return module.refresh_after_fold()
    return call


WORKER_HOOKS: list[tuple[str, Callable[[Context], Any]]] = [
    ("refresh after the fold: the company's ladders (4 periods)", _refresh("leaderboard")),
    ("refresh after the fold: the default dashboard (7 charts)", _refresh("dashboards")),
]
DASHBOARD_HOOKS += [
    ("payroll API: last month, first 100 lines", _payroll_page(middle=False)),
    ("payroll API: last month, 100 lines from the middle", _payroll_page(middle=True)),
]


def build(args: argparse.Namespace) -> dict[str, Any]:
    """The database at size; returns what was built (or found) and how long it took."""
    import django

    django.setup()
    # The app registry is ready only after django.setup(): these import models.
    from django.core.management import call_command

    from jifen.demo.builder import build_demo
    from jifen.demo.large import build_large
    from jifen.ledger.models import Entry
    from jifen.people.models import Employee

    call_command("migrate", verbosity=0)
    loaded = Employee.objects.filter(employee_no__startswith="LG").count()
    if loaded >= args.employees:
        print(f"reusing the database: {loaded:,} bulk-loaded employees")
        return {"reused": True, "employees": Employee.objects.count(),
                "entries": Entry.objects.count()}
    if args.measure_only:
        raise SystemExit(f"--measure-only: the database holds {loaded:,} bulk-loaded "
                         f"employees, not {args.employees:,}; build it first")
    if Employee.objects.exists():
        raise SystemExit("the database holds another company; run with --rebuild")
    started = time.monotonic()
    build_demo(log=print)
    small = time.monotonic() - started
    result = build_large(employees=args.employees, months=args.months,
                         earn_rate=args.earn_rate, log=print)
    print(result.summary(), {k: round(v, 1) for k, v in result.timings.items()})
    return {"reused": False, "employees": Employee.objects.count(), "entries": result.entries,
            "transactions": result.transactions, "small_seconds": small,
            "large_seconds": result.seconds, "timings": result.timings}


def timed(call: Callable[[], Any], rounds: int) -> float:
    """Median milliseconds of ``rounds`` calls (after one warm-up call)."""
    call()
    runs = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def page_calls(queryset_of: Callable[[], Any], order: tuple[str, ...], limit: int,
               ) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(first page, 100th page) of a keyset list, each materialised as the view does."""
    from jifen.core.pagination import keyset_page  # django.setup() has run

    hundredth_after = _cursor_before_last_page(queryset_of, order, limit)

    def first() -> Any:
        return list(keyset_page(queryset_of(), order=order, limit=limit))

    def hundredth() -> Any:
        return list(keyset_page(queryset_of(), order=order, limit=limit,
                                after=hundredth_after))

    return first, hundredth


def _cursor_before_last_page(queryset_of: Callable[[], Any], order: tuple[str, ...],
                             limit: int) -> str | None:
    """The cursor that opens page 100 (following "next" 99 times)."""
    from jifen.core.pagination import keyset_page  # django.setup() has run

    cursor = None
    for _n in range(99):
        page = keyset_page(queryset_of(), order=order, limit=limit, after=cursor)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    return cursor


def queries(ctx: Context) -> list[tuple[str, str, Callable[[], Any]]]:
    """(group, label, call) of everything timed."""
    from django.db.models import Sum

    from jifen.insights.models import CompanyMonth, Standing
    from jifen.ledger import selectors as ledger_selectors
    from jifen.ledger.models import Entry
    from jifen.mall import selectors as mall_selectors
    from jifen.people import selectors as people_selectors

    found: list[tuple[str, str, Callable[[], Any]]] = []
    lists = [
        ("people", lambda: people_selectors.sort_employees(
            people_selectors.search_employees(user=ctx.hr_user), ""),
         people_selectors.list_order(""), PAGE_PEOPLE),
        ("transactions", lambda: ledger_selectors.transactions(), ("-pk",), PAGE_TXNS),
        ("orders (desk, all)", lambda: mall_selectors.order_desk(), ("pk",), PAGE_ORDERS),
        ("orders (desk, completed)", lambda: mall_selectors.order_desk(status="completed"),
         ("pk",), PAGE_ORDERS),
    ]
    for label, queryset_of, order, limit in lists:
        first, hundredth = page_calls(queryset_of, order, limit)
        found += [("lists", f"{label}: page 1", first),
                  ("lists", f"{label}: page 100", hundredth)]

    year, start, end = str(ctx.year), _year_start(ctx.year), _year_start(ctx.year + 1)
    found += [
        ("rankings", "top 10 of the year — rollup (Standing)", lambda: list(
            Standing.objects.filter(period=year, category="").order_by("-points")[:10]
            .values_list("employee_id", "points"))),
        ("rankings", "top 10 of the year — GROUP BY over entries", lambda: list(
            Entry.objects.filter(transaction__kind__in=("earn", "penalty"),
                                 transaction__created_at__gte=start,
                                 transaction__created_at__lt=end,
                                 account__kind="wallet")
            .values("account__employee_id").annotate(points=Sum("amount"))
            .order_by("-points")[:10])),
        ("rankings", "top 10 of a department — rollup (Standing)", lambda: list(
            Standing.objects.filter(period=year, category="", department_id=ctx.department_id)
            .order_by("-points")[:10].values_list("employee_id", "points"))),
        ("rankings", "top 10 of a department — GROUP BY over entries", lambda: list(
            Entry.objects.filter(transaction__kind__in=("earn", "penalty"),
                                 transaction__created_at__gte=start,
                                 transaction__created_at__lt=end, account__kind="wallet",
                                 account__employee__department_id=ctx.department_id)
            .values("account__employee_id").annotate(points=Sum("amount"))
            .order_by("-points")[:10])),
        ("dashboards", "points per month and category, company — rollup (CompanyMonth)",
         lambda: list(
            CompanyMonth.objects.filter(month__gte=start.date(), month__lt=end.date())
            .values("month", "category").annotate(points=Sum("amount"))
            .order_by("month", "category"))),
        ("dashboards", "points per month and category, company — GROUP BY over entries",
         lambda: list(_monthly_from_entries(start, end))),
    ]
    found += [("leaderboard", label, _bound(call, ctx)) for label, call in LEADERBOARD_HOOKS]
    found += [("dashboards", label, _bound(call, ctx)) for label, call in DASHBOARD_HOOKS]
    found += [("worker", label, _bound(call, ctx)) for label, call in WORKER_HOOKS]
    return found


def _target(group: str, label: str, ms: float) -> str:
    """Issue #14's bound for the row, and whether it was met: lists' pages ≤ 100 ms,
    leaderboard and dashboard reads ≤ 50 ms; the GROUP BY rows are the comparison, the
    worker's rows its work per minute (no page waits for it)."""
    if "GROUP BY" in label:
        return "(comparison)"
    if group == "worker":
        return "(the worker, once a minute)"
    bound = 100 if group == "lists" else 50
    return f"≤ {bound} {'✓' if ms <= bound else '✗'}"


def _bound(call: Callable[[Context], Any], ctx: Context) -> Callable[[], Any]:
    return lambda: call(ctx)


def _year_start(year: int) -> datetime:
    from django.utils import timezone  # settings are configured by then

    return timezone.make_aware(datetime(year, 1, 1))


def _monthly_from_entries(start: datetime, end: datetime) -> Any:
    from django.db.models import Sum
    from django.db.models.functions import TruncMonth

    from jifen.ledger.models import Entry

    return (Entry.objects.filter(transaction__created_at__gte=start,
                                 transaction__created_at__lt=end,
                                 account__kind__in=("wallet", "hold"))
            .annotate(month=TruncMonth("transaction__created_at"))
            .values("month", "transaction__category").annotate(points=Sum("amount"))
            .order_by("month", "transaction__category"))


def context() -> Context:
    from django.db.models import Count
    from django.utils import timezone

    from jifen.people.models import Department, Employee

    hr = Employee.objects.filter(user__username="hr").select_related("user").first()
    if hr is None:
        raise SystemExit("no demo 'hr' login in this database")
    assert hr.user is not None
    department = (Department.objects.filter(code__startswith="LG-").annotate(
        n=Count("employees")).filter(n__gt=0).order_by("pk").first())
    assert department is not None
    top = (Department.objects.filter(code__startswith="LG-").order_by("path")
           .values_list("path", flat=True).first())
    team = tuple(Department.objects.filter(path__startswith=top).values_list("pk", flat=True))
    today = timezone.localdate()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    count = Employee.objects.count()
    middle = (Employee.objects.order_by("employee_no").values_list("employee_no", flat=True)
              [count // 2])
    return Context(year=today.year, department_id=department.pk, hr_user=hr.user,
                   team_ids=team, last_month=last_month, middle_employee_no=middle)


def explain(calls: list[tuple[str, str, Callable[[], Any]]]) -> None:
    """Print PostgreSQL's plan of each list query (page 100) to check it seeks an index."""
    from django.db import connection

    for _group, label, call in calls:
        if "page 100" not in label:
            continue
        before = len(connection.queries)
        connection.force_debug_cursor = True
        call()
        connection.force_debug_cursor = False
        statement = connection.queries[before]["sql"]
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN ANALYZE " + statement)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        print(f"\n--- {label}\n{plan}")


def write_doc(text: str) -> None:
    write_section("insights-bench", text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database",
                        default="postgresql://postgres@127.0.0.1:5432/jifen_bench_insights")
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--earn-rate", type=float, default=1.65,
                        help="earnings per employee and month (with the penalties, orders "
                             "and expiry that follow, for 100,000 employees over 24 months "
                             "1.1 gave 7.8M ledger entries, 1.45 gave 9.4M, 1.65 over 10M)")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--baseline-rounds", type=int, default=5,
                        help="rounds of the plain GROUP BY queries (seconds each at size)")
    parser.add_argument("--verify", action="store_true",
                        help="run `jifen ledger verify` after building (minutes at size)")
    parser.add_argument("--rebuild", action="store_true", help="drop and build it again")
    parser.add_argument("--measure-only", action="store_true",
                        help="only time an already-built database (migrated first, never "
                             "loaded: stops if the company is not there)")
    parser.add_argument("--explain", action="store_true", help="print the lists' plans")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    if not args.database.startswith("postgres"):
        parser.error("the bench is written for PostgreSQL (COPY)")

    if args.measure_only and args.rebuild:
        parser.error("--measure-only and --rebuild exclude each other")
    if not args.measure_only:
        ensure_database(args.database, fresh=args.rebuild)
    os.environ["JIFEN_DATABASE_URL"] = args.database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jifen.settings")
    sys.path.insert(0, str(ROOT))
    built = build(args)
    if not built["reused"] and args.verify:
        from jifen.ledger.verify import verify_ledger  # after django.setup() in build()

        started = time.monotonic()
        breaches = verify_ledger()
        built["verify_seconds"] = time.monotonic() - started
        if breaches:
            print("\n".join(breaches[:50]))
            return 1

    ctx = context()
    calls = queries(ctx)
    if args.explain:
        explain(calls)
    rows = []
    for group, label, call in calls:
        rounds = args.baseline_rounds if "GROUP BY" in label else args.rounds
        ms = timed(call, rounds)
        rows.append((group, label + ("" if rounds == args.rounds else f" ({rounds} runs)"), ms))
        print(f"{group:<11} {label:<66} {ms:9.1f} ms", flush=True)

    from django.db import connection  # configured by build()

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0].split()[0]
        cursor.execute("SELECT COUNT(*) FROM ledger_entry")
        entries = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM ledger_transaction")
        transactions = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM mall_order")
        orders = cursor.fetchone()[0]
    table = ["| group | query | median (ms) | target (ms) |", "|---|---|---:|---:|"]
    table += [f"| {group} | {label} | {ms:,.1f} | {_target(group, label, ms)} |"
              for group, label, ms in rows]
    build_line = ("reused an existing build" if built["reused"] else
                  f"built in {built['small_seconds'] + built['large_seconds']:,.0f} s "
                  f"(small demo {built['small_seconds']:,.0f} s, bulk load "
                  f"{built['large_seconds']:,.0f} s: "
                  + ", ".join(f"{k} {v:,.0f} s" for k, v in built["timings"].items())
                  + (f"; `jifen ledger verify` clean in {built['verify_seconds']:,.0f} s)"
                     if "verify_seconds" in built else ")"))
    text = (
        "\n".join(table) + "\n\n"
        f"{time.strftime('%Y-%m-%d', time.gmtime())} (UTC): {built['employees']:,} employees, "
        f"{transactions:,} transactions, {entries:,} ledger entries, {orders:,} orders; "
        f"{build_line}. Median of {args.rounds} calls after one warm-up, timed in-process "
        f"around the selector call (query and row building, no template); PostgreSQL "
        f"{server}, Python {platform.python_version()}, {os.cpu_count()} CPU cores, load "
        f"average {os.getloadavg()[0]:.1f} when the timing ended."
    )
    print("\n" + text)
    if args.write:
        write_doc(text)
        print(f"\nwritten to {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
