"""What one API order costs the server, in-process and repeatable: CPU milliseconds and SQL
statements per `POST /api/v1/orders`, and with ``--callgrind`` the instructions per order
counted by valgrind — a number that does not move with the machine's other load, for
comparing two versions of the order path.

    .venv/bin/python bench/order_cost.py [--orders 1000] [--callgrind]
                                         [--database postgresql://postgres@127.0.0.1:5432/jifen_mall_bench]

Fills the database as bench/redeem.py does, warms up with 50 orders, then places the
orders through Django's test client (no HTTP server: the request handling, middleware,
ninja, the services and the database driver are all counted; gunicorn is not).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import redeem  # bench/redeem.py: the database set-up is shared with the HTTP bench


def place_orders(count: int, data: dict) -> tuple[float, int]:
    """(CPU ms per order over ``count`` orders, SQL statements of one order)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    rng = random.Random(1)

    def order() -> None:
        response = client.post(
            "/api/v1/orders", json.dumps({"item_id": rng.choice(data["spread"])}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {rng.choice(data['tokens'])}",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
        if response.status_code != 201:
            raise RuntimeError(f"order refused: {response.status_code} {response.content!r}")

    for _n in range(50):
        order()
    # The fewest of 20 orders: now and then one also refreshes a cached row (the site
    # settings, the ledger policy) or the token's last use.
    counts = []
    for _n in range(20):
        with CaptureQueriesContext(connection) as captured:
            order()
        counts.append(len(captured))
    statements = min(counts)
    if os.environ.get("JIFEN_BENCH_UNDER_CALLGRIND"):
        subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())],
                       check=True, stdout=subprocess.DEVNULL)
    started = time.process_time()
    for _n in range(count):
        order()
    cpu = time.process_time() - started
    if os.environ.get("JIFEN_BENCH_UNDER_CALLGRIND"):
        subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())],
                       check=True, stdout=subprocess.DEVNULL)
    return cpu * 1000 / count, statements


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get(
        "JIFEN_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/jifen_mall_bench"))
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--callgrind", action="store_true",
                        help="count instructions per order with valgrind (slow: use ~200 orders)")
    args = parser.parse_args()

    if args.callgrind and not os.environ.get("JIFEN_BENCH_UNDER_CALLGRIND"):
        out = Path(os.environ.get("TMPDIR", "/tmp")) / f"order_cost.{os.getpid()}.callgrind"
        env = {**os.environ, "JIFEN_BENCH_UNDER_CALLGRIND": "1"}
        subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                        f"--callgrind-out-file={out}", sys.executable, __file__,
                        "--database", args.database, "--orders", str(args.orders),
                        "--callgrind"], env=env, check=True, stderr=subprocess.DEVNULL)
        totals = [line for line in out.read_text().splitlines() if line.startswith("totals:")]
        instructions = int(totals[0].split()[1])
        print(f"{instructions / args.orders / 1e6:.2f} M instructions per order "
              f"(callgrind, {args.orders} orders; callgrind output in {out})")
        return 0

    redeem.ensure_database(args.database)
    os.environ.update({"JIFEN_DATABASE_URL": args.database,
                       "DJANGO_SETTINGS_MODULE": "jifen.settings"})
    subprocess.run([str(redeem.BIN / "jifen"), "migrate"], check=True,
                   stdout=subprocess.DEVNULL)
    data = redeem.prepare(64)
    cpu_ms, statements = place_orders(args.orders, data)
    if not os.environ.get("JIFEN_BENCH_UNDER_CALLGRIND"):
        print(f"{cpu_ms:.2f} ms of CPU per order, {statements} SQL statements per order "
              f"({args.orders} orders, in-process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
