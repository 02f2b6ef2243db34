"""Redemption throughput: orders per second through the HTTP API, beside a hand-written
raw-SQL redemption, in one run on PostgreSQL.

    .venv/bin/python bench/redeem.py [--database postgresql://postgres@127.0.0.1:5432/jifen_mall_bench]
                                     [--seconds 15] [--clients 16] [--employees 64]

What it does:

1. migrates the named database (created if missing; its mall and ledger tables are
   emptied first) and fills it in-process: employees with points and API tokens, 200
   items of unlimited stock ("spread") and one item with a stock of a million ("hot");
2. starts ``jifen serve`` (gunicorn, 2 workers × 4 threads) on a free port;
3. for each load, ``--clients`` threads with keep-alive connections POST /api/v1/orders
   (each with its own Idempotency-Key) for ``--seconds`` and count the 201s — each thread
   buys for its own employees, so wallets are not the bottleneck; in the hot load every
   request fights for the same stock row;
4. runs the raw-SQL redemption with the same number of threads on their own connections:
   one transaction of conditional stock and wallet updates, a hold-account update and
   order, transaction and two entry inserts, in scratch ``bench_*`` tables — the least a
   correct two-phase redemption writes;
5. checks `jifen ledger verify` is clean and prints a Markdown table for
   docs/performance.md, with the CPU the server's workers used per HTTP order (from
   /proc, so apart from the client's and PostgreSQL's share of the two cores).

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

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PRICE = 10


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

RAW_REDEEM = [
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


def raw_load(url: str, employees: int, items: list[int], clients: int,
             seconds: float) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(RAW_SCHEMA)
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO bench_item (id, stock) VALUES (%s, %s)",
                            [(i, 10**6 if len(items) == 1 else None) for i in items])
            cur.executemany("INSERT INTO bench_account (id, balance) VALUES (%s, %s)",
                            [(n, 10**9 if n % 2 == 0 else 0) for n in range(employees * 2)])
    ok = [0] * clients
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(index: int) -> None:
        rng = random.Random(index)
        mine = list(range(index, employees, clients)) or [0]
        with psycopg.connect(url) as conn:
            start.wait()
            while time.monotonic() < deadline[0]:
                person = rng.choice(mine)
                args = {"item": rng.choice(items), "wallet": person * 2, "hold": person * 2 + 1,
                        "p": PRICE, "key": uuid.uuid4().hex}
                with conn.transaction(), conn.cursor() as cur:
                    cur.execute(RAW_REDEEM[0], args)
                    if cur.rowcount != 1:
                        raise RuntimeError("out of stock")
                    cur.execute(RAW_REDEEM[1], args)
                    if cur.rowcount != 1:
                        raise RuntimeError("insufficient points")
                    cur.execute(RAW_REDEEM[2], args)
                    args["order"] = cur.execute(RAW_REDEEM[3], args).fetchone()[0]
                    args["txn"] = cur.execute(RAW_REDEEM[4], args).fetchone()[0]
                    cur.execute(RAW_REDEEM[5], args)
                ok[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    deadline[0] = time.monotonic() + seconds
    start.wait()
    for t in threads:
        t.join()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_entry, bench_txn, bench_order, "
                     "bench_account, bench_item")
    return sum(ok)


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by the server's worker processes (the
    children of the gunicorn master ``pid``), from /proc: the HTTP path's own cost, apart
    from the client's and the database's."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        if int(fields[1]) == pid:  # ppid
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


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
    env = {**os.environ, "JIFEN_DATABASE_URL": args.database, "JIFEN_ACCESS_LOG": "/dev/null",
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
            cpu = server_cpu(server.pid)
            done, other = http_load(port, data["tokens"], items, args.clients, args.seconds)
            cpu = server_cpu(server.pid) - cpu
            print(f"raw SQL {load} …", flush=True)
            raw = raw_load(args.database, args.employees,
                           list(range(1, 201)) if len(items) > 1 else [1], args.clients,
                           args.seconds)
            results.append((load, done / args.seconds, other, raw / args.seconds,
                            cpu * 1000 / max(done, 1)))
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
    print("| load | HTTP API orders/s | raw SQL orders/s | HTTP / raw | non-201 answers "
          "| server CPU ms/order |")
    print("|---|---:|---:|---:|---:|---:|")
    for load, http_rate, other, raw_rate, cpu_ms in results:
        print(f"| {load} | {http_rate:.0f} | {raw_rate:.0f} | "
              f"{http_rate / raw_rate:.0%} | {other} | {cpu_ms:.1f} |")
    print()
    print("ledger verify:", "clean" if not breaches else f"{len(breaches)} breaches")
    for line in breaches[:10]:
        print("  ", line)
    return 1 if breaches else 0


if __name__ == "__main__":
    sys.exit(main())
