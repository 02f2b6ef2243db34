"""Idempotency-Key support for creating API calls: a replay returns the first answer.

Two ways to use it:
- ``idempotent(request, principal_id, handler)`` runs the handler and stores its answer in
  one transaction — for calls whose changes commit together;
- ``replayed(...)`` before and ``remember(...)`` after — for calls that commit in several
  transactions (the event batch commits event by event), where the answer cannot share
  the changes' transaction.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, OperationalError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.db import insert_instance, is_transient_db_error
from jifen.core.encoding import SiteTimeEncoder, json_ready
from jifen.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
RETRIES = 3


def ledger_key(principal_id: str, request: HttpRequest) -> str:
    """The idempotency key a service stores for an API call, derived from the caller's
    ``Idempotency-Key`` header: scoped to the caller (two callers' keys never meet), a long
    header hashed to fit the column. ``""`` when the call sent no header."""
    header = request.headers.get(HEADER, "").strip()
    if not header:
        return ""
    if len(header) <= 150:
        return f"api:{principal_id}:{header}"
    return f"api:{principal_id}:sha256:{hashlib.sha256(header.encode()).hexdigest()}"


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256(request.method.encode() + request.path.encode() + request.body)
    return digest.hexdigest()


def _key(request: HttpRequest) -> str:
    key = request.headers.get(HEADER, "").strip()
    if len(key) > 200:
        raise errors.ValidationError(_("The Idempotency-Key is longer than 200 characters."),
                                     code=errors.ErrorCode.INVALID_IDEMPOTENCY_KEY)
    return key


def _replay(record: IdempotencyRecord, fingerprint: str) -> JsonResponse:
    if record.fingerprint != fingerprint:
        raise errors.Conflict(
            _("This Idempotency-Key was already used for a different request."),
            code=errors.ErrorCode.IDEMPOTENCY_KEY_REUSED,
        )
    response = JsonResponse(record.response, status=record.status_code, safe=False,
                            encoder=SiteTimeEncoder)
    response[REPLAY_HEADER] = "true"
    return response


def _store(request: HttpRequest, principal_id: str, key: str, status: int, body: Any) -> None:
    # A statement built once, not by the ORM on every creating call (it is on the hot path
    # of every order).
    insert_instance(IdempotencyRecord(
        principal=principal_id, key=key, method=request.method, path=request.path[:300],
        fingerprint=_fingerprint(request), status_code=status, response=body,
    ))


def _winner(request: HttpRequest, principal_id: str, key: str) -> JsonResponse | None:
    existing = IdempotencyRecord.objects.filter(principal=principal_id, key=key).first()
    return _replay(existing, _fingerprint(request)) if existing is not None else None


def replayed(request: HttpRequest, principal_id: str) -> JsonResponse | None:
    """The first answer for this request's Idempotency-Key, if one was stored."""
    key = _key(request)
    return _winner(request, principal_id, key) if key else None


def remember(request: HttpRequest, principal_id: str, status: int, body: Any) -> JsonResponse:
    """Store ``body`` as the answer for this request's Idempotency-Key (if any) and return
    it; when a concurrent twin stored first, return the twin's answer."""
    key = _key(request)
    body = json_ready(body)
    if key:
        try:
            with transaction.atomic():
                _store(request, principal_id, key, status, body)
        except IntegrityError:
            winner = _winner(request, principal_id, key)
            if winner is None:
                raise
            return winner
    return JsonResponse(body, status=status, safe=False, encoder=SiteTimeEncoder)


def idempotent(
    request: HttpRequest,
    principal_id: str,
    handler: Callable[..., tuple[int, Any]],
    *,
    look_first: bool = True,
    stores_itself: bool = False,
) -> JsonResponse:
    """Run ``handler`` (returning status and a JSON-ready body) at most once per
    Idempotency-Key and caller. The record is written in the same transaction as the
    handler's changes, so either both exist or neither does; a concurrent duplicate loses
    the unique-key race, rolls back and answers with the winner's response. Failed calls
    (exceptions) store nothing, so a retry runs again.

    ``look_first=False`` saves the look-up of the key ahead of every call, for handlers
    whose service is idempotent by the same key itself (a replay changes nothing there):
    a replay runs the handler, whose answer then loses to the stored one on the unique
    key, and a handler that refuses a replay (the item sold out since) is answered with
    the stored response too.

    ``stores_itself=True`` calls ``handler(store)``: the handler calls ``store(status,
    body)`` once, inside its transaction, as soon as its answer is known — earlier than
    the end of the handler when its last step holds a contended lock (the mall's stock
    row) — and returns what ``store`` returned."""
    key = _key(request)

    def store(status: int, body: Any) -> Any:
        body = json_ready(body)
        if key and status < 300:
            _store(request, principal_id, key, status, body)
        return body

    run: Callable[[], tuple[int, Any]] = (
        (lambda: handler(store)) if stores_itself else handler)  # type: ignore[call-arg]
    if not key:
        status, body = run()
        return JsonResponse(body, status=status, safe=False, encoder=SiteTimeEncoder)
    if look_first:
        first = _winner(request, principal_id, key)
        if first is not None:
            return first
    # The handler's services run inside this block and so cannot retry a deadlock
    # themselves; the block as a whole is retried instead (the database rolled it back).
    attempts = 1 if transaction.get_connection().in_atomic_block else RETRIES
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                status, body = run()
                if not stores_itself:
                    body = store(status, body)
            break
        except IntegrityError:
            winner = _winner(request, principal_id, key)
            if winner is None:
                raise
            return winner
        except errors.JifenError:
            winner = None if look_first else _winner(request, principal_id, key)
            if winner is None:
                raise
            return winner
        except OperationalError as exc:
            if attempt == attempts or not is_transient_db_error(exc):
                raise
            time.sleep(random.uniform(0, 0.02 * attempt))
    return JsonResponse(body, status=status, safe=False, encoder=SiteTimeEncoder)
