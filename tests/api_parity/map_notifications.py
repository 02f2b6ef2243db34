"""Console actions of the notifications app and their API twins."""

TWINS: dict[str, list[str]] = {
    "notification_defaults": ["PUT /notification-defaults"],
}

NO_API: dict[str, str] = {}
