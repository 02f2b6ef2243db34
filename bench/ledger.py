"""Ledger throughput: credits/s and debits/s through ``jifen.ledger.services`` beside the
same posting hand-written in raw SQL, with 1, 4 and 16 worker processes, in one run on
PostgreSQL.

    .venv/bin/python bench/ledger.py [--database postgresql://postgres@127.0.0.1:5432/jifen_ledger_bench]
                                     [--seconds 5] [--rounds 3] [--workers 1,4,16] [--write]

What it does:

1. migrates the named database (created if missing; its ledger tables are emptied first)
   and creates 64 employees, each funded with one never-expiring lot for the debits;
2. for each worker count, runs four loads of ``--seconds`` each (``--rounds`` times, the
   variants taking turns; the median counts), every worker a process with its own
   connection, posting for its own employees (so wallets are not shared;
   every credit does share the ``learning`` issuance account and every debit the
   redemption sink, as in production):
   - service credits: ``services.credit`` (earn, opens a lot);
   - raw credits: the same posting in psycopg — insert the transaction (``ON CONFLICT DO
     NOTHING`` detects a replay), look the accounts up by code, update the wallet
     (``RETURNING`` the balance for the entry), insert the lot and both entries, and
     update the shared issuance account last, as the service does on PostgreSQL;
   - service debits: ``services.debit`` (redeem, earliest-expiring lot first);
   - raw debits: insert the transaction, look the accounts up, lock the wallet, read its
     first spendable lots in expiry order, update the lot and the wallet (conditionally),
     insert both entries and the lot consumption, update the sink;
3. checks `jifen ledger verify` is clean — the raw postings must keep the books as sound
   as the services — and prints a Markdown table; ``--write`` puts it into
   docs/performance.md.

The workers and PostgreSQL share the machine (2 cores here), so at 16 workers both
variants are bound by CPU and by the two shared company rows.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path

from performance_doc import DOC, write_section

ROOT = Path(__file__).resolve().parent.parent
EMPLOYEES = 64


def ensure_database(url: str) -> None:
    import psycopg  # optional dependency: only the PostgreSQL bench needs it

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def prepare() -> list[int]:
    """A fresh ledger and 64 funded employees; returns their ids."""
    import django

    django.setup()
    # Django app registry not ready before django.setup(): these import models.
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from jifen.ledger import services
    from jifen.people.models import Employee
    from jifen.people.services import upsert_department

    with connection.cursor() as cursor:
        tables = [t for t in connection.introspection.table_names() if t.startswith("ledger_")
                  and t not in ("ledger_ledgerpolicy",)]
        cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
    services.ensure_company_accounts()
    department, _created = upsert_department(code="LEDGER-BENCH", name="账本压测")
    ids = []
    for n in range(EMPLOYEES):
        employee, _created = Employee.objects.get_or_create(
            employee_no=f"LB{n:04d}", defaults={"name": f"压测{n}", "department": department})
        services.ensure_accounts(employee=employee)
        services.credit(employee=employee, amount=10**12, category="performance",
                        idempotency_key=f"bench-fund:{uuid.uuid4()}", cause=("bench", n),
                        expires_at=None)
        ids.append(employee.pk)
    return ids


# --- the service variant ----------------------------------------------------------------


def service_post(op: str, employee, index: int) -> None:
    from jifen.ledger import services  # in the worker process, after django.setup()

    key = f"bench:{uuid.uuid4().hex}"
    if op == "credit":
        services.credit(employee=employee, amount=10, category="learning", idempotency_key=key,
                        cause=("bench.event", index), expires_at=None)
    else:
        services.debit(employee=employee, amount=1, idempotency_key=key,
                       cause=("bench.order", index))


# --- the raw-SQL variant ----------------------------------------------------------------

INSERT_TXN = """
    INSERT INTO ledger_transaction (kind, idempotency_key, amount, category, reason, actor_label,
                                    cause_type, cause_id, created_at)
    VALUES (%s, %s, %s, %s, '', '', %s, %s, now())
    ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"""
ACCOUNTS = "SELECT code, id FROM ledger_account WHERE code = ANY(%s)"
CREDIT_WALLET = "UPDATE ledger_account SET balance = balance + %s WHERE id = %s RETURNING balance"
MOVE_COMPANY = "UPDATE ledger_account SET balance = balance + %s WHERE id = %s"
INSERT_LOT = """
    INSERT INTO ledger_lot (wallet_id, amount, remaining, held, earned_at, expires_at,
                            source_transaction_id)
    VALUES (%s, %s, %s, 0, now(), NULL, %s)"""
INSERT_ENTRIES = """
    INSERT INTO ledger_entry (transaction_id, account_id, amount, balance_after)
    VALUES (%s, %s, %s, %s), (%s, %s, %s, %s)"""
LOCK_WALLET = "SELECT balance FROM ledger_account WHERE id = %s FOR NO KEY UPDATE"
SPENDABLE_LOTS = """
    SELECT id, remaining FROM ledger_lot
     WHERE wallet_id = %s AND remaining > 0 AND (expires_at IS NULL OR expires_at > now())
     ORDER BY expires_at ASC NULLS LAST, earned_at, id LIMIT 20"""
TAKE_FROM_LOT = ("UPDATE ledger_lot SET remaining = remaining - %s "
                 "WHERE id = %s AND remaining >= %s")
DEBIT_WALLET = ("UPDATE ledger_account SET balance = balance - %s "
                "WHERE id = %s AND balance >= %s")
INSERT_USE = ("INSERT INTO ledger_lotconsumption (transaction_id, lot_id, amount, parked) "
              "VALUES (%s, %s, %s, 0)")


def raw_post(conn, op: str, employee_id: int, index: int) -> None:
    key = f"bench:{uuid.uuid4().hex}"
    with conn.transaction(), conn.cursor() as cur:
        if op == "credit":
            amount, other = 10, "issuance:learning"
            kind, cause = ("earn", "learning"), "bench.event"
        else:
            amount, other = 1, "sink:redemption"
            kind, cause = ("redeem", ""), "bench.order"
        row = cur.execute(INSERT_TXN, [kind[0], key, amount, kind[1], cause, str(index)]
                          ).fetchone()
        if row is None:
            return  # a replay: the first posting stands
        txn = row[0]
        wallet_code = f"wallet:e:{employee_id}"
        ids = dict(cur.execute(ACCOUNTS, [[wallet_code, other]]).fetchall())
        wallet, company = ids[wallet_code], ids[other]
        if op == "credit":
            balance = cur.execute(CREDIT_WALLET, [amount, wallet]).fetchone()[0]
            cur.execute(INSERT_LOT, [wallet, amount, amount, txn])
            cur.execute(INSERT_ENTRIES, [txn, wallet, amount, balance,
                                         txn, company, -amount, None])
            cur.execute(MOVE_COMPANY, [-amount, company])  # the shared row: last
            return
        balance = cur.execute(LOCK_WALLET, [wallet]).fetchone()[0]
        lots = cur.execute(SPENDABLE_LOTS, [wallet]).fetchall()
        lot_id, remaining = lots[0]
        if remaining < amount:
            raise RuntimeError("the bench funds one lot per wallet")
        cur.execute(TAKE_FROM_LOT, [amount, lot_id, amount])
        cur.execute(DEBIT_WALLET, [amount, wallet, amount])
        if cur.rowcount != 1:
            raise RuntimeError("insufficient points")
        cur.execute(INSERT_ENTRIES, [txn, wallet, -amount, balance - amount,
                                     txn, company, amount, None])
        cur.execute(INSERT_USE, [txn, lot_id, amount])
        cur.execute(MOVE_COMPANY, [amount, company])  # the shared row: last


# --- the load ---------------------------------------------------------------------------


def worker(variant: str, op: str, index: int, workers: int, employee_ids: list[int],
           seconds: float, url: str, barrier, counts) -> None:
    from jifen.people.models import Employee  # app registry ready only after setup()

    mine = employee_ids[index::workers] or employee_ids
    done = 0
    if variant == "service":
        people = list(Employee.objects.filter(pk__in=mine))
        barrier.wait()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            service_post(op, people[done % len(people)], done)
            done += 1
    else:
        import psycopg  # optional dependency: only the PostgreSQL bench needs it

        with psycopg.connect(url) as conn:
            barrier.wait()
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                raw_post(conn, op, mine[done % len(mine)], done)
                done += 1
    counts[index] = done


def load(variant: str, op: str, workers: int, employee_ids: list[int], seconds: float,
         url: str) -> float:
    from django.db import connections  # settings configured by prepare() first

    connections.close_all()  # children must not share the parent's connection
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(workers)
    counts = context.Array("l", workers)
    processes = [context.Process(target=worker, args=(variant, op, i, workers, employee_ids,
                                                      seconds, url, barrier, counts))
                 for i in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
        if process.exitcode:
            raise SystemExit(f"a {variant} {op} worker failed")
    return sum(counts) / seconds


def table(results: dict[tuple[str, str, int], float], workers: list[int]) -> str:
    lines = [
        "| workers | credits/s services | credits/s raw SQL | ratio "
        "| debits/s services | debits/s raw SQL | ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in workers:
        cells = [str(n)]
        for op in ("credit", "debit"):
            service, raw = results[("service", op, n)], results[("raw", op, n)]
            cells += [f"{service:,.0f}", f"{raw:,.0f}", f"{service / raw:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_doc(text: str) -> None:
    write_section("ledger-bench", text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database",
                        default="postgresql://postgres@127.0.0.1:5432/jifen_ledger_bench")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", default="1,4,16")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    if not args.database.startswith("postgres"):
        parser.error("the raw-SQL variant is written for PostgreSQL")
    workers = [int(n) for n in args.workers.split(",")]

    ensure_database(args.database)
    os.environ["JIFEN_DATABASE_URL"] = args.database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jifen.settings")
    sys.path.insert(0, str(ROOT))
    employee_ids = prepare()

    # The machine is shared, so each cell is the median of --rounds runs, the service and
    # raw runs taking turns so that a burst of outside load hits both alike.
    results = {}
    for n in workers:
        for op in ("credit", "debit"):
            rates: dict[str, list[float]] = {"service": [], "raw": []}
            for _round in range(args.rounds):
                for variant in ("service", "raw"):
                    rates[variant].append(load(variant, op, n, employee_ids, args.seconds,
                                               args.database))
            for variant, runs in rates.items():
                results[(variant, op, n)] = statistics.median(runs)
                shown = ", ".join(f"{r:,.0f}" for r in runs)
                print(f"{n:>3} workers  {op:<6}  {variant:<7}  median "
                      f"{results[(variant, op, n)]:7,.0f}/s  ({shown})", flush=True)

    from jifen.ledger.verify import verify_ledger  # after django.setup() in prepare()

    breaches = verify_ledger()
    if breaches:
        print("\n".join(breaches))
        return 1
    from django.db import connection  # settings configured by prepare() first

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0].split()[0]
    text = (
        f"{table(results, workers)}\n\n"
        f"Median of {args.rounds} runs of {args.seconds:g} s per cell, services and raw SQL "
        f"taking turns; PostgreSQL {server}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPU cores shared by the workers and "
        f"the database; `jifen ledger verify` clean afterwards."
    )
    print("\n" + text)
    if args.write:
        write_doc(text)
        print(f"\nwritten to {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
