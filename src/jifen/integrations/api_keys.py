"""API keys through /api/v1: the console's API-keys page for a system that manages keys (a
key with the ``admin`` scope) or a super admin's token. A caller may give a new key only
scopes it holds itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from jifen.core import errors
from jifen.core.apiauth import Principal, principal
from jifen.core.idempotency import idempotent
from jifen.core.roles import SCOPES, Cap
from jifen.core.schema_types import UrlRowId
from jifen.integrations import selectors, services
from jifen.integrations.models import ApiKey

router = Router(tags=["api keys"])


class ApiKeyIn(Schema):
    name: str = Field(max_length=100, description="Which system uses the key.")
    scopes: list[str] = Field(description=f"Some of: {', '.join(SCOPES)}.")
    rate_limit: int | None = Field(None, description="Calls per minute; null for the "
                                                     "site's default.")


class ApiKeyOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The key's visible start, to tell keys apart.")
    scopes: list[str]
    rate_limit: int | None
    active: bool
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The key itself: shown only in this answer, never again.")


def _manager(request: HttpRequest) -> Principal:
    caller = principal(request)
    caller.require_scope_or_capability(
        "admin", Cap.MANAGE_API_KEYS,
        message=_("Only super admins and keys with the admin scope manage API keys."))
    return caller


def _out(key: ApiKey) -> dict[str, Any]:
    return ApiKeyOut(id=key.pk, name=key.name, prefix=key.prefix, scopes=key.scopes,
                     rate_limit=key.rate_limit, active=key.is_active,
                     created_at=key.created_at, last_used_at=key.last_used_at,
                     revoked_at=key.revoked_at).model_dump()


@router.get("/api-keys", response=list[ApiKeyOut])
def list_api_keys(request: HttpRequest) -> list[dict[str, Any]]:
    """Every key, revoked ones included, in the order the console lists them."""
    _manager(request)
    return [_out(key) for key in selectors.api_keys()]


@router.post("/api-keys", response={201: ApiKeyCreated})
def create_api_key(request: HttpRequest, payload: ApiKeyIn):
    """A new key; its text is in this answer only. 403 when it would hold a scope the
    caller does not (a key cannot mint a stronger key); 422 for an unknown scope."""
    caller = _manager(request)
    stronger = sorted(s for s in set(payload.scopes) if s in SCOPES and not caller.can(s))
    if stronger:
        raise errors.PermissionDenied(
            _("A key cannot be given scopes its creator does not hold: %s")
            % ", ".join(stronger), details={"scopes": stronger})

    def handler() -> tuple[int, dict]:
        key, plain = services.create_api_key(name=payload.name, scopes=payload.scopes,
                                             rate_limit=payload.rate_limit,
                                             actor=caller.actor)
        return 201, {**_out(key), "key": plain}

    return idempotent(request, caller.id, handler)


@router.post("/api-keys/{key_id}/revoke", response=ApiKeyOut)
def revoke_api_key(request: HttpRequest, key_id: UrlRowId) -> dict[str, Any]:
    """Revoke a key: calls with it are 401 from now on. Revoking twice changes nothing."""
    caller = _manager(request)
    key = selectors.api_keys().filter(pk=key_id).first()
    if key is None:
        raise errors.NotFound(_("No API key with this id."))
    return _out(services.revoke_api_key(key=key, actor=caller.actor))
