"""Recommendations measured offline against popularity, and their cost: leave-last-out on
the bulk demo's history (planted department and personal tastes, ``jifen.demo.tastes``),
the nightly build at size, and the mall home's server time with recommendations.

    PYTHONPATH=src .venv/bin/python bench/recommend.py
        [--database postgresql://postgres@127.0.0.1:5432/jifen_bench_rec]
        [--employees 20000] [--months 12] [--items 100] [--sample 2000] [--requests 50]
        [--seed 2026] [--reuse] [--sweep] [--write]

What it does:

1. creates the database afresh (``--reuse`` keeps one an earlier run built, held-out
   orders and all), migrates, adds the demo mall's category tree and ``--items`` listed
   items with unlimited stock (the demo catalogue, padded with more of the same kinds), then
   ``build_large`` — ``jifen demo --size large``'s loader — for ``--employees`` over
   ``--months``;
2. picks ``--sample`` employees (seeded) with at least two completed redemptions and
   deletes each one's last redemption (the order row: this is a throwaway database) —
   what the recommender must guess;
3. times ``recommend.build()``, the nightly build, over everyone;
4. for each sampled employee asks ``for_employee(limit=10)`` and ``popular_for(limit=10)``
   (the same filters: listed, in stock, eligible, not redeemed before, not at a limit) and
   scores hit-rate@10 and NDCG@10 (one held-out item: 1/log2(rank + 1) on a hit); beside
   them the ceiling: the same candidates ranked by the tastes the loader planted;
5. times the mall home (``portal:mall``) through Django's test client for a few employees,
   ``--requests`` in all, and the home row's recommendations (``suggestions(MALL_HOME)``);
   when the page does not ask for the row yet, both are reported and added;
6. prints a Markdown block for docs/performance.md (``--write`` puts it there).

``--favoured`` and ``--interest`` plant weaker or stronger tastes than the demo's (to see
how the comparison depends on them). ``--sweep`` also reports the hit rate for a few
values of the selector's ``CF_WEIGHT`` (set at run time, on the first 500 of the sample).

Not run in CI: the load takes minutes.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from performance_doc import DOC, ensure_database, write_section

ROOT = Path(__file__).resolve().parent.parent
HOLDOUT_TABLE = "bench_recommend_holdout"
TASTES_TABLE = "bench_recommend_tastes"  # the planted tastes, for the ceiling

# More of the demo catalogue's kinds, to make 100: (category, name, points, CNY, fulfilment)
MORE_ITEMS: list[tuple[str, str, int, int, str]] = [
    ("digital", "Type-C 扩展坞", 700, 139, "shipped"),
    ("digital", "桌面无线充电器", 350, 69, "shipped"),
    ("digital", "运动蓝牙耳机", 900, 179, "shipped"),
    ("digital", "高清网络摄像头", 800, 159, "shipped"),
    ("home", "多功能电煮锅", 650, 129, "shipped"),
    ("home", "真丝眼罩", 120, 25, "shipped"),
    ("home", "香薰蜡烛礼盒", 250, 49, "shipped"),
    ("home", "颈椎按摩仪", 1100, 219, "shipped"),
    ("office", "桌面收纳盒", 90, 18, "pickup"),
    ("office", "无线翻页笔", 260, 52, "shipped"),
    ("office", "可升降笔记本支架", 300, 59, "shipped"),
    ("office", "皮质鼠标垫", 80, 16, "pickup"),
    ("cards", "京东 E 卡 200 元", 1000, 200, "service"),
    ("cards", "美团外卖红包 50 元", 250, 50, "service"),
    ("cards", "滴滴出行券 100 元", 500, 100, "service"),
    ("cards", "喜茶饮品券 2 张", 140, 28, "service"),
    ("topup", "话费充值 30 元", 150, 30, "service"),
    ("topup", "加油卡充值 200 元", 1000, 200, "service"),
    ("topup", "流量包 30GB", 300, 60, "service"),
    ("member", "外卖会员季卡", 160, 32, "service"),
    ("member", "有声书会员年卡", 500, 100, "service"),
    ("member", "健身 App 会员年卡", 600, 120, "service"),
    ("member", "云笔记高级版年卡", 400, 80, "service"),
    ("courses", "数据可视化入门（在线课）", 600, 119, "service"),
    ("courses", "高效时间管理（在线课）", 400, 79, "service"),
    ("courses", "产品经理进阶课", 1800, 359, "service"),
    ("courses", "财务报表速读课", 700, 139, "service"),
    ("courses", "日语零基础入门", 1200, 239, "service"),
    ("leave", "弹性工作日 1 天", 1800, 360, "service"),
    ("leave", "家庭日半天假", 900, 180, "service"),
    ("leave", "午休延长券（1 小时）", 150, 30, "service"),
    ("health", "洁牙护理套餐", 500, 99, "service"),
    ("health", "瑜伽课 10 次卡", 1000, 199, "service"),
    ("health", "心理咨询 1 次", 800, 160, "service"),
    ("health", "游泳馆次卡 10 次", 700, 139, "service"),
    ("training", "行业沙龙入场券", 400, 80, "service"),
    ("training", "导师一对一辅导 1 小时", 1500, 300, "service"),
    ("training", "外语角年度会员", 300, 60, "pickup"),
    ("training", "公开课报名名额", 2000, 400, "service"),
    ("training", "团队拓展活动名额", 1200, 240, "service"),
]


def catalogue(count: int) -> int:
    """The demo's category tree and ``count`` listed items with unlimited stock (a code
    item becomes a service here: a code pool would give it a stock)."""
    from jifen.demo.mall import CATEGORIES, ITEMS
    from jifen.mall import services
    from jifen.mall.models import Fulfilment, ItemStatus

    categories: dict[str, Any] = {}
    for n, (slug, name, kind, icon, parent) in enumerate(CATEGORIES):
        categories[slug] = services.save_category(
            actor=None, name=name, slug=slug, kind=kind, icon=icon, sort_order=n,
            parent=categories[parent] if parent else None)
    wanted = [(cat, name, points, value, fulfilment)
              for cat, name, points, value, _stock, fulfilment, _s, _t, _x in ITEMS]
    wanted += MORE_ITEMS
    for cat, name, points, value, fulfilment in wanted[:count]:
        services.create_item(
            actor=None, name=name, category=categories[cat], points=points,
            market_value=value, stock=None, status=ItemStatus.LISTED,
            fulfilment=Fulfilment.SERVICE if fulfilment == Fulfilment.CODE else fulfilment)
    return min(count, len(wanted))


def load(args: argparse.Namespace) -> dict[str, Any]:
    from django.core.management import call_command

    from jifen.demo.large import build_large

    call_command("migrate", verbosity=0)
    items = catalogue(args.items)
    print(f"{items} items; loading {args.employees:,} employees × {args.months} months …",
          flush=True)
    result = build_large(employees=args.employees, months=args.months, seed=args.seed,
                         log=lambda line: print(line, flush=True))
    print(result.summary(), {k: round(v, 1) for k, v in result.timings.items()}, flush=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {TASTES_TABLE} (employee_id bigint primary key, "
                       "favoured text, interest text)")
        cursor.executemany(f"INSERT INTO {TASTES_TABLE} VALUES (%s, %s, %s)", [
            (pk, ",".join(taste.favoured), taste.interest)
            for pk, taste in result.planted.items()])
    return {"items": items, "load_seconds": result.seconds, "orders": result.orders,
            "views": result.views, "favourites": result.favourites}


def hold_out(args: argparse.Namespace) -> list[tuple[int, int, bool]]:
    """(employee, held-out item, whether they redeemed it before too) for the sample; the
    held-out orders are deleted (kept in ``HOLDOUT_TABLE`` for ``--reuse``)."""
    from django.db import connection

    from jifen.mall.models import Order, OrderStatus

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {HOLDOUT_TABLE} (employee_id bigint, "
                       "item_id bigint, repeat boolean)")
        cursor.execute(f"SELECT employee_id, item_id, repeat FROM {HOLDOUT_TABLE} "
                       "ORDER BY employee_id")
        kept = [(int(e), int(i), bool(r)) for e, i, r in cursor.fetchall()]
    if kept:
        print(f"reusing {len(kept):,} held-out orders")
        return kept
    taken: dict[int, list[tuple[Any, int, int, str]]] = {}
    for pk, employee_id, item_id, status, created in (
            Order.objects.exclude(status__in=(OrderStatus.REJECTED, OrderStatus.CANCELLED))
            .values_list("pk", "employee_id", "item_id", "status", "created_at")
            .iterator(chunk_size=10000)):
        taken.setdefault(employee_id, []).append((created, pk, item_id, status))
    eligible = sorted(e for e, orders in taken.items()
                      if sum(o[3] == OrderStatus.COMPLETED for o in orders) >= 2)
    sample = sorted(random.Random(f"{args.seed}/bench/recommend").sample(
        eligible, min(args.sample, len(eligible))))
    chosen, doomed = [], []
    for employee_id in sample:
        orders = sorted(taken[employee_id])
        _at, pk, item_id, _status = orders[-1]
        chosen.append((employee_id, item_id, any(o[2] == item_id for o in orders[:-1])))
        doomed.append(pk)
    Order.objects.filter(pk__in=doomed).delete()
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {HOLDOUT_TABLE} VALUES (%s, %s, %s)", chosen)
    print(f"held out the last redemption of {len(chosen):,} of {len(eligible):,} employees "
          f"with ≥ 2 completed redemptions", flush=True)
    return chosen


def score(holdout: list[tuple[int, int, bool]],
          recommend: Callable[[Any], list[Any]]) -> tuple[float, float, list[float]]:
    """(hit-rate@10, NDCG@10, milliseconds per call) of ``recommend`` over the sample."""
    from jifen.people.models import Employee

    people = Employee.objects.in_bulk([e for e, _i, _r in holdout])
    hits, gain, times = 0, 0.0, []
    for employee_id, item_id, _repeat in holdout:
        started = time.perf_counter()
        found = [s.target_id for s in recommend(people[employee_id])]
        times.append((time.perf_counter() - started) * 1000)
        if item_id in found:
            hits += 1
            gain += 1 / math.log2(found.index(item_id) + 2)
    return hits / len(holdout), gain / len(holdout), times


def ceiling(holdout: list[tuple[int, int, bool]], seed: int) -> tuple[float, float]:
    """Hit-rate@10 and NDCG@10 of the best guess there is: ranking the same candidates by
    the taste planted in each employee and the items' appeal (``jifen.demo.tastes``; the
    price effect and the noise left out). No recommender can expect to beat it."""
    from django.db import connection

    from jifen.demo import tastes
    from jifen.insights.selectors import recommend as selector
    from jifen.mall.models import Item
    from jifen.people.models import Employee

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT employee_id, favoured, interest FROM {TASTES_TABLE} "
                       "WHERE employee_id = ANY(%s)", [[e for e, _i, _r in holdout]])
        planted = {pk: tastes.Taste(tuple(filter(None, favoured.split(","))), interest)
                   for pk, favoured, interest in cursor.fetchall()}
    slug = dict(Item.objects.values_list("pk", "category__slug"))
    appeal = {pk: tastes.appeal(seed, pk) for pk in slug}
    people = Employee.objects.in_bulk(list(planted))
    hits, gain = 0, 0.0
    for employee_id, item_id, _repeat in holdout:
        taste = planted[employee_id]
        # The same candidates as both lists (listed, in stock, eligible, not redeemed …).
        candidates = selector._mall_candidates(people[employee_id])
        ranked = sorted(candidates, key=lambda t: (
            -tastes.weight(taste, slug[t], item_appeal=appeal[t]), -t))[:10]
        if item_id in ranked:
            hits += 1
            gain += 1 / math.log2(ranked.index(item_id) + 2)
    return hits / len(holdout), gain / len(holdout)


def mall_home(holdout: list[tuple[int, int, bool]], requests: int) -> dict[str, Any]:
    """Server time of the mall home (GET in-process, median and p95 ms) for a few of the
    sampled employees, and of the home row's recommendations on their own."""
    import inspect

    from django.conf import settings
    from django.test import Client, override_settings
    from django.urls import reverse

    from jifen.core import suggestions
    from jifen.ledger import selectors as ledger_selectors
    from jifen.mall import views
    from jifen.people.models import Employee, User

    logging.getLogger("jifen.requests").setLevel(logging.WARNING)  # a line per request
    # Static names as they are, not from a collected manifest (nothing is collected here).
    override_settings(
        ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
        STORAGES={**settings.STORAGES, "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
    people = list(Employee.objects.filter(pk__in=[e for e, _i, _r in holdout[:5]]))
    for person in people:
        if person.user_id is None:
            person.user = User.objects.create_user(username=f"bench-{person.employee_no}")
            person.save(update_fields=["user"])
    clients = []
    for person in people:
        client = Client()
        client.force_login(person.user)
        client.get(reverse("portal:mall"))  # warm-up
        clients.append((client, person))
    page, row = [], []
    for n in range(requests):
        client, person = clients[n % len(clients)]
        started = time.perf_counter()
        response = client.get(reverse("portal:mall"))
        page.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        started = time.perf_counter()
        spendable = ledger_selectors.balance(employee=person).spendable
        suggestions.suggestions(suggestions.MALL_HOME, employee=person, spendable=spendable)
        row.append((time.perf_counter() - started) * 1000)
    wired = "MALL_HOME" in inspect.getsource(views)
    return {"page": page, "row": row, "wired": wired}


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database",
                        default="postgresql://postgres@127.0.0.1:5432/jifen_bench_rec")
    parser.add_argument("--employees", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--sample", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--favoured", type=float, default=None,
                        help="weight of a division's favoured category (jifen.demo.tastes."
                             "FAVOURED) for this load: how strong the planted tastes are")
    parser.add_argument("--interest", type=float, default=None,
                        help="weight added by the person's own interest (tastes.INTEREST)")
    parser.add_argument("--reuse", action="store_true",
                        help="use the database an earlier run built (no load, same hold-out)")
    parser.add_argument("--sweep", action="store_true", help="hit rate for a few CF_WEIGHTs")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    if not args.database.startswith("postgres"):
        parser.error("the bench is written for PostgreSQL (COPY, DROP DATABASE)")

    ensure_database(args.database, fresh=not args.reuse)
    os.environ["JIFEN_DATABASE_URL"] = args.database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jifen.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    from jifen.demo import tastes
    from jifen.insights.selectors import recommend as selector
    from jifen.insights.services import recommend
    from jifen.mall.models import Order
    from jifen.people.models import Employee

    if args.favoured is not None:
        tastes.FAVOURED = args.favoured
    if args.interest is not None:
        tastes.INTEREST = args.interest
    loaded = {} if args.reuse else load(args)
    holdout = hold_out(args)
    built = recommend.build()
    print(f"nightly build: {built.seconds:.1f} s for {built.employees:,} employees, "
          f"{built.signals:,} signals, {built.neighbours:,} neighbours, "
          f"{built.tastes:,} group tastes", flush=True)

    rec_hit, rec_ndcg, rec_ms = score(holdout, lambda e: selector.for_employee(e, limit=10))
    pop_hit, pop_ndcg, _pop_ms = score(holdout, lambda e: selector.popular_for(e, limit=10))
    ratio = rec_hit / pop_hit if pop_hit else float("inf")
    best_hit, best_ndcg = ceiling(holdout, args.seed)
    repeats = sum(r for _e, _i, r in holdout)
    print(f"recommender hit-rate@10 {rec_hit:.3f} NDCG@10 {rec_ndcg:.3f}; popularity "
          f"{pop_hit:.3f} / {pop_ndcg:.3f}; ratio {ratio:.2f}×; ceiling {best_hit:.3f} / "
          f"{best_ndcg:.3f}", flush=True)
    sweep_rows = []
    if args.sweep:
        part = holdout[:500]
        original = selector.CF_WEIGHT
        try:
            for value in (0.0, 1.0, 2.0, 4.0, 8.0, 16.0):
                selector.CF_WEIGHT = value
                hit, ndcg, _ms = score(part, lambda e: selector.for_employee(e, limit=10))
                sweep_rows.append((value, hit, ndcg))
                print(f"  CF_WEIGHT {value:>4}: hit-rate@10 {hit:.3f} NDCG@10 {ndcg:.3f}",
                      flush=True)
        finally:
            selector.CF_WEIGHT = original
    home = mall_home(holdout, args.requests)

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0].split()[0]
    employees, orders = Employee.objects.count(), Order.objects.count()
    table = ["| offline, leave-last-out | hit-rate@10 | NDCG@10 |", "|---|---:|---:|",
             f"| recommender (`for_employee`) | {rec_hit:.3f} | {rec_ndcg:.3f} |",
             f"| popularity (`popular_for`, same filters) | {pop_hit:.3f} | {pop_ndcg:.3f} |",
             f"| ratio | {ratio:.2f}× | "
             f"{(rec_ndcg / pop_ndcg if pop_ndcg else float('inf')):.2f}× |",
             f"| ceiling: the candidates ranked by the planted tastes (price, noise left out) | "
             f"{best_hit:.3f} | {best_ndcg:.3f} |"]
    if sweep_rows:
        table += ["", "| `CF_WEIGHT` (first 500 of the sample) | hit-rate@10 | NDCG@10 |",
                  "|---:|---:|---:|"]
        table += [f"| {value:g} | {hit:.3f} | {ndcg:.3f} |" for value, hit, ndcg in sweep_rows]
    page, row = home["page"], home["row"]
    together = [a + b for a, b in zip(page, row, strict=True)]
    on_page = "" if home["wired"] else ", row not on it yet"
    table += ["", "| timing | median | p95 | target |", "|---|---:|---:|---:|",
              f"| nightly build (`recommend.build()`), {built.employees:,} employees | "
              f"{built.seconds:,.1f} s | | < 60 s |",
              f"| `for_employee(limit=10)`, per sampled employee | "
              f"{statistics.median(rec_ms):.1f} ms | {_p(rec_ms, 0.95):.1f} ms | |",
              f"| mall home row (`suggestions(MALL_HOME)`, with the balance) | "
              f"{statistics.median(row):.1f} ms | {_p(row, 0.95):.1f} ms | |",
              f"| mall home page (`GET portal:mall`{on_page}) | "
              f"{statistics.median(page):.1f} ms | {_p(page, 0.95):.1f} ms | "
              f"{'≤ 50 ms' if home['wired'] else ''} |"]
    if not home["wired"]:
        table.append(f"| mall home page + row (added) | {statistics.median(together):.1f} ms | "
                     f"{_p(together, 0.95):.1f} ms | ≤ 50 ms |")
    load_line = (f"loaded in {loaded['load_seconds']:,.0f} s ({loaded['items']} items, "
                 f"{loaded['views']:,} item views, {loaded['favourites']:,} favourites)"
                 if loaded else "reused an earlier load")
    text = (
        "\n".join(table) + "\n\n"
        f"{time.strftime('%Y-%m-%d', time.gmtime())} (UTC): {employees:,} employees, "
        f"{orders:,} orders left after holding out the last redemption of {len(holdout):,} "
        f"sampled employees with ≥ 2 completed redemptions ({repeats:,} of those items "
        f"were redeemed by the same person before, so neither list may offer them); "
        f"{args.months} months of history, seed {args.seed}, planted tastes favoured "
        f"×{tastes.FAVOURED:g}, own interest +{tastes.INTEREST:g}; {load_line}. "
        f"Mall home: {args.requests} in-process requests (Django test client) across "
        f"{min(5, len(holdout))} employees after a warm-up each. PostgreSQL {server}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPU cores, load average "
        f"{os.getloadavg()[0]:.1f} when the timing ended."
    )
    print("\n" + text)
    if args.write:
        write_section("recommend-bench", text)
        print(f"\nwritten to {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
