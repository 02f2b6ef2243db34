"""Redemption throughput: orders per second through the HTTP API, beside a hand-written
raw-SQL redemption, in one run on PostgreSQL.

    .venv/bin/python bench/redeem.py [--database postgresql://postgres@127.0.0.1:5432/jifen_mall_bench]
                                     [--seconds 15] [--clients 16] [--employees 64]

What it does:

1. migrates the named database (created if missing; its mall and ledger tables are
   emptied first) and fills it in-process: employees with points and API tokens, 200
   items of unlimited stock ("spread") and one item with a stock of a million ("hot");
2. starts ``jifen serve`` (gunicorn, 2 workers × 4 threads, access log off) on a free
   port;
3. for each load, ``--clients`` threads with keep-alive connections POST /api/v1/orders
   (each with its own Idempotency-Key) for ``--seconds`` and count the 201s — each thread
   buys for its own employees, so wallets are not the bottleneck; in the hot load every
   request fights for the same stock row;
4. runs two hand-written raw-SQL redemptions, each with 8 connections (the server's
   threads) and with ``--clients`` connections, in threads spread over two processes
   (like the server's workers); the better of the two rates counts: "same work" —
   the API's statements by hand on jifen's own tables (token, item with window and
   eligibility, order, locked accounts, hold transaction, first lot, balances, entries,
   hold id, timeline event, idempotency record, stock) — and "minimal": conditional stock
   and wallet updates, a hold-account update and order, transaction and two entry inserts
   in scratch ``bench_*`` tables, the least any two-phase redemption writes;
5. checks `jifen ledger verify` is clean (the same-work orders included) and prints a
   Markdown table for docs/performance.md, with the CPU the server's workers used per
   HTTP order (from /proc, so apart from the client's and PostgreSQL's share of the two
   cores).

The client, the server and PostgreSQL share the machine, so the HTTP numbers include the
load generator's own CPU.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PRICE = 10
SITE_ZONE = ZoneInfo("Asia/Shanghai")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def prepare(employees: int) -> dict:
    """Fill the database through the services; returns tokens and item ids."""
    import django

    django.setup()
    from django.db import connection

    from jifen.ledger import services as ledger
    from jifen.mall import services
    from jifen.mall.models import Item
    from jifen.people.models import Employee
    from jifen.people.services import (
        EmployeeData,
        issue_access_token,
        upsert_department,
        upsert_employee,
    )

    with connection.cursor() as cursor:  # a fresh run: no earlier orders or points
        tables = [t for t in connection.introspection.table_names()
                  if t.startswith(("mall_", "ledger_", "core_idempotency", "core_audit"))]
        if tables:
            cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
    upsert_department(code="BENCH", name="压测部")
    tokens = []
    for n in range(employees):
        employee, _created = upsert_employee(data=EmployeeData(
            employee_no=f"B{n:04d}", name=f"压测员工{n}", department_code="BENCH"))
        ledger.credit(employee=employee, amount=10**9, category="performance",
                      idempotency_key=f"bench:{uuid.uuid4()}", cause=("bench", n),
                      expires_at=None)
        tokens.append(issue_access_token(user=employee.user)[1])
    category = services.save_category(actor=None, name="压测", slug=f"bench-{uuid.uuid4().hex[:6]}")
    spread = [services.create_item(actor=None, name=f"压测商品{n}", category=category,
                                   points=PRICE, stock=None, fulfilment="service",
                                   status="listed").pk for n in range(200)]
    hot = services.create_item(actor=None, name="秒杀商品", category=category, points=PRICE,
                               stock=10**6, fulfilment="service", status="listed").pk
    for employee in Employee.objects.filter(department__code="BENCH"):
        # Opens each employee's hold account, which the raw same-work path expects.
        services.create_order(employee=employee, item=Item(pk=spread[0]))
    return {"tokens": tokens, "spread": spread, "hot": hot}


def http_load(port: int, tokens: list[str], items: list[int], clients: int,
              seconds: float) -> tuple[int, int]:
    """(orders created, other answers) in ``seconds`` from ``clients`` threads."""
    ok = [0] * clients
    bad = [0] * clients
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(index: int) -> None:
        mine = tokens[index::clients] or tokens
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        rng = random.Random(index)
        start.wait()
        while time.monotonic() < deadline[0]:
            body = json.dumps({"item_id": rng.choice(items)})
            conn.request("POST", "/api/v1/orders", body=body, headers={
                "Authorization": f"Bearer {rng.choice(mine)}",
                "Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex})
            response = conn.getresponse()
            response.read()
            if response.status == 201:
                ok[index] += 1
            else:
                bad[index] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    deadline[0] = time.monotonic() + seconds
    start.wait()
    for t in threads:
        t.join()
    return sum(ok), sum(bad)


RAW_SCHEMA = """
DROP TABLE IF EXISTS bench_entry, bench_txn, bench_order, bench_account, bench_item;
CREATE TABLE bench_item (id bigint PRIMARY KEY, stock bigint CHECK (stock >= 0),
                         sold bigint NOT NULL DEFAULT 0);
CREATE TABLE bench_account (id bigint PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0));
CREATE TABLE bench_order (id bigserial PRIMARY KEY, item_id bigint REFERENCES bench_item,
                          employee bigint, points bigint, status text,
                          idempotency_key text UNIQUE, created_at timestamptz DEFAULT now());
CREATE TABLE bench_txn (id bigserial PRIMARY KEY, kind text, idempotency_key text UNIQUE,
                        amount bigint, cause_id bigint, created_at timestamptz DEFAULT now());
CREATE TABLE bench_entry (id bigserial PRIMARY KEY, txn_id bigint REFERENCES bench_txn,
                          account_id bigint REFERENCES bench_account, amount bigint);
"""

MINIMAL_REDEEM = [
    ("UPDATE bench_item SET stock = stock - 1, sold = sold + 1 "
     "WHERE id = %(item)s AND (stock IS NULL OR stock >= 1)"),
    "UPDATE bench_account SET balance = balance - %(p)s WHERE id = %(wallet)s AND balance >= %(p)s",
    "UPDATE bench_account SET balance = balance + %(p)s WHERE id = %(hold)s",
    ("INSERT INTO bench_order (item_id, employee, points, status, idempotency_key) "
     "VALUES (%(item)s, %(wallet)s, %(p)s, 'submitted', %(key)s) RETURNING id"),
    ("INSERT INTO bench_txn (kind, idempotency_key, amount, cause_id) "
     "VALUES ('hold', %(key)s, %(p)s, %(order)s) RETURNING id"),
    ("INSERT INTO bench_entry (txn_id, account_id, amount) "
     "VALUES (%(txn)s, %(wallet)s, -%(p)s), (%(txn)s, %(hold)s, %(p)s)"),
]


def minimal_redemption(conn, rng, employees: int, mine: list[int], items: list[int]) -> None:
    """The least a two-phase redemption writes, in scratch tables: conditional stock and
    wallet updates, the hold account, and order + transaction + two entry inserts."""
    person = rng.choice(mine)
    args = {"item": rng.choice(items), "wallet": person * 2, "hold": person * 2 + 1,
            "p": PRICE, "key": uuid.uuid4().hex}
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(MINIMAL_REDEEM[0], args)
        if cur.rowcount != 1:
            raise RuntimeError("out of stock")
        cur.execute(MINIMAL_REDEEM[1], args)
        if cur.rowcount != 1:
            raise RuntimeError("insufficient points")
        cur.execute(MINIMAL_REDEEM[2], args)
        args["order"] = cur.execute(MINIMAL_REDEEM[3], args).fetchone()[0]
        args["txn"] = cur.execute(MINIMAL_REDEEM[4], args).fetchone()[0]
        cur.execute(MINIMAL_REDEEM[5], args)


# The API's own work, hand-written on jifen's own tables, so `jifen ledger verify` checks
# it like any order: the bearer token (with its user and employee), the item with its
# window, department restriction and running campaigns, the order, the wallet and hold
# account locked, the hold transaction, the first lot taken (earliest expiry first), both
# balances, the entries and the lot consumption, the order's hold, its first timeline
# event, the idempotency record with the answer, and the stock or sold count.
SAME_WORK = {
    "token": """
        SELECT u.id, u.username, e.id, e.employee_no, e.name, e.status, e.department_id,
               e.grade, e.hire_date
        FROM people_accesstoken t JOIN people_user u ON u.id = t.user_id
        LEFT JOIN people_employee e ON e.user_id = u.id
        WHERE t.token_hash = %s AND t.revoked_at IS NULL AND t.expires_at > now()
          AND u.is_active""",
    "item": """
        SELECT i.id, i.name, i.points, i.stock, i.status, i.fulfilment, i.auto_approve,
               i.per_employee_limit, i.eligible_grades, i.min_tenure_years, w.mode,
               EXISTS (SELECT 1 FROM mall_item_eligible_departments e WHERE e.item_id = i.id),
               EXISTS (SELECT 1 FROM mall_campaign k WHERE k.is_active
                       AND k.starts_at <= now() AND k.ends_at > now())
        FROM mall_item i JOIN mall_category c ON c.id = i.category_id
        LEFT JOIN mall_category p ON p.id = c.parent_id
        LEFT JOIN mall_redemptionwindow w ON w.id = COALESCE(c.window_id, p.window_id,
            (SELECT d.id FROM mall_redemptionwindow d WHERE d.is_default ORDER BY d.id LIMIT 1))
        WHERE i.id = %s""",
    "order": """
        INSERT INTO mall_order (employee_id, item_id, item_name, quantity, unit_points,
            original_points, points, campaign_id, fulfilment, status, address, carrier,
            tracking_no, reason, limit_key, idempotency_key, created_at, updated_at)
        VALUES (%s, %s, %s, 1, %s, %s, %s, NULL, %s, 'submitted', NULL, '', '', '', '', %s,
                now(), now())
        RETURNING id, created_at""",
    "lock": """
        SELECT id, code FROM ledger_account WHERE code = ANY(%s) ORDER BY id
        FOR NO KEY UPDATE""",
    "txn": """
        INSERT INTO ledger_transaction (kind, idempotency_key, amount, category, reason,
            actor_id, actor_label, cause_type, cause_id, created_at)
        VALUES ('hold', %s, %s, '', %s, %s, %s, 'mall.order', %s, now()) RETURNING id""",
    "lots": """
        WITH ordered AS (
            SELECT id, remaining, CAST(SUM(remaining) OVER (
                ORDER BY CASE WHEN expires_at IS NULL THEN 1 ELSE 0 END, expires_at,
                         earned_at, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                AS bigint) AS through
            FROM ledger_lot WHERE wallet_id = %(wallet)s AND remaining > 0
              AND (expires_at IS NULL OR expires_at > now())),
        chosen AS (
            SELECT id, CASE WHEN through <= %(p)s THEN remaining
                            ELSE %(p)s - (through - remaining) END AS part
            FROM ordered WHERE through - remaining < %(p)s
              AND (SELECT MAX(through) FROM ordered) >= %(p)s)
        UPDATE ledger_lot AS l SET remaining = l.remaining - c.part, held = l.held + c.part
        FROM chosen c WHERE l.id = c.id RETURNING l.id, c.part""",
    "balances": """
        UPDATE ledger_account AS a SET balance = a.balance + v.delta
        FROM (VALUES (%s::bigint, %s::bigint), (%s::bigint, %s::bigint)) AS v(id, delta)
        WHERE a.id = v.id AND a.balance + v.delta >= 0 RETURNING a.id, a.balance""",
    "entries": """
        WITH e AS (INSERT INTO ledger_entry (transaction_id, account_id, amount, balance_after)
                   VALUES (%s, %s, %s, %s), (%s, %s, %s, %s))
        INSERT INTO ledger_lotconsumption (transaction_id, lot_id, amount, parked)
        VALUES (%s, %s, %s, %s)""",
    "hold": "UPDATE mall_order SET hold_txn_id = %s WHERE id = %s",
    "event": """
        INSERT INTO mall_orderevent (order_id, action, from_status, to_status, actor_id,
                                     actor_label, note, created_at)
        VALUES (%s, 'submit', '', 'submitted', %s, %s, '', %s)""",
    "answer": """
        INSERT INTO core_idempotencyrecord (principal, key, method, path, fingerprint,
                                            status_code, response, created_at)
        VALUES (%s, %s, 'POST', '/api/v1/orders', %s, 201, %s::jsonb, now())""",
    "stock": """
        UPDATE mall_item SET stock = stock - 1, sold_count = sold_count + 1
        WHERE id = %s AND stock >= 1 RETURNING stock, low_stock_threshold, low_stock_alerted""",
    "sold": "UPDATE mall_item SET sold_count = sold_count + 1 WHERE id = %s",
}


def same_work_redemption(conn, rng, tokens: list[str], items: list[int]) -> None:
    import hashlib

    token = rng.choice(tokens)
    key = uuid.uuid4().hex
    body = json.dumps({"item_id": rng.choice(items)})
    q = SAME_WORK
    with conn.transaction(), conn.cursor() as cur:
        who = cur.execute(q["token"], [hashlib.sha256(token.encode()).hexdigest()],
                          prepare=True).fetchone()
        if who is None or who[2] is None or who[5] != "active":
            raise RuntimeError("not an active employee's token")
        user_id, _username, employee_id, employee_no, name = who[:5]
        item_id = json.loads(body)["item_id"]
        item = cur.execute(q["item"], [item_id], prepare=True).fetchone()
        if (item is None or item[4] != "listed" or item[10] not in (None, "always")
                or item[11] or item[8] or item[9] or item[7]):
            raise RuntimeError("the bench item must be open to everyone")
        points = item[2]  # no campaign runs in the bench (item[12] is false)
        label = f"{name} ({employee_no})"
        order_id, created = cur.execute(q["order"], [
            employee_id, item_id, item[1], points, points, points, item[5],
            f"api:user:{user_id}:{key}"], prepare=True).fetchone()
        accounts = dict((code, pk) for pk, code in cur.execute(
            q["lock"], [[f"wallet:e:{employee_id}", f"hold:e:{employee_id}"]],
            prepare=True).fetchall())
        wallet, hold = accounts[f"wallet:e:{employee_id}"], accounts[f"hold:e:{employee_id}"]
        number = f"M{order_id:06d}"
        txn = cur.execute(q["txn"], [
            f"mall:order:{order_id}:hold", points, f"订单 {number}：{item[1]}", user_id, label,
            str(order_id)], prepare=True).fetchone()[0]
        taken = cur.execute(q["lots"], {"p": points, "wallet": wallet}, prepare=True).fetchall()
        if not taken:
            raise RuntimeError("insufficient points")
        after = dict(cur.execute(q["balances"], [wallet, -points, hold, points],
                                 prepare=True).fetchall())
        if len(after) != 2:
            raise RuntimeError("insufficient points")
        if len(taken) != 1:
            raise RuntimeError("a bench wallet holds one lot")  # the entries statement's shape
        cur.execute(q["entries"], [txn, wallet, -points, after[wallet],
                                   txn, hold, points, after[hold],
                                   txn, taken[0][0], taken[0][1], taken[0][1]], prepare=True)
        cur.execute(q["hold"], [txn, order_id], prepare=True)
        cur.execute(q["event"], [order_id, user_id, label, created], prepare=True)
        at = created.astimezone(SITE_ZONE).isoformat(timespec="milliseconds")
        answer = json.dumps({
            "id": order_id, "number": number, "status": "submitted", "item_id": item_id,
            "item_name": item[1], "quantity": 1, "points": points, "original_points": points,
            "fulfilment": item[5], "employee_no": employee_no, "address": None,
            "carrier": "", "tracking_no": "", "reason": "", "code": None,
            "created_at": at, "updated_at": at,
            "events": [{"action": "submit", "from_status": "", "to_status": "submitted",
                        "actor": label, "note": "", "at": at}]})
        fingerprint = hashlib.sha256(b"POST/api/v1/orders" + body.encode()).hexdigest()
        cur.execute(q["answer"], [f"user:{user_id}", key, fingerprint, answer], prepare=True)
        if item[3] is None:
            cur.execute(q["sold"], [item_id], prepare=True)
        elif cur.execute(q["stock"], [item_id], prepare=True).fetchone() is None:
            raise RuntimeError("out of stock")


def _raw_process(url: str, flavour: str, threads: int, first: int, clients: int,
                 employees: int, tokens: list[str], items: list[int], seconds: float,
                 ready: Any, go: Any, done: Any) -> None:
    """One load process: ``threads`` client threads, each on its own connection."""
    import psycopg

    counts = [0] * threads
    start = threading.Barrier(threads + 1)
    deadline = [0.0]

    failures: list[str] = []

    def client(index: int) -> None:
        rng = random.Random(index)
        mine_ids = list(range(index, employees, clients)) or [0]
        mine_tokens = tokens[index::clients] or tokens
        with psycopg.connect(url) as conn:
            start.wait()
            try:
                while time.monotonic() < deadline[0]:
                    if flavour == "minimal":
                        minimal_redemption(conn, rng, employees, mine_ids, items)
                    else:
                        same_work_redemption(conn, rng, mine_tokens, items)
                    counts[index - first] += 1
            except Exception as exc:  # reported by the parent: a raw rate must not fail quietly
                failures.append(repr(exc))

    workers = [threading.Thread(target=client, args=(first + i,)) for i in range(threads)]
    for t in workers:
        t.start()
    ready.put(True)
    go.wait()
    deadline[0] = time.monotonic() + seconds
    start.wait()
    for t in workers:
        t.join()
    done.put((sum(counts), failures[:3]))


def raw_load(url: str, flavour: str, employees: int, tokens: list[str], items: list[int],
             clients: int, seconds: float, processes: int = 2) -> int:
    """Orders placed by hand-written SQL in ``seconds``: ``clients`` threads spread over
    ``processes`` processes (as many as the server has workers), so the load generator's
    own interpreter lock does not cap the raw rate."""
    import multiprocessing

    import psycopg

    if flavour == "minimal":
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(RAW_SCHEMA)
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO bench_item (id, stock) VALUES (%s, %s)",
                                [(i, 10**6 if len(items) == 1 else None) for i in items])
                cur.executemany("INSERT INTO bench_account (id, balance) VALUES (%s, %s)",
                                [(n, 10**9 if n % 2 == 0 else 0) for n in range(employees * 2)])
    context = multiprocessing.get_context("spawn")
    ready, done, go = context.Queue(), context.Queue(), context.Event()
    share = [clients // processes + (1 if n < clients % processes else 0)
             for n in range(processes)]
    starts = [sum(share[:n]) for n in range(processes)]
    procs = [context.Process(target=_raw_process, args=(
        url, flavour, share[n], starts[n], clients, employees, tokens, items, seconds,
        ready, go, done)) for n in range(processes)]
    for p in procs:
        p.start()
    for _p in procs:
        ready.get(timeout=60)
    go.set()
    answers = [done.get(timeout=seconds + 120) for _p in procs]
    for p in procs:
        p.join()
    failures = [f for _count, found in answers for f in found]
    if failures:
        raise RuntimeError(f"the raw {flavour} redemption failed: {failures}")
    total = sum(count for count, _found in answers)
    if flavour == "minimal":
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS bench_entry, bench_txn, bench_order, "
                         "bench_account, bench_item")
    return total


def process_cpu() -> list[tuple[int, int, str, float]]:
    """(pid, parent pid, command name, CPU seconds used so far) of every process, from
    /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        # utime + stime
        found.append((int(entry), int(fields[1]), name,
                      (int(fields[11]) + int(fields[12])) / ticks))
    return found


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by the server's worker processes (the children of the
    gunicorn master ``pid``): the HTTP path's own cost, apart from the client's and the
    database's."""
    return sum(cpu for _pid, parent, _name, cpu in process_cpu() if parent == pid)


def database_cpu() -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL process on this machine."""
    return {pid: cpu for pid, _parent, name, cpu in process_cpu() if name == "postgres"}


def cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two readings by the processes alive at the second (a process that
    ended in between is not counted)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get(
        "JIFEN_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/jifen_mall_bench"))
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--employees", type=int, default=64)
    args = parser.parse_args()
    if not args.database.startswith("postgres"):
        parser.error("the benchmark runs on PostgreSQL")

    load_before = os.getloadavg()
    ensure_database(args.database)
    env = {**os.environ, "JIFEN_DATABASE_URL": args.database, "JIFEN_ACCESS_LOG": "",
           "DJANGO_SETTINGS_MODULE": "jifen.settings"}
    os.environ.update(env)
    subprocess.run([str(BIN / "jifen"), "migrate"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    print("preparing data …", flush=True)
    data = prepare(args.employees)
    port = free_port()
    server = subprocess.Popen([str(BIN / "jifen"), "serve", "--port", str(port),
                               "--workers", "2", "--threads", "4"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = []
    try:
        wait_until_up(f"http://127.0.0.1:{port}/api/v1/health")
        http_load(port, data["tokens"], data["spread"], args.clients, 2)  # warm up
        for load, items in (("spread (200 items)", data["spread"]), ("hot item", [data["hot"]])):
            print(f"HTTP {load} …", flush=True)
            cpu, db_cpu = server_cpu(server.pid), database_cpu()
            done, other = http_load(port, data["tokens"], items, args.clients, args.seconds)
            cpu, db_cpu = server_cpu(server.pid) - cpu, cpu_since(db_cpu, database_cpu())
            rates = {"http": done / args.seconds, "other": other,
                     "cpu_ms": cpu * 1000 / max(done, 1), "db_ms": db_cpu * 1000 / max(done, 1)}
            for flavour in ("same-work", "minimal"):
                raw_items = items if flavour == "same-work" else (
                    list(range(1, 201)) if len(items) > 1 else [1])
                # As many connections as the server's threads (8) and as the HTTP clients
                # (16); the better rate is the baseline.
                best = 0.0
                for connections_ in (8, args.clients):
                    print(f"raw SQL ({flavour}, {connections_} connections) {load} …",
                          flush=True)
                    best = max(best, raw_load(args.database, flavour, args.employees,
                                              data["tokens"], raw_items, connections_,
                                              args.seconds) / args.seconds)
                rates[flavour] = best
            results.append((load, rates))
    finally:
        server.terminate()
        server.wait(timeout=30)

    from jifen.ledger.verify import verify_ledger

    breaches = verify_ledger()
    print()
    print(f"PostgreSQL, gunicorn 2 workers × 4 threads, {args.clients} client threads, "
          f"{args.seconds:.0f} s per load, {os.cpu_count()} CPU cores shared by all; "
          f"load average {load_before[0]:.1f} before the run, {os.getloadavg()[0]:.1f} after")
    print()
    print("| load | HTTP API orders/s | raw SQL, same work | HTTP / same work "
          "| raw SQL, minimal | HTTP / minimal | non-201 | server CPU ms/order "
          "| PostgreSQL CPU ms/order |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for load, r in results:
        print(f"| {load} | {r['http']:.0f} | {r['same-work']:.0f} | "
              f"{r['http'] / r['same-work']:.0%} | {r['minimal']:.0f} | "
              f"{r['http'] / r['minimal']:.0%} | {r['other']} | {r['cpu_ms']:.1f} | "
              f"{r['db_ms']:.1f} |")
    print()
    print("ledger verify:", "clean" if not breaches else f"{len(breaches)} breaches")
    for line in breaches[:10]:
        print("  ", line)
    return 1 if breaches else 0


if __name__ == "__main__":
    sys.exit(main())
