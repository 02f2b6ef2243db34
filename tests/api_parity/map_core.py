"""Console actions of the core app (settings, audit log, system status) and their API twins."""

TWINS: dict[str, list[str]] = {
    "system_status": ["POST /system/tasks/{task_id}/retry"],
}

NO_API: dict[str, str] = {
    "set_language": "UI-only: an API call's language is its Accept-Language header",
}

# Console actions whose API twin is still to be built (test_console_parity.py lists them in
# a strict xfail until they are gone).
GAPS: dict[str, str] = {
    # The audit page's form is a filter the probe saw accept POST; it changes nothing, but
    # the log has no read API (GET /audit, with what the page hides per reader).
    "audit": "the audit log has no read API yet (GET /audit)",
    "settings": "site settings have no API yet",
}
