"""The notifications the library sends (``jifen.notifications.kinds``): stored as kind and
parameters, worded in the reader's language."""

from django.utils.translation import gettext_lazy as _

from jifen.notifications.kinds import NotificationKind, register

CONTRIBUTION_APPROVED = register(NotificationKind(
    "library.contribution_approved", _("Contribution approved"),
    title=_("Your resource %(title)s is in the library"),
    body=_("Thank you: an editor approved it.")))
CONTRIBUTION_REJECTED = register(NotificationKind(
    "library.contribution_rejected", _("Contribution not accepted"),
    title=_("Your resource %(title)s was not accepted"),
    body="%(reason)s"))
