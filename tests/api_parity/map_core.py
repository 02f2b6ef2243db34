"""Console actions of the core app (settings, audit log, system status) and their API twins."""

TWINS: dict[str, list[str]] = {
    "system_status": ["POST /system/tasks/{task_id}/retry"],
}

NO_API: dict[str, str] = {
    # The audit page's form is a GET-style filter the probe saw accept POST; it changes nothing.
    "audit": "GAP (issue #16): the audit log has no read API yet (GET /audit planned)",
    "settings": "GAP (issue #16): site settings have no API yet",
}
