"""CI gate: two `jifen serve` (two ports) and two `jifen worker` on one PostgreSQL (or
MariaDB) database (issue 10, item 9). A flash sale goes through both servers at once — never
oversold, every order's points held exactly once, stock and orders adding up — and the
daily jobs (jifen.core.periodic, decision 0008) run exactly once across the two workers."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict

import pytest

from tests.gates.harness import Call, Load, free_port, query

pytestmark = [pytest.mark.gate]

BUYERS = 40
POINTS = 100
POOR = {"0": 5, "1": 5}  # less than the price: insufficient_points from their first order
PRICE, STOCK = 10, 60
ORDERS_EACH = 4  # 152 wanted, 60 in stock
EXPIRED_LOTS, EXPIRED_POINTS = 2, 3  # per buyer, past their date: the sweep's work
EXPIRING_LOTS, EXPIRING_POINTS = 1, 2  # per buyer, within the notice period
LANES = 16
JOBS = {"ledger.expiry": "jifen.ledger.tasks.expire_points",
        "core.purge_import_files": "jifen.core.imports.jobs.purge_import_files_task",
        "earning.approval_reminder": "jifen.earning.tasks.remind_approvers_task",
        "mall.order_reminder": "jifen.mall.tasks.remind_order_desk_task",
        "activities.lottery_draws": "jifen.activities.tasks.draw_due_lotteries_task",
        "insights.recommendations": "jifen.insights.tasks.build_recommendations_task"}


def test_flash_sale_across_two_servers_and_daily_jobs_once_across_two_workers(site,
                                                                              processes):
    seeded = site.seed({
        "employees": BUYERS, "points": POINTS, "poor": POOR,
        "items": [{"name": "Flash sale", "points": PRICE, "stock": STOCK}],
        "expired_lots": EXPIRED_LOTS, "expiring_lots": EXPIRING_LOTS,
    })
    url = site.database_url
    # Both workers at once: each looks at the clock as it starts.
    for n in (1, 2):
        processes.start(f"worker{n}", "-m", "tests.gates.worker", "--interval", "0.2")
    ports = [free_port(), free_port()]
    servers = [f"http://127.0.0.1:{port}" for port in ports]
    for n, port in enumerate(ports):
        processes.serve(f"serve{n + 1}", port, workers=2, threads=4)

    # The daily jobs: started once, run once.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        done = query(url, "SELECT count(*) FROM django_tasks_database_dbtaskresult "
                          "WHERE status IN ('SUCCESSFUL', 'FAILED')")[0][0]
        if done >= len(JOBS):
            break
        time.sleep(0.2)
    check_daily_jobs(url, seeded)

    # The flash sale, each buyer's orders alternating between the two servers.
    (item,) = seeded["items"]
    calls = [Call("order", "/api/v1/orders", {"item_id": item}, person["token"],
                  f"flash-{person['no']}-{n}", meta={"employee": person},
                  server=servers[(i + n) % 2])
             for n in range(ORDERS_EACH) for i, person in enumerate(seeded["employees"])]
    load = Load([calls[i::LANES] for i in range(LANES)], lambda: servers[0],
                deadline=time.monotonic() + 90)
    load.start()
    load.join()

    assert [c.key for c in calls if c.status is None] == []
    assert [(c.key, e) for c in calls for e in c.server_errors] == []
    for call in calls:
        assert call.status == 201 or (call.status == 409 and call.answer["error"]["code"] in {
            "out_of_stock", "insufficient_points"}), (call.key, call.status, call.answer)
    sold = [c for c in calls if c.status == 201]
    assert len(sold) == STOCK, Counter(c.status for c in calls)
    assert {c.server for c in sold} == set(servers), "one server sold nothing"
    poor = {seeded["employees"][int(n)]["no"] for n in POOR}
    refused = Counter(c.answer["error"]["code"] for c in calls if c.status == 409)
    assert refused["out_of_stock"] > 0 and refused["insufficient_points"] > 0, refused
    assert all(c.answer["error"]["code"] == "out_of_stock" for c in calls
               if c.status == 409 and c.meta["employee"]["no"] not in poor)

    # Never oversold: stock and orders add up, each order has one hold of its points.
    stock, sold_count = query(url, "SELECT stock, sold_count FROM mall_item WHERE id = %s",
                              (item,))[0]
    orders = query(url, "SELECT id, idempotency_key, points, status FROM mall_order")
    assert (stock, sold_count, len(orders)) == (0, STOCK, STOCK)
    assert {o[0] for o in orders} == {c.answer["id"] for c in sold}
    assert {o[3] for o in orders} == {"submitted"}
    holds = Counter(query(url, "SELECT cause_id, amount FROM ledger_transaction "
                               "WHERE kind = 'hold' AND cause_type = 'mall.order'"))
    assert holds == Counter((str(o[0]), o[2]) for o in orders)

    # Every wallet and hold to the point.
    bought: dict[str, int] = defaultdict(int)
    for call in sold:
        bought[call.meta["employee"]["no"]] += call.answer["points"]
    balances = {(no, kind): balance for no, kind, balance in query(
        url, "SELECT e.employee_no, a.kind, a.balance FROM ledger_account a "
             "JOIN people_employee e ON e.id = a.employee_id")}
    for n, person in enumerate(seeded["employees"]):
        start = POOR.get(str(n), POINTS) + EXPIRING_LOTS * EXPIRING_POINTS
        assert balances[(person["no"], "wallet")] == start - bought[person["no"]], person
        assert balances.get((person["no"], "hold"), 0) == bought[person["no"]], person

    check_daily_jobs(url, seeded)  # still once, however often the workers looked since
    verify = site.run("ledger", "verify", check=False, name="verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def check_daily_jobs(url: str, seeded: dict) -> None:
    runs = query(url, "SELECT job, period FROM core_periodicrun")
    assert {job for job, _period in runs} == set(JOBS), runs
    assert len(runs) == len(set(runs))
    periods = Counter(job for job, _period in runs)  # 2 only across midnight in Shanghai
    tasks = query(url, "SELECT task_path, status, worker_ids "
                       "FROM django_tasks_database_dbtaskresult")
    assert Counter(path for path, _s, _w in tasks) == Counter(
        {path: periods[job] for job, path in JOBS.items()}), tasks
    assert all(status == "SUCCESSFUL" and len(json.loads(workers) if isinstance(
        workers, str) else workers) == 1 for _path, status, workers in tasks), tasks

    # What the sweep left: each lot past its date expired once, each buyer told once.
    expired = Counter(query(url, "SELECT cause_id FROM ledger_transaction "
                                 "WHERE kind = 'expire'"))
    assert len(expired) == BUYERS * EXPIRED_LOTS and set(expired.values()) == {1}
    assert query(url, "SELECT count(*) FROM ledger_lot WHERE amount = %s AND remaining > 0",
                 (EXPIRED_POINTS,)) == [(0,)]
    notices = Counter(query(url, "SELECT lot_id FROM ledger_expirynotice"))
    assert len(notices) == BUYERS * EXPIRING_LOTS and set(notices.values()) == {1}
    told = Counter(user for (user,) in query(
        url, "SELECT recipient_id FROM notifications_notification "
             "WHERE kind = 'ledger.points_expiring'"))
    assert sorted(told) == sorted(p["user_id"] for p in seeded["employees"])
    assert set(told.values()) == {1}
