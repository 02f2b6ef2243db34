"""The notifications the ledger sends (``jifen.notifications.kinds``)."""

from django.utils.translation import gettext_lazy as _

from jifen.notifications.kinds import NotificationKind, register

POINTS_EXPIRING = register(NotificationKind("ledger.points_expiring",
                                            _("Points about to expire")))
