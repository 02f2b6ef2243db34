"""The notifications earning sends (``jifen.notifications.kinds``): stored as kind and
parameters, worded in the reader's language."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from jifen.core.roles import Cap
from jifen.notifications.kinds import EMAIL, IN_APP, NotificationKind, register

AWARD_APPROVED = register(NotificationKind(
    "earning.award_approved", _("Award approved"),
    title=_("%(points)s points for %(rule)s"), body="%(reason)s"))
AWARD_REJECTED = register(NotificationKind(
    "earning.award_rejected", _("Award rejected"),
    title=_("Not awarded: %(rule)s"), body="%(reason)s"))
MANAGER_AWARD = register(NotificationKind(
    "earning.manager_award", _("Award from your manager"),
    title=_("%(name)s awarded you %(points)s points"), body="%(message)s"))
RECOGNITION = register(NotificationKind(
    "earning.recognition", _("Thanks from a colleague"),
    title=_("%(name)s thanked you with %(points)s points"), body="%(message)s"))
FEEDBACK_ANSWERED = register(NotificationKind(
    "earning.feedback_answered", _("Answer to your feedback on a rule"),
    title=_("Your feedback on %(rule)s was answered"), body="%(answer)s"))
# Points credited by the rules for events (one notice per employee and batch of events).
# params: points; variant "one" (rule) or "many" (count).
AWARD_CREDITED = register(NotificationKind(
    "earning.award_credited", _("Points earned"),
    title={"one": _("You earned %(points)s points: %(rule)s"),
           "many": _("You earned %(points)s points for %(count)s awards")}))
# To approvers as awards arrive: one notice per approver and hour that counts up.
AWARDS_WAITING = register(NotificationKind(
    "earning.awards_waiting", _("New awards waiting for your decision"),
    audience=Cap.APPROVE_AWARDS,
    title=ngettext_lazy("%(count)s new award waits for your decision",
                        "%(count)s new awards wait for your decision", "count")))
_OLDEST = {"": ngettext_lazy("The oldest has waited %(days)s day.",
                             "The oldest has waited %(days)s days.", "days"),
           "today": _("The oldest arrived today.")}
# The daily reminder (also mailed: approvers may not open the console every day).
APPROVAL_REMINDER = register(NotificationKind(
    "earning.approval_reminder", _("Daily reminder of awards waiting"),
    channels=frozenset({IN_APP, EMAIL}), audience=Cap.APPROVE_AWARDS,
    title=ngettext_lazy("%(count)s award waits for your decision",
                        "%(count)s awards wait for your decision", "count"),
    body=_OLDEST))
