"""CI gate: a crash test (issue 10, item 9). A bounded load of orders, adjustments and
event batches, each request with an Idempotency-Key, runs against a real `jifen serve`
(gunicorn, two workers) on PostgreSQL and on MariaDB. Mid-load its workers are killed with
SIGKILL, then the master; a new `jifen serve` takes over the same database and port. The
clients send every unanswered request again with the same key until it is answered. In the end every
acknowledged request is applied exactly once — counted per key in the database, and to the
point in every wallet and hold — and `jifen ledger verify` exits 0."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter, defaultdict

import pytest

from tests.gates.harness import Call, Load, children, free_port, group_alive, query

pytestmark = [pytest.mark.gate]

EMPLOYEES = 12
POINTS = 5000
POOR = 15  # employee 0: one order of A, then insufficient_points
PRICE_A, PRICE_B, STOCK_B = 10, 5, 12
ORDERS_EACH = 10
ADJUSTMENTS = 80
BATCHES, BATCH_SIZE = 40, 5
EVENT_POINTS = 10
LANES = 6
LOAD_SECONDS = 120  # clients give up after this: the test then fails, it never hangs


def plan(seeded: dict) -> list[Call]:
    """Every request of the load, in a fixed order."""
    staff, key = seeded["employees"], seeded["key"]
    item_a, item_b = seeded["items"]
    orders = [
        Call("order", "/api/v1/orders", {"item_id": item_b if n % 2 else item_a},
             person["token"], f"order-{person['no']}-{n}", meta={"employee": person})
        for n in range(ORDERS_EACH) for person in staff
    ]
    adjustments = []
    for n in range(ADJUSTMENTS):
        person = staff[n % EMPLOYEES]
        # The poor employee is sometimes asked for more than they have: insufficient_points.
        poor_debit = n % EMPLOYEES == 0 and (n // EMPLOYEES) % 2
        amount = -1000 if poor_debit else (7 if n % 3 else -3)
        adjustments.append(Call(
            "adjust", "/api/v1/adjustments",
            {"employee_no": person["no"], "amount": amount, "reason": f"gate {n}"},
            key["token"], f"adjust-{n}", meta={"employee": person}))
    batches = []
    for n in range(BATCHES):
        events = [{"source": "gate-crash", "id": f"b{n}-e{i}", "type": "attendance_full_month",
                   "employee_no": staff[(n + i) % EMPLOYEES]["no"],
                   "occurred_at": "2026-03-31T18:00:00+08:00", "payload": {"month": "2026-03"}}
                  for i in range(BATCH_SIZE)]
        batches.append(Call("events", "/api/v1/events", {"events": events}, key["token"],
                            f"events-{n}"))
    # Interleave the three kinds so that every kill meets all of them in flight.
    calls, streams = [], [orders, adjustments, batches]
    while any(streams):
        for stream in streams:
            if stream:
                calls.append(stream.pop(0))
    return calls


def test_every_acknowledged_request_is_applied_exactly_once_across_kill_9(site, processes):
    seeded = site.seed({
        "employees": EMPLOYEES, "points": POINTS, "poor": {"0": POOR},
        "items": [{"name": "Gate A", "points": PRICE_A, "stock": None},
                  {"name": "Gate B", "points": PRICE_B, "stock": STOCK_B}],
        "event_rule_points": EVENT_POINTS, "key_scopes": ["ledger:write", "events:write"],
    })
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    master = processes.serve("serve", port, workers=2, threads=4)
    calls = plan(seeded)
    load = Load([calls[i::LANES] for i in range(LANES)], lambda: base,
                deadline=time.monotonic() + LOAD_SECONDS)
    total = load.total
    load.start()
    kills = []

    # 1. one worker, mid-load
    load.wait_for(total * 15 // 100)
    victims = children(master.pid)
    assert victims, "gunicorn has no workers to kill"
    os.kill(victims[0], signal.SIGKILL)
    kills.append(("worker", victims[0]))

    # 2. every worker at once (the master forks new ones)
    load.wait_for(total * 35 // 100)
    for pid in children(master.pid):
        os.kill(pid, signal.SIGKILL)
        kills.append(("worker", pid))

    # 3. the master; its orphaned workers finish what they hold and leave (or are killed
    # as a crashed machine would lose them), and a new server takes the same port.
    load.wait_for(total * 60 // 100)
    os.kill(master.pid, signal.SIGKILL)
    kills.append(("master", master.pid))
    master.wait(timeout=10)
    gone = time.monotonic() + 10
    while group_alive(master.pid) and time.monotonic() < gone:
        time.sleep(0.1)
    if group_alive(master.pid):
        os.killpg(master.pid, signal.SIGKILL)
    processes.serve("serve-again", port, workers=2, threads=4)

    load.join()
    assert [k for k, _pid in kills].count("master") == 1 and len(kills) >= 3, kills
    assert load.answered > total * 60 // 100, "the master was killed after the load ended"

    # Every request was answered in the end, and never with a 5xx.
    unanswered = [c.key for c in calls if c.status is None]
    assert not unanswered, f"{len(unanswered)} requests never answered: {unanswered[:10]}"
    server_errors = [(c.key, e) for c in calls for e in c.server_errors]
    assert not server_errors, server_errors[:5]
    assert sum(c.attempts for c in calls) > total, "no request had to be sent again"

    # Each answer is a success or a business refusal.
    for call in calls:
        if call.kind == "events":
            assert call.status == 200, (call.key, call.status, call.answer)
        elif call.status == 409:
            allowed = {"out_of_stock", "insufficient_points"} if call.kind == "order" \
                else {"insufficient_points"}
            assert call.answer["error"]["code"] in allowed, (call.key, call.answer)
        else:
            assert call.status == 201, (call.key, call.status, call.answer)
    statuses = Counter((c.kind, c.status) for c in calls)
    assert statuses[("order", 409)] > 0 and statuses[("adjust", 409)] > 0, statuses

    check_database(site.database_url, calls, seeded)
    verify = site.run("ledger", "verify", check=False, name="verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def check_database(url: str, calls: list[Call], seeded: dict) -> None:
    user_of = {p["no"]: p["user_id"] for p in seeded["employees"]}
    key_id = seeded["key"]["id"]

    # Orders: one per acknowledged key (the same order the answer named), none per refusal,
    # and one hold per order.
    orders = defaultdict(list)
    for key, order_id, points in query(url, "SELECT idempotency_key, id, points FROM mall_order"):
        orders[key].append((order_id, points))
    holds = Counter(cause for (cause,) in query(
        url, "SELECT cause_id FROM ledger_transaction WHERE kind = 'hold' "
             "AND cause_type = 'mall.order'"))
    expected_orders = set()
    for call in (c for c in calls if c.kind == "order"):
        stored = orders.get(f"api:user:{user_of[call.meta['employee']['no']]}:{call.key}", [])
        if call.status == 201:
            assert [o for o, _p in stored] == [call.answer["id"]], (call.key, stored)
            assert holds[str(call.answer["id"])] == 1, call.key
            expected_orders.add(call.answer["id"])
        else:
            assert stored == [], (call.key, stored)
    assert {o for rows in orders.values() for o, _p in rows} == expected_orders
    assert sum(holds.values()) == len(expected_orders)
    stock_b, sold_b = query(url, "SELECT stock, sold_count FROM mall_item WHERE id = %s",
                            (seeded["items"][1],))[0]
    assert stock_b + sold_b == STOCK_B and stock_b >= 0

    # Adjustments: one transaction per acknowledged key, none per refusal.
    adjusted = Counter(key for (key,) in query(
        url, "SELECT idempotency_key FROM ledger_transaction WHERE idempotency_key LIKE %s",
        (f"api:key:{key_id}:%",)))
    for call in (c for c in calls if c.kind == "adjust"):
        assert adjusted[f"api:key:{key_id}:{call.key}"] == (1 if call.status == 201 else 0), \
            call.key

    # Events: every event of every batch stored once, credited once.
    events = Counter(query(url, "SELECT source, external_id, status FROM earning_event"))
    sent = [(e["source"], str(e["id"])) for c in calls if c.kind == "events"
            for e in c.body["events"]]
    assert events == Counter((s, i, "credited") for s, i in sent)
    earned = Counter(cause for (cause,) in query(
        url, "SELECT cause_id FROM ledger_transaction WHERE cause_type = 'earning.event'"))
    assert len(earned) == len(sent) and set(earned.values()) == {1}

    # To the point: each wallet and hold is what the acknowledged answers add up to.
    wallet: dict[str, int] = defaultdict(int)
    held: dict[str, int] = defaultdict(int)
    for n, person in enumerate(seeded["employees"]):
        wallet[person["no"]] = POOR if n == 0 else POINTS
    for call in calls:
        if call.kind == "order" and call.status == 201:
            wallet[call.meta["employee"]["no"]] -= call.answer["points"]
            held[call.meta["employee"]["no"]] += call.answer["points"]
        elif call.kind == "adjust" and call.status == 201:
            wallet[call.body["employee_no"]] += call.body["amount"]
        elif call.kind == "events":
            for event in call.body["events"]:
                wallet[event["employee_no"]] += EVENT_POINTS
    balances = query(url, "SELECT e.employee_no, a.kind, a.balance FROM ledger_account a "
                          "JOIN people_employee e ON e.id = a.employee_id")
    actual = {(no, kind): balance for no, kind, balance in balances}
    for person in seeded["employees"]:
        no = person["no"]
        assert actual.get((no, "wallet"), 0) == wallet[no], (no, actual, wallet[no])
        assert actual.get((no, "hold"), 0) == held[no], (no, actual, held[no])
