"""Event intake throughput: events per second through POST /api/v1/events (batches of
1,000), beside a raw-SQL insert baseline measured in the same run on PostgreSQL.

    .venv/bin/python bench/events.py [--database postgresql://postgres@127.0.0.1:5432/jifen_earning_bench]
                                     [--events 100000] [--clients 4] [--employees 500]

What it does:

1. migrates the named database (created if missing; its earning, ledger and idempotency
   tables are emptied first) and fills it in-process: employees, three rules (full
   attendance +10 capped at 10 a month, late −5, daily check-in +1 capped at 1 a day) and
   an ``events:write`` API key;
2. starts ``jifen serve`` (gunicorn, 2 workers × 4 threads) on a free port;
3. ``--clients`` threads POST batches of 1,000 distinct events (a mix of the three types,
   about one in twenty a duplicate or an unknown employee) until ``--events`` are sent, and
   count the answers by status;
4. runs the raw-SQL baseline with the same threads on their own connections: per batch
   one transaction inserting each event, its ledger transaction and two entries and a lot,
   and updating the wallet — the least a correct scoring writes, with no rules, caps,
   idempotency or penalties;
5. checks `jifen ledger verify` is clean and prints a Markdown table for
   docs/performance.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from redeem import BIN, ensure_database, free_port, wait_until_up

BATCH = 1000
TYPES = ("attendance_full_month", "attendance_late", "daily_checkin")


def prepare(employees: int) -> dict:
    import django

    django.setup()
    from django.db import connection

    from jifen.earning import services
    from jifen.integrations.services import create_api_key
    from jifen.people.services import EmployeeData, upsert_department, upsert_employee

    with connection.cursor() as cursor:
        tables = [t for t in connection.introspection.table_names()
                  if t.startswith(("earning_award", "earning_event", "earning_rule", "ledger_",
                                   "core_idempotency"))]
        cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
    from jifen.ledger import services as ledger

    if hasattr(ledger, "ensure_company_accounts"):
        ledger.ensure_company_accounts()
    services.ensure_builtin_event_types()
    upsert_department(code="BENCH", name="压测部")
    numbers = []
    for n in range(employees):
        upsert_employee(data=EmployeeData(employee_no=f"EV{n:05d}", name=f"压测员工{n}",
                                          department_code="BENCH"))
        numbers.append(f"EV{n:05d}")
    for spec in (
        {"name": "全勤", "event_type": "attendance_full_month", "category": "attendance",
         "formula": {"kind": "fixed", "points": 10}, "caps": {"month": 10}},
        {"name": "迟到", "event_type": "attendance_late", "category": "attendance",
         "formula": {"kind": "fixed", "points": -5}},
        {"name": "签到", "event_type": "daily_checkin", "category": "engagement",
         "formula": {"kind": "fixed", "points": 1}, "caps": {"day": 1}},
    ):
        services.create_rule(actor=None, **spec)
    key = create_api_key(name="bench", scopes=["events:write"])[1]
    return {"numbers": numbers, "key": key}


def make_batch(rng: random.Random, numbers: list[str], run: str, batch_no: int) -> list[dict]:
    start = datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=8)))
    events = []
    for n in range(BATCH):
        kind = TYPES[n % 3]
        employee = rng.choice(numbers)
        if n % 50 == 7:
            employee = "NOBODY"
        ident = f"{run}-{batch_no}-{n}" if n % 50 != 11 else f"{run}-{batch_no}-0"
        events.append({"source": "bench", "id": ident, "type": kind, "employee_no": employee,
                       "occurred_at": (start + timedelta(minutes=rng.randint(0, 500_000)))
                       .isoformat(), "payload": {"minutes": 7} if kind == TYPES[1] else {}})
    return events


def http_load(port: int, key: str, numbers: list[str], clients: int,
              total: int) -> tuple[float, Counter]:
    batches = list(range(total // BATCH))
    counts: Counter = Counter()
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    run = str(int(time.time()))

    def client(index: int) -> None:
        rng = random.Random(index)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        start.wait()
        while True:
            with lock:
                if not batches:
                    break
                number = batches.pop()
            body = json.dumps({"events": make_batch(rng, numbers, run, number)})
            conn.request("POST", "/api/v1/events", body=body, headers={
                "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
            response = conn.getresponse()
            payload = json.loads(response.read())
            with lock:
                if response.status != 200:
                    counts[f"http {response.status}"] += BATCH
                else:
                    counts.update(r["status"] for r in payload["results"])
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    began = time.monotonic()
    start.wait()
    for t in threads:
        t.join()
    return time.monotonic() - began, counts


RAW_SCHEMA = """
DROP TABLE IF EXISTS bench_ev_entry, bench_ev_lot, bench_ev_txn, bench_ev_event, bench_ev_wallet;
CREATE TABLE bench_ev_wallet (id bigint PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0));
CREATE TABLE bench_ev_event (id bigserial PRIMARY KEY, source text, external_id text,
                             type text, employee bigint, occurred_at timestamptz,
                             payload jsonb, status text, points bigint,
                             UNIQUE (source, external_id));
CREATE TABLE bench_ev_txn (id bigserial PRIMARY KEY, kind text, idempotency_key text UNIQUE,
                           amount bigint, cause_id bigint, created_at timestamptz DEFAULT now());
CREATE TABLE bench_ev_entry (id bigserial PRIMARY KEY, txn_id bigint REFERENCES bench_ev_txn,
                             account_id bigint, amount bigint);
CREATE TABLE bench_ev_lot (id bigserial PRIMARY KEY, wallet_id bigint, amount bigint,
                           remaining bigint, txn_id bigint REFERENCES bench_ev_txn);
"""


def raw_load(url: str, employees: int, clients: int, total: int) -> float:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(RAW_SCHEMA)
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO bench_ev_wallet (id, balance) VALUES (%s, 0)",
                            [(n,) for n in range(employees)])
    batches = list(range(total // BATCH))
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        rng = random.Random(index)
        with psycopg.connect(url) as conn:
            start.wait()
            while True:
                with lock:
                    if not batches:
                        return
                    number = batches.pop()
                # Wallets in id order, as the ledger locks them, so two batches never
                # deadlock.
                wallets = sorted(rng.randrange(employees) for _n in range(BATCH))
                with conn.transaction(), conn.cursor() as cur:
                    for n, wallet in enumerate(wallets):
                        event_id = cur.execute(
                            "INSERT INTO bench_ev_event (source, external_id, type, employee, "
                            "occurred_at, payload, status, points) VALUES ('raw', %s, "
                            "'daily_checkin', %s, now(), '{}', 'credited', 1) RETURNING id",
                            [f"{number}-{n}", wallet]).fetchone()[0]
                        txn = cur.execute(
                            "INSERT INTO bench_ev_txn (kind, idempotency_key, amount, cause_id) "
                            "VALUES ('earn', %s, 1, %s) RETURNING id",
                            [f"raw:{number}-{n}", event_id]).fetchone()[0]
                        cur.execute("UPDATE bench_ev_wallet SET balance = balance + 1 "
                                    "WHERE id = %s", [wallet])
                        cur.execute("INSERT INTO bench_ev_entry (txn_id, account_id, amount) "
                                    "VALUES (%s, %s, 1), (%s, -1, -1)", [txn, wallet, txn])
                        cur.execute("INSERT INTO bench_ev_lot (wallet_id, amount, remaining, "
                                    "txn_id) VALUES (%s, 1, 1, %s)", [wallet, txn])

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    began = time.monotonic()
    start.wait()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_ev_entry, bench_ev_lot, bench_ev_txn, "
                     "bench_ev_event, bench_ev_wallet")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get(
        "JIFEN_BENCH_DATABASE_URL",
        "postgresql://postgres@127.0.0.1:5432/jifen_earning_bench"))
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--employees", type=int, default=500)
    args = parser.parse_args()
    if not args.database.startswith("postgres"):
        parser.error("the benchmark runs on PostgreSQL")
    total = max(BATCH, args.events // BATCH * BATCH)

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
    try:
        wait_until_up(f"http://127.0.0.1:{port}/api/v1/health")
        print(f"HTTP: {total} events …", flush=True)
        http_seconds, counts = http_load(port, data["key"], data["numbers"], args.clients,
                                         total)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"raw SQL: {total} events …", flush=True)
    raw_seconds = raw_load(args.database, args.employees, args.clients, total)

    from jifen.ledger.verify import verify_ledger

    breaches = verify_ledger()
    print()
    print(f"PostgreSQL, gunicorn 2 workers × 4 threads, {args.clients} client threads, "
          f"{total} events in batches of {BATCH}, {os.cpu_count()} CPU cores shared by all")
    print()
    print("| path | events | seconds | events/s |")
    print("|---|---:|---:|---:|")
    print(f"| POST /api/v1/events | {total} | {http_seconds:.1f} | "
          f"{total / http_seconds:.0f} |")
    print(f"| raw SQL insert baseline | {total} | {raw_seconds:.1f} | "
          f"{total / raw_seconds:.0f} |")
    print()
    print("answers:", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print("ledger verify:", "clean" if not breaches else f"{len(breaches)} breaches")
    for line in breaches[:10]:
        print("  ", line)
    return 1 if breaches else 0


if __name__ == "__main__":
    sys.exit(main())
