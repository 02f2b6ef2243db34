"""The one place the benchmarks write their results into docs/performance.md: each owns a
block between two markers, replaced on every run (appended the first time)."""

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
