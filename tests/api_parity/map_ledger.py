"""Console actions of the ledger app → their API twins (see test_console_parity.py)."""

TWINS: dict[str, list[str]] = {
    "adjust": ["POST /adjustments"],
}

NO_API: dict[str, str] = {
    "ledger": "read-only journal (POST probe only)",
    "ledger_accounts": "read-only account list (POST probe only)",
    "ledger_transaction": "read-only transaction page (POST probe only)",
    "employee_points": "read-only page (POST probe only); GET /employees/{no}/balance",
    "outstanding": "read-only report (POST probe only)",
}
