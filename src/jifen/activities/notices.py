"""The notifications activities send (``jifen.notifications.kinds``): stored as kind and
parameters, worded in the reader's language. Parameters: ``title`` (the activity's),
``points``, ``amount``, ``prize``; ``url`` goes on the notification, not in the params."""

from django.utils.translation import gettext_lazy as _

from jifen.notifications.kinds import EMAIL, IN_APP, NotificationKind, register

# The notice an admin sends to every eligible employee when an activity is published.
ANNOUNCED = register(NotificationKind(
    "activities.announced", _("New activity"),
    title={"lottery": _("New lottery: %(title)s"), "auction": _("New auction: %(title)s"),
           "": _("New activity: %(title)s")},
    body=_("%(notice)s")))
OUTBID = register(NotificationKind(
    "activities.outbid", _("You were outbid"),
    title=_("You were outbid on %(title)s"),
    body=_("The leading bid is now %(amount)s points. Your %(points)s points are back.")))
AUCTION_WON = register(NotificationKind(
    "activities.auction_won", _("Auction won"), channels=frozenset({IN_APP, EMAIL}),
    title=_("You won %(title)s"),
    body=_("Your bid of %(amount)s points won. Your order %(number)s follows the usual steps.")))
AUCTION_LOST = register(NotificationKind(
    "activities.auction_ended", _("Auction ended"),
    title=_("%(title)s has ended"),
    body={"": _("Your held points are back."),
          "reserve_not_met": _("The reserve price was not reached; every held point is back.")}))
LOTTERY_WON = register(NotificationKind(
    "activities.lottery_won", _("Lottery prize won"), channels=frozenset({IN_APP, EMAIL}),
    title=_("You won in %(title)s"),
    body=_("Your prize: %(prize)s. You can check the draw yourself on the lottery's page.")))
DRAW_RESULTS = register(NotificationKind(
    "activities.draw_results", _("Draw results"),
    title=_("The draw of %(title)s is done"),
    body=_("No prize this time. The winners and the proof that the draw was fair are on the "
           "lottery's page.")))
CANCELLED = register(NotificationKind(
    "activities.cancelled", _("Activity cancelled"),
    title=_("%(title)s was cancelled"),
    body={"": _("%(reason)s"),
          "refunded": _("%(reason)s Your %(points)s points are back.")}))
