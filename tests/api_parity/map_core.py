"""Console actions of the core app (settings, audit log, system status) and their API twins."""

TWINS: dict[str, list[str]] = {
    "system_status": ["POST /system/tasks/{task_id}/retry"],
    "settings": ["PATCH /settings", "POST /settings/logo", "DELETE /settings/logo"],
    # The audit page's filter form is a GET the probe saw accept POST; it changes nothing.
    "audit": ["GET /audit"],
}

NO_API: dict[str, str] = {
    "set_language": "UI-only: an API call's language is its Accept-Language header",
}
