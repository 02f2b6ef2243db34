"""What the benchmarks share: the one place they write their results into
docs/performance.md (each owns a block between two markers, replaced on every run,
appended the first time), and the PostgreSQL database a bench loads."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def write_section(name: str, text: str) -> None:
    """Replace the block of benchmark ``name`` ("ledger-bench") with ``text``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    body = DOC.read_text() if DOC.exists() else "# Performance\n"
    block = f"{start}\n{text}\n{end}"
    if start in body:
        body = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _m: block, body,
                      flags=re.S)
    else:
        body = body.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(body)


def ensure_database(url: str, *, fresh: bool) -> None:
    """Create the PostgreSQL database of ``url`` when missing (dropped first with
    ``fresh``), for a bench that loads its own."""
    import psycopg  # optional dependency: only the PostgreSQL benches need it

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
