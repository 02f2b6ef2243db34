"""Idempotency-Key for the event batch, whose events commit one by one: the stored
answer cannot share their transaction, so it is looked up before and written after
(the core helper, ``jifen.core.idempotency.idempotent``, wraps everything in one)."""

from __future__ import annotations

import json
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.idempotency import HEADER, _fingerprint, _replay
from jifen.core.models import IdempotencyRecord


def _key(request: HttpRequest) -> str:
    key = request.headers.get(HEADER, "").strip()
    if len(key) > 200:
        raise errors.ValidationError(_("The Idempotency-Key is longer than 200 characters."),
                                     code="invalid_idempotency_key")
    return key


def replayed(request: HttpRequest, principal_id: str) -> JsonResponse | None:
    """The first answer for this request's Idempotency-Key, if there is one."""
    key = _key(request)
    if not key:
        return None
    existing = IdempotencyRecord.objects.filter(principal=principal_id, key=key).first()
    return _replay(existing, _fingerprint(request)) if existing is not None else None


def remember(request: HttpRequest, principal_id: str, status: int, body: Any) -> JsonResponse:
    """Store the answer under the request's Idempotency-Key (if any) and return it; when a
    concurrent twin stored first, return the twin's answer."""
    key = _key(request)
    body = json.loads(json.dumps(body, default=str))
    if key:
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(
                    principal=principal_id, key=key, method=request.method,
                    path=request.path[:300], fingerprint=_fingerprint(request),
                    status_code=status, response=body)
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(principal=principal_id, key=key).first()
            if existing is None:
                raise
            return _replay(existing, _fingerprint(request))
    return JsonResponse(body, status=status, safe=False)
