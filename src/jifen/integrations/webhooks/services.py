"""Webhook writers: endpoints (create, change, rotate the secret, delete), the outbox
(``emit``: delivery rows written inside the caller's transaction) and the sending
(``deliver_due``: the worker's step).

Order per endpoint: only the oldest pending delivery of an endpoint is ever attempted, and
one worker at a time sends for an endpoint (a lease on the endpoint row, taken by a
conditional update), so a receiver that was down gets the backlog in the order it was
written, each delivery once it answers 2xx (docs/decisions/0028)."""

from __future__ import annotations

import email.utils
import random
import secrets
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor, actor_user
from jifen.core.observability import metrics
from jifen.core.services import record_audit
from jifen.integrations import outbound
from jifen.integrations.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from jifen.integrations.webhooks import events, selectors, signing

# About three days of retries after the first attempt (Standard Webhooks' schedule,
# stretched): 5 s, 5 min, 30 min, 2 h, 5 h, then every 10 h — 12 attempts over ~67 h.
RETRY_DELAYS = [timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30),
                timedelta(hours=2), timedelta(hours=5)] + [timedelta(hours=10)] * 6
JITTER = 0.2  # each delay ± 20 %, so endpoints that failed together do not retry together
MAX_RETRY_AFTER = timedelta(hours=24)
TIMEOUT = (5, 15)  # seconds to connect, to read
RESPONSE_KEEP = 4000  # characters of a response body kept in the log
LEASE = timedelta(seconds=60)
ROTATION_OVERLAP = timedelta(hours=24)
USER_AGENT = "jifen-webhooks/1"


# --- endpoints -----------------------------------------------------------------------------


def _clean_types(event_types: Iterable[str]) -> list[str]:
    cleaned = sorted({str(t).strip() for t in event_types if str(t).strip()})
    unknown = [t for t in cleaned if t not in events.EVENT_TYPES]
    if unknown or not cleaned:
        raise errors.ValidationError(
            _("Choose event types from: %s") % ", ".join(events.EVENT_TYPES),
            code=errors.ErrorCode.UNKNOWN_EVENT_TYPE,
            details={"field": "event_types", "unknown": unknown,
                     "allowed": list(events.EVENT_TYPES)})
    return cleaned


def _snapshot(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {"url": endpoint.url, "event_types": endpoint.event_types,
            "description": endpoint.description, "is_active": endpoint.is_active}


def _changed() -> None:
    selectors.forget_subscriptions()
    transaction.on_commit(selectors.forget_subscriptions)


@transaction.atomic
def create_endpoint(*, url: str, event_types: Iterable[str], description: str = "",
                    actor: Actor = None) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint and return it with its secret, which is shown only now. The URL
    must pass ``outbound.check_url`` (no private addresses unless allowed)."""
    url = (url or "").strip()
    outbound.check_url(url)
    plain = signing.new_secret()
    endpoint = WebhookEndpoint.objects.create(
        url=url, event_types=_clean_types(event_types), description=description.strip()[:200],
        secret=signing.seal(plain), created_by=actor_user(actor))
    record_audit(actor=actor, action="webhook.create", obj=endpoint, after=_snapshot(endpoint))
    _changed()
    return endpoint, plain


@transaction.atomic
def update_endpoint(*, endpoint: WebhookEndpoint, actor: Actor, url: str | None = None,
                    event_types: Iterable[str] | None = None, description: str | None = None,
                    is_active: bool | None = None) -> WebhookEndpoint:
    """Change what is given. Enabling a disabled endpoint sends what waited meanwhile."""
    current = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    before = _snapshot(current)
    if url is not None:
        current.url = url.strip()
        outbound.check_url(current.url)
    if event_types is not None:
        current.event_types = _clean_types(event_types)
    if description is not None:
        current.description = description.strip()[:200]
    if is_active is not None:
        current.is_active = is_active
        current.disabled_reason = "" if is_active else _("Disabled by an administrator")
    current.save()
    after = _snapshot(current)
    if after != before:
        record_audit(actor=actor, action="webhook.update", obj=current, before=before,
                     after=after)
    _changed()
    if current.is_active and not before["is_active"]:
        _kick(current.pk)
    return current


@transaction.atomic
def delete_endpoint(*, endpoint: WebhookEndpoint, actor: Actor) -> None:
    """Delete an endpoint with its deliveries and their log."""
    record_audit(actor=actor, action="webhook.delete", obj=endpoint, after=_snapshot(endpoint))
    endpoint.delete()
    _changed()


@transaction.atomic
def rotate_secret(*, endpoint: WebhookEndpoint, actor: Actor,
                  now: datetime | None = None) -> str:
    """A new secret, returned once; the old one keeps signing beside it for 24 hours so a
    receiver can switch without missing a message."""
    now = now or timezone.now()
    current = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    plain = signing.new_secret()
    current.previous_secret = current.secret
    current.previous_secret_until = now + ROTATION_OVERLAP
    current.secret = signing.seal(plain)
    current.save(update_fields=["secret", "previous_secret", "previous_secret_until",
                                "updated_at"])
    record_audit(actor=actor, action="webhook.rotate_secret", obj=current,
                 after={"previous_secret_until": current.previous_secret_until.isoformat()})
    return plain


def live_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    found = [signing.unseal(endpoint.secret)]
    if endpoint.previous_secret and endpoint.previous_secret_until \
            and endpoint.previous_secret_until > now:
        found.append(signing.unseal(endpoint.previous_secret))
    return [s for s in found if s]


# --- the outbox ----------------------------------------------------------------------------


def new_message_id() -> str:
    return f"msg_{secrets.token_hex(12)}"


def _envelope(event_type: str, data: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {"type": event_type,
            "timestamp": at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "data": data}


def emit(items: Iterable[tuple[str, dict[str, Any]]], *, now: datetime | None = None,
         only_endpoint: int | None = None) -> int:
    """Write a delivery for each (event type, data) and each endpoint that wants it, in one
    INSERT, inside the caller's transaction: a rolled-back change sends nothing, a committed
    one is in the outbox. Nobody subscribed: no query at all (the subscriptions are cached).
    Each endpoint's worker step is enqueued once the transaction commits."""
    subs = selectors.subscriptions() if only_endpoint is None else None
    now = now or timezone.now()
    rows = []
    for event_type, data in items:
        targets = [only_endpoint] if only_endpoint is not None else (subs or {}).get(
            event_type, [])
        for endpoint_id in targets:
            rows.append(WebhookDelivery(
                endpoint_id=endpoint_id, message_id=new_message_id(), event_type=event_type,
                payload=_envelope(event_type, data, now), next_attempt_at=now, created_at=now))
    if not rows:
        return 0
    WebhookDelivery.objects.bulk_create(rows)
    for endpoint_id in sorted({row.endpoint_id for row in rows}):
        _kick(endpoint_id)
    return len(rows)


def _kick(endpoint_id: int) -> None:
    # The task module imports this one: imported here, when a change commits.
    from jifen.integrations.webhooks.tasks import deliver_endpoint_task

    transaction.on_commit(lambda: deliver_endpoint_task.enqueue(endpoint_id))


@transaction.atomic
def send_test_event(*, endpoint: WebhookEndpoint, actor: Actor) -> WebhookDelivery:
    """Queue a ``webhook.test`` event for this endpoint alone (in order behind whatever
    waits for it)."""
    emit([(events.TEST, {"endpoint_id": endpoint.pk, "message": "Hello from jifen"})],
         only_endpoint=endpoint.pk)
    delivery = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-id").first()
    assert delivery is not None
    record_audit(actor=actor, action="webhook.test", obj=endpoint,
                 after={"message_id": delivery.message_id})
    return delivery


@transaction.atomic
def redeliver(*, delivery: WebhookDelivery, actor: Actor,
              now: datetime | None = None) -> WebhookDelivery:
    """Send a delivery again, with the same webhook-id (a receiver that deduplicates by it
    takes it once): it goes back in the endpoint's queue, due now, with a fresh set of
    retries."""
    now = now or timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=now, finished_at=None, attempts=0)
    delivery.refresh_from_db()
    record_audit(actor=actor, action="webhook.redeliver", obj=delivery.endpoint,
                 after={"message_id": delivery.message_id})
    _kick(delivery.endpoint_id)
    return delivery


# --- sending (the worker) ------------------------------------------------------------------


def _take_lease(endpoint_id: int) -> bool:
    now = timezone.now()
    return bool(WebhookEndpoint.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now), pk=endpoint_id, is_active=True,
    ).update(lease_until=now + LEASE))


def _renew_lease(endpoint_id: int) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint_id).update(lease_until=timezone.now() + LEASE)


def _release_lease(endpoint_id: int) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint_id).update(lease_until=None)


def _head(endpoint_id: int) -> WebhookDelivery | None:
    return (WebhookDelivery.objects.filter(endpoint_id=endpoint_id,
                                           status=DeliveryStatus.PENDING)
            .order_by("id").first())


def deliver_due(*, endpoint_id: int, now: datetime | None = None, limit: int = 200) -> int:
    """Send the endpoint's due deliveries, oldest first, stopping at the first that fails
    (it is retried later and the newer ones wait behind it). Returns how many were
    delivered. ``now`` decides what is due (tests move it on); signatures always carry the
    real time of the attempt. Not atomic on purpose: each attempt is recorded as it ends,
    and no transaction stays open across an HTTP call."""
    sent = 0
    while _take_lease(endpoint_id):
        try:
            sent += _drain(endpoint_id, now, limit - sent)
        finally:
            _release_lease(endpoint_id)
        # Something may have been queued between the last look and the release, by a
        # writer whose own kick found the lease taken: look once more.
        head = _head(endpoint_id)
        if head is None or head.next_attempt_at > (now or timezone.now()) or sent >= limit:
            if head is not None:
                _schedule(endpoint_id, head.next_attempt_at)
            break
    return sent


def _drain(endpoint_id: int, now: datetime | None, limit: int) -> int:
    sent = 0
    while sent < limit:
        endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True).first()
        head = _head(endpoint_id) if endpoint is not None else None
        if endpoint is None or head is None or head.next_attempt_at > (now or timezone.now()):
            return sent
        _renew_lease(endpoint_id)
        if _attempt(endpoint, head, now or timezone.now()):
            sent += 1
        elif not WebhookDelivery.objects.filter(pk=head.pk,
                                                status=DeliveryStatus.FAILED).exists():
            return sent  # to be retried: the newer ones wait behind it
    return sent


def _schedule(endpoint_id: int, at: datetime) -> None:
    # The task module imports this one.
    from jifen.integrations.webhooks.tasks import deliver_endpoint_task

    if deliver_endpoint_task.get_backend().supports_defer:
        deliver_endpoint_task.using(run_after=at).enqueue(endpoint_id)
    # Otherwise the minute sweep (webhooks.sweep) sends it when due.


def _retry_after(response: requests.Response | None, now: datetime) -> timedelta | None:
    if response is None or (response.status_code not in (429, 503) and \
            response.status_code < 500):
        return None
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        wait = timedelta(seconds=int(value))
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        wait = when - now
    return max(timedelta(0), min(wait, MAX_RETRY_AFTER))


def _backoff(attempt_number: int) -> timedelta | None:
    """The wait after the ``attempt_number``-th failed attempt, None when that was the
    last."""
    if attempt_number > len(RETRY_DELAYS):
        return None
    base = RETRY_DELAYS[attempt_number - 1]
    return base * (1 + random.uniform(-JITTER, JITTER))


def _post(url: str, body: str, headers: dict[str, str]) -> tuple[
        requests.Response | None, str, str]:
    """(response, its body cut short, error)."""
    try:
        outbound.check_url(url)  # again at send time: the name may point elsewhere now
    except errors.ValidationError as exc:
        return None, "", str(exc.message)[:300]
    try:
        response = requests.post(url, data=body.encode(), headers=headers, timeout=TIMEOUT,
                                 allow_redirects=False, stream=True)
    except requests.RequestException as exc:
        return None, "", f"{type(exc).__name__}: {exc}"[:300]
    try:
        raw = response.raw.read(RESPONSE_KEEP * 4, decode_content=True) or b""
    except Exception as exc:
        raw = f"<unreadable: {type(exc).__name__}>".encode()
    finally:
        response.close()
    return response, raw.decode(errors="replace")[:RESPONSE_KEEP], ""


def _attempt(endpoint: WebhookEndpoint, delivery: WebhookDelivery, now: datetime) -> bool:
    """POST one delivery, record the attempt and what follows; True when delivered."""
    started = timezone.now()
    body = signing.body_of(delivery.payload)
    headers = {"content-type": "application/json", "user-agent": USER_AGENT,
               **signing.headers_for(message_id=delivery.message_id, body=body,
                                     secrets_=live_secrets(endpoint, started), at=started)}
    clock = time.monotonic()
    response, response_body, error = _post(endpoint.url, body, headers)
    duration = int((time.monotonic() - clock) * 1000)
    code = response.status_code if response is not None else None
    ok = code is not None and 200 <= code < 300
    number = delivery.attempts + 1
    update: dict[str, Any] = {"attempts": F("attempts") + 1, "last_status_code": code}
    gone = code == 410
    if ok:
        update.update(status=DeliveryStatus.SUCCEEDED, finished_at=timezone.now())
    elif gone:
        update.update(status=DeliveryStatus.FAILED, finished_at=timezone.now())
    else:
        wait = _retry_after(response, now) or _backoff(number)
        if wait is None:
            update.update(status=DeliveryStatus.FAILED, finished_at=timezone.now())
        else:
            update["next_attempt_at"] = now + wait
    shown = {k: v for k, v in headers.items() if k != "webhook-signature"}
    shown["webhook-signature"] = " ".join(s.split(",")[0] + ",…"
                                          for s in headers["webhook-signature"].split())
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery, started_at=started, duration_ms=duration,
            request_headers=shown, request_body=body, status_code=code,
            response_headers=dict(response.headers) if response is not None else {},
            response_body=response_body, error=error)
        WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(
            **update)
        metrics.count_webhook_delivery(  # /metrics: deliveries by outcome
            "delivered" if ok else "gone" if gone else "failed" if "finished_at" in update
            else "retrying")
        if gone:
            # 410 Gone: the receiver says it will never want these again.
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
                is_active=False, disabled_reason=_("The receiver answered 410 Gone"))
            record_audit(actor=None, action="webhook.disable", obj=endpoint,
                         before={"is_active": True}, after={"is_active": False,
                                                           "reason": "410"})
            _changed()
    return ok


def sweep(*, now: datetime | None = None) -> int:
    """Send what is due for every endpoint (the worker's minute job: the retries when the
    queue cannot defer a task, and whatever a lost task left behind)."""
    now = now or timezone.now()
    return sum(deliver_due(endpoint_id=pk, now=now) for pk in selectors.due_endpoint_ids(now))
