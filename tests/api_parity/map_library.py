"""Console actions of the library app → their API twins (see test_console_parity.py).

Left out on purpose, so the parity test names it: library_resource_edit (editing a
resource's fields has no API call yet)."""

TWINS: dict[str, list[str]] = {
    "library_engagement_settings": ["PATCH /engagement/settings"],
    "library_resource_new": ["POST /library/resources"],
    "library_resource_status": ["POST /library/resources/{resource_id}/publish",
                                "POST /library/resources/{resource_id}/withdraw"],
    "library_moderation": ["POST /moderation/comments/{comment_id}"],
    "library_reviews": ["POST /library/resources/{resource_id}/review"],
}

NO_API: dict[str, str] = {
    "library_engagement": "read-only figures (POST probe only); GET /engagement/figures",
    "library_insights": "read-only page (POST probe only)",
    "library_insights_export": "a file download (POST probe only)",
    "library_resources": "read-only list (POST probe only); GET /library/resources",
}
