"""Secrets and signatures. A secret is ``whsec_`` + base64 of 32 random bytes (the Standard
Webhooks form); it is stored encrypted with a key derived from the site's SECRET_KEY, since
signing needs the secret itself. A message is signed with every live secret (two during a
rotation), each signature ``v1,…``, space-separated in one ``webhook-signature`` header."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import UTC, datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from standardwebhooks import Webhook


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"jifen.integrations.secrets:" + settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(digest.digest()))


def seal(plain: str) -> str:
    """The stored form of a secret."""
    return _fernet().encrypt(plain.encode()).decode()


def unseal(stored: str) -> str:
    """The secret back from its stored form ("" when it cannot be read: SECRET_KEY
    changed — the endpoint's secret must then be rotated)."""
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except (InvalidToken, ValueError):
        return ""


def body_of(payload: dict[str, Any]) -> str:
    """The exact bytes signed and sent (compact JSON, UTF-8, keys in a fixed order)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True,
                      default=str)


def headers_for(*, message_id: str, body: str, secrets_: list[str],
                at: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt. ``at`` is made UTC first:
    the library replaces the zone of whatever it is given (DESIGN.md §1)."""
    moment = at.astimezone(UTC)
    signatures = [Webhook(secret).sign(message_id, moment, body) for secret in secrets_ if secret]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
