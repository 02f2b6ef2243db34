"""Library models: the engagement part — daily check-ins (with make-up cards), comments and
their reports, 1–5 star ratings, share links and the colleagues who opened them, and the
one settings row HR steers them with.

Comments, ratings and share links name what they are about by ``target_kind`` + ``target_id``
("item" 12, "resource" 7) rather than by a foreign key: the targets belong to apps this one
may not import (the mall) or to the library's other half; ``jifen.library.targets`` knows
how to find each kind."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = [
    "CheckIn", "Comment", "CommentReport", "CommentStatus", "EngagementSettings",
    "MakeUpUse", "Rating", "ShareLink", "ShareVisit",
]

TARGET_KIND_LENGTH = 20


class EngagementSettings(models.Model):
    """The single row of engagement settings (read it with
    ``selectors.engagement.engagement_settings()``)."""

    makeup_cards_enabled = models.BooleanField(
        _("make-up cards"), default=False,
        help_text=_("A missed day may be made up with a make-up card bought in the mall."))
    makeup_item_id = models.PositiveBigIntegerField(
        _("make-up card item"), null=True, blank=True,
        help_text=_("The mall item that is a make-up card: each paid order of it gives "
                    "one card per unit."))
    makeup_window_days = models.PositiveSmallIntegerField(
        _("make-up window (days)"), default=7,
        help_text=_("How many days back a missed day may still be made up."))
    comment_min_length = models.PositiveSmallIntegerField(
        _("minimum length of a comment that earns"), default=15)
    sensitive_words = models.TextField(
        _("sensitive words"), blank=True,
        help_text=_("One word or phrase a line. A comment containing one is refused."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("engagement settings")

    def __str__(self) -> str:
        return str(_("Engagement settings"))

    @property
    def word_list(self) -> list[str]:
        return [w.strip() for w in self.sensitive_words.splitlines() if w.strip()]


class CheckIn(models.Model):
    """One employee's check-in for one day of the company's calendar (its time zone).
    ``streak`` is the run of consecutive days ending on this one, kept on the row and
    recomputed for the days after a made-up one."""

    employee = models.ForeignKey("people.Employee", on_delete=models.CASCADE,
                                 related_name="check_ins", verbose_name=_("employee"))
    day = models.DateField(_("day"))
    streak = models.PositiveIntegerField(_("streak"), default=1)
    made_up = models.BooleanField(_("made up"), default=False)
    created_at = models.DateTimeField(_("checked in at"))

    class Meta:
        verbose_name = _("check-in")
        constraints = [models.UniqueConstraint(fields=["employee", "day"],
                                               name="library_checkin_once_a_day")]
        indexes = [models.Index(fields=["day"], name="library_checkin_day")]

    def __str__(self) -> str:
        return f"{self.employee_id} {self.day}"


class MakeUpUse(models.Model):
    """A make-up card spent on a missed day (cards come from completed mall orders)."""

    employee = models.ForeignKey("people.Employee", on_delete=models.CASCADE,
                                 related_name="makeup_uses", verbose_name=_("employee"))
    check_in = models.OneToOneField(CheckIn, on_delete=models.CASCADE, related_name="makeup",
                                    verbose_name=_("check-in"))
    created_at = models.DateTimeField(_("used at"), auto_now_add=True)

    class Meta:
        verbose_name = _("make-up card use")

    def __str__(self) -> str:
        return f"{self.employee_id} {self.check_in_id}"


class CommentStatus(models.TextChoices):
    VISIBLE = "visible", _("Visible")
    REPORTED = "reported", _("Reported")  # still shown until a moderator decides
    HIDDEN = "hidden", _("Hidden")


class Comment(models.Model):
    target_kind = models.CharField(_("kind"), max_length=TARGET_KIND_LENGTH)
    target_id = models.PositiveBigIntegerField(_("target"))
    author = models.ForeignKey("people.Employee", on_delete=models.CASCADE,
                               related_name="library_comments", verbose_name=_("author"))
    text = models.TextField(_("text"))
    status = models.CharField(_("status"), max_length=10, choices=CommentStatus.choices,
                              default=CommentStatus.VISIBLE)
    created_at = models.DateTimeField(_("created"))
    moderated_at = models.DateTimeField(_("moderated"), null=True, blank=True)

    class Meta:
        verbose_name = _("comment")
        indexes = [
            models.Index(fields=["target_kind", "target_id", "status"],
                         name="library_comment_target"),
            models.Index(fields=["status", "created_at"], name="library_comment_status"),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class CommentReport(models.Model):
    """A colleague's report of a comment; one per person and comment."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reports",
                                verbose_name=_("comment"))
    reporter = models.ForeignKey("people.Employee", on_delete=models.CASCADE,
                                 related_name="+", verbose_name=_("reported by"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("reported"), auto_now_add=True)

    class Meta:
        verbose_name = _("comment report")
        constraints = [models.UniqueConstraint(fields=["comment", "reporter"],
                                               name="library_report_once")]

    def __str__(self) -> str:
        return f"{self.comment_id} {self.reporter_id}"


class Rating(models.Model):
    target_kind = models.CharField(_("kind"), max_length=TARGET_KIND_LENGTH)
    target_id = models.PositiveBigIntegerField(_("target"))
    employee = models.ForeignKey("people.Employee", on_delete=models.CASCADE,
                                 related_name="library_ratings", verbose_name=_("employee"))
    stars = models.PositiveSmallIntegerField(_("stars"))
    updated_at = models.DateTimeField(_("rated"), auto_now=True)

    class Meta:
        verbose_name = _("rating")
        constraints = [
            models.UniqueConstraint(fields=["employee", "target_kind", "target_id"],
                                    name="library_rating_once"),
            models.CheckConstraint(condition=models.Q(stars__gte=1, stars__lte=5),
                                   name="library_rating_one_to_five"),
        ]
        indexes = [models.Index(fields=["target_kind", "target_id"],
                                name="library_rating_target")]

    def __str__(self) -> str:
        return f"{self.target_kind}:{self.target_id} {self.stars}"


class ShareLink(models.Model):
    """A sharer's link to one target; the same sharer and target always get the same code."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    sharer = models.ForeignKey("people.Employee", on_delete=models.CASCADE,
                               related_name="share_links", verbose_name=_("shared by"))
    target_kind = models.CharField(_("kind"), max_length=TARGET_KIND_LENGTH)
    target_id = models.PositiveBigIntegerField(_("target"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("share link")
        constraints = [models.UniqueConstraint(fields=["sharer", "target_kind", "target_id"],
                                               name="library_share_once")]

    def __str__(self) -> str:
        return self.code


class ShareVisit(models.Model):
    """A colleague who opened a share link — the first time only (a repeat is not stored,
    so it cannot earn twice); the sharer's own visits are never stored."""

    link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="visits",
                             verbose_name=_("share link"))
    visitor = models.ForeignKey("people.Employee", on_delete=models.CASCADE,
                                related_name="+", verbose_name=_("visitor"))
    day = models.DateField(_("day"))
    created_at = models.DateTimeField(_("visited"))

    class Meta:
        verbose_name = _("share visit")
        constraints = [models.UniqueConstraint(fields=["link", "visitor"],
                                               name="library_share_visit_once")]
        indexes = [models.Index(fields=["day"], name="library_share_visit_day")]

    def __str__(self) -> str:
        return f"{self.link_id} {self.visitor_id}"
