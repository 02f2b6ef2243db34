from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    """A system's key. The key is shown once at creation; only its prefix (to find it) and
    the SHA-256 of the whole key are kept."""

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


# --- IM channels: WeCom, DingTalk and Feishu robots, routes, direct-message apps ----------
# (jifen.integrations.im; decision 0031)


class ImPlatform(models.TextChoices):
    WECOM = "wecom", _("WeCom")
    DINGTALK = "dingtalk", _("DingTalk")
    FEISHU = "feishu", _("Feishu")


class ImRobot(models.Model):
    """A group robot: a webhook URL that posts into one chat group. DingTalk and Feishu
    robots with signing on carry their secret; a WeCom robot's key is in its URL. The
    secret is kept as given (it signs every message, so a hash would not do) and is never
    shown again after it is saved."""

    platform = models.CharField(_("platform"), max_length=10, choices=ImPlatform.choices)
    name = models.CharField(_("name"), max_length=100)
    webhook_url = models.URLField(_("webhook URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    # The platform's limit per robot; messages beyond it wait for a later slot.
    rate_per_minute = models.PositiveSmallIntegerField(_("messages per minute"), default=20)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("IM robot")
        verbose_name_plural = _("IM robots")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()})"


class ImRoute(models.Model):
    """Messages of one notification kind go to one robot's group. With a department,
    only notices about employees in that department (or below it) go there: recognition
    to the team's own group."""

    kind = models.CharField(_("notification kind"), max_length=60, db_index=True)
    robot = models.ForeignKey(ImRobot, on_delete=models.CASCADE, related_name="routes",
                              verbose_name=_("robot"))
    department = models.ForeignKey("people.Department", null=True, blank=True,
                                   on_delete=models.CASCADE, related_name="+",
                                   verbose_name=_("department"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "id"]
        verbose_name = _("IM route")
        verbose_name_plural = _("IM routes")

    def __str__(self) -> str:
        return f"{self.kind} → {self.robot}"


class ImMessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class ImMessage(models.Model):
    """One message for one robot: the outbox row (written in the transaction of what
    happened) and its delivery record. ``scheduled_at`` is its slot under the robot's rate
    limit; ``happening`` makes a message once per happening and robot."""

    robot = models.ForeignKey(ImRobot, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=60, blank=True)
    happening = models.CharField(max_length=200)
    title = models.CharField(max_length=200)
    text = models.TextField()
    url = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=ImMessageStatus.choices,
                              default=ImMessageStatus.QUEUED)
    scheduled_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["robot", "scheduled_at"])]
        constraints = [
            models.UniqueConstraint(fields=["robot", "happening"],
                                    name="im_message_once_per_happening"),
        ]

    def __str__(self) -> str:
        return self.title


class ImUserIdSource(models.TextChoices):
    SSO = "sso", _("Single sign-on link, then the account list")
    EMPLOYEE_NO = "employee_no", _("Employee number")


class ImApp(models.Model):
    """The app that sends direct messages on one platform: a WeCom self-built app (corp
    id, agent id, secret) or a DingTalk internal app (app key, agent id, app secret)."""

    platform = models.CharField(_("platform"), max_length=10, choices=ImPlatform.choices,
                                unique=True)
    # WeCom: the corp id; DingTalk: the app key.
    client_id = models.CharField(_("corp ID or app key"), max_length=100)
    agent_id = models.CharField(_("agent ID"), max_length=40)
    secret = models.CharField(_("secret"), max_length=200)
    user_id_source = models.CharField(_("IM user IDs from"), max_length=12,
                                      choices=ImUserIdSource.choices,
                                      default=ImUserIdSource.SSO)
    enabled = models.BooleanField(_("enabled"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("IM app")
        verbose_name_plural = _("IM apps")

    def __str__(self) -> str:
        return self.get_platform_display()


class ImAccount(models.Model):
    """An employee's user id on one IM platform (set by an admin or an import; single
    sign-on links are read directly)."""

    employee = models.ForeignKey("people.Employee", on_delete=models.CASCADE,
                                 related_name="im_accounts")
    platform = models.CharField(max_length=10, choices=ImPlatform.choices)
    user_id = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["employee", "platform"],
                                               name="im_account_once_per_platform")]

    def __str__(self) -> str:
        return f"{self.platform}:{self.user_id}"
