"""Rule feedback: employees comment on a published rule, rule admins answer."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor, actor_user
from jifen.core.services import record_audit
from jifen.earning import notices
from jifen.earning.models import FeedbackStatus, Rule, RuleFeedback
from jifen.earning.services.common import notify_employee
from jifen.people.models import Employee


@transaction.atomic
def send_rule_feedback(*, employee: Employee, rule: Rule, message: str) -> RuleFeedback:
    """An employee's comment on a published rule, for the rule admins."""
    message = (message or "").strip()
    if not message:
        raise errors.ValidationError(_("Write your feedback."),
                                     code=errors.ErrorCode.MESSAGE_REQUIRED)
    if not rule.active:
        raise errors.NotFound(_("This rule is not published."))
    return RuleFeedback.objects.create(rule=rule, employee=employee, message=message[:4000])


@transaction.atomic
def answer_rule_feedback(*, feedback: RuleFeedback, actor: Actor, answer: str,
                         status: str = FeedbackStatus.ANSWERED) -> RuleFeedback:
    """Answer feedback and set its status; the employee is notified. Audited."""
    if status not in FeedbackStatus.values:
        raise errors.ValidationError(_("Unknown status."), code=errors.ErrorCode.INVALID_STATUS)
    answer = (answer or "").strip()
    if not answer:
        raise errors.ValidationError(_("Write an answer."), code=errors.ErrorCode.ANSWER_REQUIRED)
    feedback = RuleFeedback.objects.select_for_update().get(pk=feedback.pk)
    before = {"status": feedback.status, "answer": feedback.answer}
    feedback.answer, feedback.status = answer[:4000], status
    feedback.answered_by, feedback.answered_at = actor_user(actor), timezone.now()
    feedback.save()
    record_audit(actor=actor, action="earning.feedback.answer", obj=feedback, before=before,
                 after={"status": status, "answer": feedback.answer})
    notify_employee(feedback.employee, kind=notices.FEEDBACK_ANSWERED,
                    params={"rule": feedback.rule.name, "answer": feedback.answer},
                    dedupe_key=f"earning:feedback:{feedback.pk}:{feedback.answered_at}")
    return feedback
