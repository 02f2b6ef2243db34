"""Console actions of the notifications app and their API twins."""

TWINS: dict[str, list[str]] = {}

NO_API: dict[str, str] = {
    "notification_defaults": "GAP (issue #16): the site defaults per kind × channel have "
                             "no API yet (people's own preferences do: "
                             "PUT /me/notification-preferences)",
}
