"""Webhook endpoints of /api/v1 (scope ``admin``): endpoints, their delivery log,
redelivery and test events. The same services as the console's pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from jifen.core.apiauth import principal
from jifen.core.idempotency import idempotent
from jifen.core.pagination import CursorPage, paginate
from jifen.core.schema_types import StrictBool, UrlInt, UrlRowId
from jifen.integrations.models import WebhookDelivery, WebhookEndpoint
from jifen.integrations.webhooks import events, selectors, services

router = Router(tags=["webhooks"])


class EndpointIn(Schema):
    url: str = Field(max_length=500, description="https:// address of your receiver.")
    event_types: list[str] = Field(
        max_length=50, description="Any of: " + ", ".join(events.EVENT_TYPES))
    description: str = Field("", max_length=200)


class EndpointPatch(Schema):
    url: str | None = Field(None, max_length=500)
    event_types: list[str] | None = Field(None, max_length=50)
    description: str | None = Field(None, max_length=200)
    is_active: StrictBool | None = None


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[str]
    is_active: bool
    disabled_reason: str
    previous_secret_until: datetime | None
    created_at: datetime


class EndpointCreated(EndpointOut):
    secret: str = Field(description="whsec_… — shown only in this answer.")


class SecretOut(Schema):
    secret: str
    previous_secret_until: datetime | None


class DeliveryOut(Schema):
    id: int
    endpoint_id: int
    message_id: str = Field(description="The webhook-id header, the same on every attempt.")
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    next_attempt_at: datetime
    created_at: datetime
    finished_at: datetime | None
    payload: dict[str, Any]


def _endpoint(request: HttpRequest, pk: int) -> tuple[Any, WebhookEndpoint]:
    caller = principal(request)
    caller.require("admin")
    return caller, get_object_or_404(selectors.endpoints(), pk=pk)


@router.post("/webhooks", response={201: EndpointCreated})
def create_webhook(request: HttpRequest, payload: EndpointIn):
    """Create an endpoint; the answer carries its signing secret, shown only once. 422
    ``private_address`` for an address on a private network, ``unknown_event_type``."""
    caller = principal(request)
    caller.require("admin")

    def handle() -> tuple[int, Any]:
        endpoint, secret = services.create_endpoint(
            url=payload.url, event_types=payload.event_types,
            description=payload.description, actor=caller.actor)
        return 201, {**EndpointOut.from_orm(endpoint).dict(), "secret": secret}

    return idempotent(request, caller.id, handle)


@router.get("/webhooks", response=CursorPage[EndpointOut])
def list_webhooks(request: HttpRequest, cursor: str | None = None,
                  limit: UrlInt = Query(50, ge=1, le=200)):  # noqa: B008 - ninja's marker
    principal(request).require("admin")
    return paginate(selectors.endpoints(), cursor=cursor, limit=limit, descending=True)


@router.get("/webhooks/{pk}", response=EndpointOut)
def get_webhook(request: HttpRequest, pk: UrlRowId):
    return _endpoint(request, pk)[1]


@router.patch("/webhooks/{pk}", response=EndpointOut)
def update_webhook(request: HttpRequest, pk: UrlRowId, payload: EndpointPatch):
    """Change the address, the event types, the description; ``is_active`` disables or
    enables it (enabling sends what waited)."""
    caller, endpoint = _endpoint(request, pk)
    return services.update_endpoint(endpoint=endpoint, actor=caller.actor,
                                    **payload.dict(exclude_unset=True))


@router.delete("/webhooks/{pk}", response={204: None})
def delete_webhook(request: HttpRequest, pk: UrlRowId):
    caller, endpoint = _endpoint(request, pk)
    services.delete_endpoint(endpoint=endpoint, actor=caller.actor)
    return 204, None


@router.post("/webhooks/{pk}/rotate-secret", response=SecretOut)
def rotate_webhook_secret(request: HttpRequest, pk: UrlRowId):
    """A new secret (shown once); the old one keeps signing beside it for 24 hours."""
    caller, endpoint = _endpoint(request, pk)
    secret = services.rotate_secret(endpoint=endpoint, actor=caller.actor)
    endpoint.refresh_from_db()
    return {"secret": secret, "previous_secret_until": endpoint.previous_secret_until}


@router.post("/webhooks/{pk}/test", response={202: DeliveryOut})
def test_webhook(request: HttpRequest, pk: UrlRowId):
    """Queue a ``webhook.test`` event for this endpoint."""
    caller, endpoint = _endpoint(request, pk)
    return 202, services.send_test_event(endpoint=endpoint, actor=caller.actor)


@router.get("/webhooks/{pk}/deliveries", response=CursorPage[DeliveryOut])
def list_deliveries(request: HttpRequest, pk: UrlRowId, status: str = "",
                    cursor: str | None = None,
                    limit: UrlInt = Query(50, ge=1, le=200)):  # noqa: B008 - ninja's marker
    """The endpoint's deliveries, newest first; ``status`` pending, succeeded or failed."""
    endpoint = _endpoint(request, pk)[1]
    rows = selectors.deliveries(endpoint)
    if status:
        rows = rows.filter(status=status)
    return paginate(rows, cursor=cursor, limit=limit, descending=True)


@router.post("/webhook-deliveries/{pk}/redeliver", response={202: DeliveryOut})
def redeliver(request: HttpRequest, pk: UrlRowId):
    """Send a delivery again with the same webhook-id."""
    caller = principal(request)
    caller.require("admin")
    delivery: WebhookDelivery = get_object_or_404(selectors.deliveries(), pk=pk)
    return 202, services.redeliver(delivery=delivery, actor=caller.actor)
