"""The notification the notifications app sends itself: the digest as one IM message
(stored in the centre already read, so it is a record, not a new unread item)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from jifen.notifications.kinds import NotificationKind, register

# params: count; variant "daily", "weekly" or "" (leftovers sent when a digest was given up).
DIGEST = register(NotificationKind(
    "notifications.digest", _("Digest of notifications"),
    title={"daily": ngettext_lazy("Your daily digest: %(count)s notification",
                                  "Your daily digest: %(count)s notifications", "count"),
           "weekly": ngettext_lazy("Your weekly digest: %(count)s notification",
                                   "Your weekly digest: %(count)s notifications", "count"),
           "": ngettext_lazy("Your digest: %(count)s notification",
                             "Your digest: %(count)s notifications", "count")},
    digest=False))
