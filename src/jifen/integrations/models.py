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
    # Calls per minute; empty: settings.JIFEN_API_KEY_RATE_LIMIT (jifen.core.apiauth).
    rate_limit = models.PositiveIntegerField(
        _("calls per minute"), null=True, blank=True,
        help_text=_("Leave empty for the site's default."))

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
        # Stored as the audit entry's label: no translated words in it.
        return self.name


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
        return self.platform  # the audit label: no translated words


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
# --- outbound webhooks (issue #16 part 1; docs/decisions/0028) ---------------------------


class WebhookEndpoint(models.Model):
    """A receiver of signed events. Its secrets are kept encrypted (they must sign, so a
    hash would not do); during a rotation the previous secret signs too until it expires."""

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(_("event types"), default=list)
    secret = models.TextField()  # encrypted whsec_… (integrations.webhooks.signing)
    previous_secret = models.TextField(blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    # Which worker is sending this endpoint's deliveries, until when (one at a time keeps
    # them in order).
    lease_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed")  # gave up after the last retry, or the endpoint is gone


class WebhookDelivery(models.Model):
    """The outbox row: one event for one endpoint, written in the transaction of the change
    it reports. ``message_id`` is the webhook-id, the same on every attempt."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE,
                                 related_name="deliveries")
    message_id = models.CharField(max_length=40, unique=True)
    event_type = models.CharField(max_length=60)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["endpoint", "status", "id"],
                                name="integ_delivery_queue")]

    def __str__(self) -> str:
        return f"{self.message_id} {self.event_type}"


class WebhookAttempt(models.Model):
    """One POST of a delivery: what was sent and what came back (the body cut short)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE,
                                 related_name="attempt_log")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    request_headers = models.JSONField(default=dict)
    request_body = models.TextField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict)
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.status_code or self.error}"


# --- supplier fulfilment (issue #16 part 5; docs/decisions/0029) --------------------------


class Supplier(models.Model):
    """A welfare supplier's API that fulfils orders (cinema tickets, gym cards): jifen POSTs
    it a signed request (Standard Webhooks signing) and it answers with a code or a
    tracking number."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.TextField()  # encrypted whsec_… (integrations.webhooks.signing)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SupplierItem(models.Model):
    """This mall item is fulfilled by that supplier (kept here, so the mall knows nothing
    of suppliers)."""

    item = models.OneToOneField("mall.Item", on_delete=models.CASCADE, related_name="+")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="items")

    def __str__(self) -> str:
        return f"{self.item_id} → {self.supplier_id}"


class SupplierRequest(models.Model):
    """One approved order's call to its supplier, written in the approval's transaction and
    retried until the supplier answers or the tries run out (then the order waits on the
    order desk with the supplier's last answer)."""

    order = models.OneToOneField("mall.Order", on_delete=models.CASCADE, related_name="+")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="requests")
    message_id = models.CharField(max_length=40, unique=True)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_answer = models.TextField(blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.order_id} {self.status}"
