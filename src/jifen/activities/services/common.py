"""What lotteries and auctions share: the notice to every eligible employee."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.activities import notices
from jifen.activities.models import ActivityStatus, Phase
from jifen.activities.selectors.centre import eligible_employees, kind_of, page_url
from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.services import record_audit
from jifen.notifications.services import Message, notify_bulk

MAX_MESSAGE = 500


def announce(*, activity: Any, actor: Actor, message: str = "") -> int:
    """Send the ANNOUNCED notice about a published, not yet ended ``activity`` to every
    ACTIVE employee it is open to (departments with their sub-departments, grades,
    tenure; the minimum balance is checked when they take part), with an optional
    ``message`` from the admin. At most once per activity: ``notice_sent_at`` is set by a
    conditional update, so two admins pressing the button at once send one notice; each
    notification also carries a per-activity dedupe key. Audited. Returns how many
    employees were told."""
    message = (message or "").strip()
    if len(message) > MAX_MESSAGE:
        raise errors.ValidationError(
            _("The message may be at most %(n)s characters.") % {"n": MAX_MESSAGE},
            details={"message": MAX_MESSAGE})
    kind = kind_of(activity)
    model = type(activity)
    with transaction.atomic():
        now = timezone.now()
        current = model.objects.filter(pk=activity.pk).first()
        if current is None:
            raise errors.NotFound(_("No such activity."))
        phase = current.phase_at(now)
        if current.status == ActivityStatus.DRAFT:
            raise errors.Conflict(_("Publish the activity before sending its notice."),
                                  details={"status": current.status})
        if phase not in (Phase.UPCOMING, Phase.RUNNING):
            raise errors.Conflict(_("This activity is over; no notice can be sent."),
                                  code=errors.ErrorCode.ACTIVITY_CLOSED,
                                  details={"phase": str(phase)})
        claimed = model.objects.filter(pk=current.pk, notice_sent_at__isnull=True).update(
            notice_sent_at=now)
        if not claimed:
            current.refresh_from_db(fields=["notice_sent_at"])
            raise errors.Conflict(
                _("The notice was already sent on %(when)s.") % {
                    "when": timezone.localtime(current.notice_sent_at).strftime(
                        "%Y-%m-%d %H:%M")},
                code=errors.ErrorCode.ALREADY_ANNOUNCED,
                details={"notice_sent_at": current.notice_sent_at.isoformat()})
        notice = message or current.description[:MAX_MESSAGE] or current.title
        url = page_url(kind, current.pk)
        dedupe = f"activities.announced:{kind}:{current.pk}"
        recipients = list(eligible_employees(current).values_list("user_id", flat=True))
        sent = notify_bulk(kind=notices.ANNOUNCED, messages=(
            Message(recipient_id=user_id, url=url, dedupe_key=dedupe,
                    params={"title": current.title, "notice": notice, "variant": kind})
            for user_id in recipients))
        record_audit(actor=actor, action="activities.announce", obj=current,
                     after={"recipients": sent, "message": message})
        activity.notice_sent_at = now
        return sent

