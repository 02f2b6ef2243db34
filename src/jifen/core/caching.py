"""How long rows every process must agree on (site settings, the ledger policy) are
served from the cache."""

from __future__ import annotations

from django.conf import settings

LOCAL_CACHE_SECONDS = 2


def row_cache_seconds(shared: int) -> int:
    """``shared`` when every process shares the cache (Redis: a change deletes the entry
    for all of them). Otherwise each server and worker process has a local-memory cache of
    its own, which a change made in another process cannot reach: the entry then lives a
    couple of seconds, so a change shows everywhere that soon."""
    return shared if settings.CACHE_IS_SHARED else LOCAL_CACHE_SECONDS
