from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jifen.notifications.kinds import find_kind


class Notification(models.Model):
    """One in-app message to one user (the notification centre); some also go out by
    e-mail (``emailed_at`` says when). It stores its kind and parameters; ``title`` and
    ``body`` are the kind's texts filled in the language active when they are read.
    Messages stored before that (``params`` null) keep the words they were stored with."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=60, db_index=True)
    params = models.JSONField(null=True, blank=True)
    # The words of a message stored before parameters were (shown when params is null).
    stored_title = models.CharField(_("title"), max_length=200, blank=True, db_column="title")
    stored_body = models.TextField(_("message"), blank=True, db_column="body")
    url = models.CharField(max_length=300, blank=True)
    # Makes a notification idempotent: the same (recipient, dedupe_key) is sent once.
    dedupe_key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # Routing by the recipient's preferences: e-mail / IM at once, in the digest, or not.
    email_via = models.CharField(max_length=10, blank=True, default="", db_default="")
    im_via = models.CharField(max_length=10, blank=True, default="", db_default="")
    im_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], condition=~models.Q(dedupe_key=""),
                name="notification_once_per_key",
            )
        ]
        verbose_name = _("notification")

    def __str__(self) -> str:
        return self.title

    def rendered(self) -> tuple[str, str]:
        """(title, body) in the active language."""
        kind = find_kind(self.kind)
        if self.params is None or kind is None:
            return self.stored_title, self.stored_body
        return kind.render(self.params)

    @property
    def title(self) -> str:
        return self.rendered()[0]

    @property
    def body(self) -> str:
        return self.rendered()[1]


class Via(models.TextChoices):
    """How a notification goes out on e-mail or IM (besides the centre)."""

    NONE = "", _("not sent")
    NOW = "now", _("at once")
    DIGEST = "digest", _("in the digest")


class Preference(models.Model):
    """One person's choice for one kind on one channel, stored only where it differs from
    the defaults (the site's ``KindDefault``, else the kind's registered channels)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notification_preferences")
    kind = models.CharField(max_length=60)
    channel = models.CharField(max_length=10)
    enabled = models.BooleanField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind", "channel"],
                                               name="notification_preference_once")]

    def __str__(self) -> str:
        return f"{self.kind}/{self.channel}"


class KindDefault(models.Model):
    """The site's default for one kind on one channel, set by an admin: overrides the
    registered default for everyone without a choice of their own."""

    kind = models.CharField(max_length=60)
    channel = models.CharField(max_length=10)
    enabled = models.BooleanField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "channel"],
                                               name="notification_default_once")]

    def __str__(self) -> str:
        return f"{self.kind}/{self.channel}"


class DeliverySettings(models.Model):
    """One person's delivery mode (immediate, daily or weekly digest, with its hour and
    weekday in site time) and quiet hours (e-mail/IM wait until they end)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="notification_delivery")
    mode = models.CharField(max_length=10, default="immediate")
    digest_hour = models.PositiveSmallIntegerField(default=8)
    digest_weekday = models.PositiveSmallIntegerField(default=0)  # 0 = Monday
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.mode


class DigestRun(models.Model):
    """One digest sent to one person for one period ("d:2026-12-04", "w:2026-W49") on one
    channel: the unique key makes the digest job idempotent."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    channel = models.CharField(max_length=10)
    period = models.CharField(max_length=20)
    count = models.PositiveIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "channel", "period"],
                                               name="notification_digest_once")]

    def __str__(self) -> str:
        return f"{self.channel} {self.period}"
