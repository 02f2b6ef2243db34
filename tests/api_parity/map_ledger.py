"""Console actions of the ledger app → their API twins (see test_console_parity.py)."""

TWINS: dict[str, list[str]] = {
    "adjust": ["POST /adjustments"],
}

NO_API: dict[str, str] = {}
