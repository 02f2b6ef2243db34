"""Reads for webhooks: endpoints, their deliveries and attempts, and who subscribes to what
(cached: every posting asks)."""

from __future__ import annotations

from datetime import datetime

from django.core.cache import cache
from django.db.models import QuerySet

from jifen.core.caching import row_cache_seconds
from jifen.integrations.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

SUBSCRIPTIONS_KEY = "integrations.webhooks.subscriptions"


def endpoints() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("-created_at", "-id")


def deliveries(endpoint: WebhookEndpoint | None = None) -> QuerySet[WebhookDelivery]:
    rows = WebhookDelivery.objects.select_related("endpoint")
    return rows.filter(endpoint=endpoint) if endpoint is not None else rows


def attempts(delivery: WebhookDelivery) -> QuerySet[WebhookAttempt]:
    return WebhookAttempt.objects.filter(delivery=delivery).order_by("-id")


def subscriptions() -> dict[str, list[int]]:
    """Per event type, the active endpoints that want it (from the cache; one small query
    when it is cold)."""
    found = cache.get(SUBSCRIPTIONS_KEY)
    if found is None:
        found = {}
        for pk, types in WebhookEndpoint.objects.filter(is_active=True).values_list(
                "pk", "event_types"):
            for event_type in types or []:
                found.setdefault(event_type, []).append(pk)
        cache.set(SUBSCRIPTIONS_KEY, found, row_cache_seconds(3600))
    return found


def forget_subscriptions() -> None:
    cache.delete(SUBSCRIPTIONS_KEY)


def due_endpoint_ids(now: datetime) -> list[int]:
    """Active endpoints whose oldest pending delivery is due (the sweep's list)."""
    return sorted(set(WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__is_active=True,
    ).values_list("endpoint_id", flat=True)))
