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
