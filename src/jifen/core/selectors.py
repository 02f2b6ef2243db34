from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.core.cache import cache
from django.db.models import Q, QuerySet

from jifen.core.audit_labels import describe_entries
from jifen.core.caching import row_cache_seconds
from jifen.core.models import AuditEntry, SiteSettings

SITE_SETTINGS_CACHE_KEY = "jifen:site-settings:v1"

# The settings a request started with: read once per request (the middleware pins them),
# not once per use — an API order used them four times, each a cache read (a pickle here,
# a round trip to Redis in production).
_pinned: ContextVar[SiteSettings | None] = ContextVar("site_settings", default=None)


def site_settings() -> SiteSettings:
    """The site settings row, or the defaults (unsaved) until an admin first saves them;
    cached between requests and read once per request. Reading never writes (see
    ``ledger.selectors.ledger_policy``). Treat it as read-only: change settings through
    ``services.update_site_settings``."""
    pinned = _pinned.get()
    if pinned is not None:
        return pinned
    cached = cache.get(SITE_SETTINGS_CACHE_KEY)
    if cached is not None:
        return cached
    obj = SiteSettings.objects.order_by("pk").first() or SiteSettings()
    cache.set(SITE_SETTINGS_CACHE_KEY, obj, row_cache_seconds(300))
    return obj


@contextmanager
def settings_pinned() -> Iterator[SiteSettings]:
    """Within the block (one request), ``site_settings()`` answers without reading the
    cache again."""
    settings = site_settings()
    token = _pinned.set(settings)
    try:
        yield settings
    finally:
        _pinned.reset(token)


def repin_site_settings(settings: SiteSettings) -> None:
    """After a change within a pinned block has committed: the rest of the block sees the
    new settings."""
    if _pinned.get() is not None:
        _pinned.set(settings)


def point_unit(language: str | None) -> str:
    s = site_settings()
    return s.point_unit_en if (language or "").startswith("en") else s.point_unit_zh


def search_audit_log(
    *,
    q: str = "",
    action: str = "",
    object_type: str = "",
    actor: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.select_related("actor")
    if q:
        entries = entries.filter(
            Q(object_repr__icontains=q) | Q(object_id=q) | Q(actor_label__icontains=q)
        )
    if action:
        entries = entries.filter(action=action)
    if object_type:
        entries = entries.filter(object_type=object_type)
    if actor:
        entries = entries.filter(actor_label__icontains=actor)
    if since:
        entries = entries.filter(created_at__gte=since)
    if until:
        entries = entries.filter(created_at__lt=until)
    return entries


def described_audit_entries(entries: Iterable[AuditEntry], *,
                            user: object = None) -> list[AuditEntry]:
    """A page of audit entries with their objects and values in words, found for the
    whole page at once; links only where ``user`` may follow them."""
    found = list(entries)
    describe_entries(found, user=user)
    return found


def audit_actions() -> list[str]:
    return list(AuditEntry.objects.order_by().values_list("action", flat=True).distinct())
