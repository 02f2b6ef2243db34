"""Console actions of the library app → their API twins (see test_console_parity.py)."""

TWINS: dict[str, list[str]] = {
    "library_engagement_settings": ["PATCH /engagement/settings"],
    "library_resource_new": ["POST /library/resources"],
    "library_resource_edit": ["POST /library/resources/{resource_id}"],
    "library_resource_status": ["POST /library/resources/{resource_id}/publish",
                                "POST /library/resources/{resource_id}/withdraw"],
    "library_moderate": ["POST /moderation/comments/{comment_id}"],
    "library_reviews": ["POST /library/resources/{resource_id}/review"],
}

NO_API: dict[str, str] = {
    "library_engagement": "read-only figures: the page answers any method as it answers "
                          "GET; its API read is GET /engagement/figures",
}
