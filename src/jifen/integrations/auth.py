"""System API keys as callers of the API (registered with ``jifen.core.apiauth`` when the
app is ready)."""

from __future__ import annotations

from jifen.core.apiauth import Principal
from jifen.integrations.services import authenticate_api_key


def api_key_principal(token: str) -> Principal | None:
    """The system a bearer token is the API key of, or None when it is no live key."""
    key = authenticate_api_key(token)
    if key is None:
        return None
    return Principal(kind="system", api_key=key, scopes=list(key.scopes))
