"""The notifications the ledger sends (``jifen.notifications.kinds``): stored as kind and
parameters, worded in the reader's language."""

from django.utils.translation import gettext_lazy as _

from jifen.notifications.kinds import NotificationKind, register

POINTS_EXPIRING = register(NotificationKind(
    "ledger.points_expiring", _("Points about to expire"),
    title=_("%(points)s points expire soon, the first on %(date)s"),
    body=_("Spend them in the mall before they expire.")))
# params: points (formatted, unsigned), reason; variant "credit" or "debit".
POINTS_ADJUSTED = register(NotificationKind(
    "ledger.points_adjusted", _("Points adjusted by HR"),
    title={"credit": _("%(points)s points were added to your balance"),
           "debit": _("%(points)s points were taken from your balance")},
    body=_("Reason: %(reason)s")))
