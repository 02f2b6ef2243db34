"""Idempotency-Key support for creating API calls: a replay returns the first answer."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256(request.method.encode() + request.path.encode() + request.body)
    return digest.hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> JsonResponse:
    if record.fingerprint != fingerprint:
        raise errors.Conflict(
            _("This Idempotency-Key was already used for a different request."),
            code="idempotency_key_reused",
        )
    response = JsonResponse(record.response, status=record.status_code, safe=False)
    response[REPLAY_HEADER] = "true"
    return response


def idempotent(
    request: HttpRequest,
    principal_id: str,
    handler: Callable[[], tuple[int, Any]],
) -> JsonResponse:
    """Run ``handler`` (returning status and a JSON-ready body) at most once per
    Idempotency-Key and caller. The record is written in the same transaction as the
    handler's changes, so either both exist or neither does; a concurrent duplicate loses
    the unique-key race, rolls back and answers with the winner's response."""
    key = request.headers.get(HEADER, "").strip()
    if not key:
        status, body = handler()
        return JsonResponse(body, status=status, safe=False)
    if len(key) > 200:
        raise errors.ValidationError(_("The Idempotency-Key is longer than 200 characters."),
                                     code="invalid_idempotency_key")
    fingerprint = _fingerprint(request)
    existing = IdempotencyRecord.objects.filter(principal=principal_id, key=key).first()
    if existing is not None:
        return _replay(existing, fingerprint)
    try:
        with transaction.atomic():
            status, body = handler()
            body = json.loads(json.dumps(body, default=str))
            if status < 300:
                IdempotencyRecord.objects.create(
                    principal=principal_id, key=key, method=request.method,
                    path=request.path[:300], fingerprint=fingerprint, status_code=status,
                    response=body,
                )
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(principal=principal_id, key=key).first()
        if existing is None:
            raise
        return _replay(existing, fingerprint)
    return JsonResponse(body, status=status, safe=False)
