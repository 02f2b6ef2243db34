"""API key writers."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor, actor_user
from jifen.core.roles import SCOPES
from jifen.core.secrets import hash_secret, secret_matches
from jifen.core.services import record_audit
from jifen.integrations.models import ApiKey

KEY_PREFIX = "jfk"


MAX_RATE_LIMIT = 100_000  # calls per minute


@transaction.atomic
def create_api_key(*, name: str, scopes: list[str], actor: Actor = None,
                   rate_limit: int | None = None) -> tuple[ApiKey, str]:
    """Create a key and return it with its plain text, which is never stored or shown again.
    ``rate_limit``: calls per minute, None for the site's default."""
    name = (name or "").strip()
    if not name:
        raise errors.ValidationError(_("Give the key a name."), code=errors.ErrorCode.NAME_REQUIRED)
    if rate_limit is not None and not 1 <= rate_limit <= MAX_RATE_LIMIT:
        raise errors.ValidationError(
            _("The limit is between 1 and %(max)d calls a minute, or empty for the default.")
            % {"max": MAX_RATE_LIMIT}, details={"field": "rate_limit"})
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise errors.ValidationError(
            _("Choose scopes from: %s") % ", ".join(SCOPES),
            code=errors.ErrorCode.INVALID_SCOPE,
            details={"unknown": unknown, "allowed": list(SCOPES)},
        )
    prefix = secrets.token_hex(6)
    plain = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        name=name, prefix=prefix, key_hash=hash_secret(plain), scopes=scopes,
        created_by=actor_user(actor), rate_limit=rate_limit,
    )
    record_audit(actor=actor, action="apikey.create", obj=key,
                 after={"name": name, "scopes": scopes, "rate_limit": rate_limit})
    return key, plain


def authenticate_api_key(plain: str) -> ApiKey | None:
    """The active key this text is, or None."""
    parts = plain.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    key = ApiKey.objects.filter(prefix=parts[1], revoked_at__isnull=True).first()
    if key is None or not secret_matches(key.key_hash, plain):
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


@transaction.atomic
def revoke_api_key(*, key: ApiKey, actor: Actor) -> ApiKey:
    """Revoke a key; requests with it fail with 401 from now on. Revoking twice is harmless."""
    updated = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    key.refresh_from_db()
    if updated:
        record_audit(
            actor=actor, action="apikey.revoke", obj=key,
            before={"revoked": False}, after={"revoked": True},
        )
    return key
