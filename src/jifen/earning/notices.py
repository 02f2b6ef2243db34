"""The notifications earning sends (``jifen.notifications.kinds``)."""

from django.utils.translation import gettext_lazy as _

from jifen.notifications.kinds import NotificationKind, register

AWARD_APPROVED = register(NotificationKind("earning.award_approved", _("Award approved")))
AWARD_REJECTED = register(NotificationKind("earning.award_rejected", _("Award rejected")))
MANAGER_AWARD = register(NotificationKind("earning.manager_award",
                                          _("Award from your manager")))
RECOGNITION = register(NotificationKind("earning.recognition", _("Thanks from a colleague")))
FEEDBACK_ANSWERED = register(NotificationKind("earning.feedback_answered",
                                              _("Answer to your feedback on a rule")))
