"""Comments, ratings and moderation.

A comment that contains a word of the sensitive-words list is refused (not masked): the
author sees which word, and nothing is stored — a masked comment would still carry its
meaning and would earn. A comment at least the settings' minimum length is reported to
earning as a "comment" fact (one per comment), so HR's rule decides the points and its
caps hold. Colleagues may report a comment; a moderator hides it (it then disappears
everywhere comments are read: pages, API, exports, counts) or keeps it. Every report and
every moderation act writes an audit entry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.intake import Fact, report_facts
from jifen.core.services import record_audit
from jifen.library.models import Comment, CommentReport, CommentStatus, Rating
from jifen.library.services.engagement import SOURCE, _require_active, current_settings
from jifen.library.targets import TargetInfo, require_target

MAX_COMMENT_LENGTH = 1000
MAX_REASON_LENGTH = 200


def sensitive_words_in(text: str, words: list[str]) -> list[str]:
    """The listed words ``text`` contains (case-insensitive), in list order."""
    folded = text.casefold()
    return [word for word in words if word.casefold() in folded]


@transaction.atomic
def post_comment(*, employee: Any, kind: str, target_id: Any, text: str,
                 now: datetime | None = None) -> tuple[Comment, int]:
    """Post a comment on a target the employee may see. Returns the comment and the
    points it earned (0 when shorter than the minimum, capped or no rule)."""
    _require_active(employee)
    target = require_target(kind, target_id, employee)
    text = (text or "").strip()
    if not text:
        raise errors.ValidationError(_("Write something first."),
                                     code=errors.ErrorCode.MESSAGE_REQUIRED)
    if len(text) > MAX_COMMENT_LENGTH:
        raise errors.ValidationError(
            _("A comment has at most %d characters.") % MAX_COMMENT_LENGTH,
            code=errors.ErrorCode.VALIDATION_ERROR, details={"max_length": MAX_COMMENT_LENGTH})
    config = current_settings()
    found = sensitive_words_in(text, config.word_list)
    if found:
        raise errors.ValidationError(
            _("Your comment contains words that are not allowed here: %s")
            % ", ".join(found), code=errors.ErrorCode.SENSITIVE_WORDS, details={"words": found})
    now = now or timezone.now()
    comment = Comment.objects.create(target_kind=target.kind, target_id=target.id,
                                     author=employee, text=text, created_at=now)
    earned = 0
    if len(text) >= config.comment_min_length:
        (result,) = report_facts([Fact(
            source=SOURCE, id=f"comment:{comment.pk}", type="comment",
            employee_no=employee.employee_no, occurred_at=now,
            payload={"target": target.ref, "length": len(text)})], received_by="library")
        earned = result.points if result.status == "credited" else 0
    return comment, earned


@transaction.atomic
def rate(*, employee: Any, kind: str, target_id: Any, stars: Any) -> Rating:
    """Rate a target 1–5 stars; rating again replaces the employee's earlier rating."""
    _require_active(employee)
    target: TargetInfo = require_target(kind, target_id, employee)
    if isinstance(stars, bool) or not isinstance(stars, int | str):
        stars = None
    try:
        value = int(str(stars).strip()) if stars is not None else 0
    except ValueError:
        value = 0
    if not 1 <= value <= 5:
        raise errors.ValidationError(_("Give 1 to 5 stars."), code=errors.ErrorCode.OUT_OF_RANGE,
                                     details={"min": 1, "max": 5})
    try:
        with transaction.atomic():
            rating, _created = Rating.objects.update_or_create(
                employee=employee, target_kind=target.kind, target_id=target.id,
                defaults={"stars": value})
    except IntegrityError:  # a concurrent first rating by the same employee
        rating = Rating.objects.get(employee=employee, target_kind=target.kind,
                                    target_id=target.id)
        rating.stars = value
        rating.save(update_fields=["stars", "updated_at"])
    return rating


def _visible_comment(comment_id: Any, employee: Any = None) -> Comment:
    try:
        pk = int(comment_id)
    except (TypeError, ValueError):
        raise errors.NotFound(_("Not found.")) from None
    comment = (Comment.objects.select_for_update().filter(pk=pk)
               .exclude(status=CommentStatus.HIDDEN).first())
    if comment is None:
        raise errors.NotFound(_("Not found."))
    if employee is not None:  # a comment on something the employee may not see: 404 too
        require_target(comment.target_kind, comment.target_id, employee)
    return comment


@transaction.atomic
def report_comment(*, employee: Any, comment_id: Any, reason: str = "") -> Comment:
    """A colleague reports a comment: it joins the moderation queue (still shown until a
    moderator decides). Reporting the same comment twice counts once; one's own comment
    cannot be reported."""
    _require_active(employee)
    comment = _visible_comment(comment_id, employee)
    if comment.author_id == employee.pk:
        raise errors.ValidationError(_("You cannot report your own comment."),
                                     code=errors.ErrorCode.SAME_EMPLOYEE)
    reason = (reason or "").strip()[:MAX_REASON_LENGTH]
    try:
        with transaction.atomic():
            CommentReport.objects.create(comment=comment, reporter=employee, reason=reason)
    except IntegrityError:
        return comment
    before = comment.status
    if comment.status == CommentStatus.VISIBLE:
        comment.status = CommentStatus.REPORTED
        comment.save(update_fields=["status"])
    record_audit(actor=employee.user, action="library.comment.report", obj=comment,
                 before={"status": before}, after={"status": comment.status, "reason": reason})
    return comment


def _moderate(comment_id: Any, actor: Actor, action: str, status: str,
              reason: str) -> Comment:
    try:
        pk = int(comment_id)
    except (TypeError, ValueError):
        raise errors.NotFound(_("Not found.")) from None
    comment = Comment.objects.select_for_update().filter(pk=pk).first()
    if comment is None:
        raise errors.NotFound(_("Not found."))
    before = comment.status
    comment.status = status
    comment.moderated_at = timezone.now()
    comment.save(update_fields=["status", "moderated_at"])
    record_audit(actor=actor, action=action, obj=comment, before={"status": before},
                 after={"status": status, "reason": (reason or "").strip()[:MAX_REASON_LENGTH]})
    return comment


@transaction.atomic
def hide_comment(*, actor: Actor, comment_id: Any, reason: str = "") -> Comment:
    """Hide a comment everywhere (pages, API, exports, counts). Audited."""
    return _moderate(comment_id, actor, "library.comment.hide", CommentStatus.HIDDEN, reason)


@transaction.atomic
def unhide_comment(*, actor: Actor, comment_id: Any, reason: str = "") -> Comment:
    """Show a hidden (or reported) comment again; its reports are settled. Audited."""
    comment = _moderate(comment_id, actor, "library.comment.unhide", CommentStatus.VISIBLE,
                        reason)
    comment.reports.all().delete()
    return comment
