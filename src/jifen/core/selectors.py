from __future__ import annotations

from datetime import datetime

from django.core.cache import cache
from django.db.models import Q, QuerySet

from jifen.core.models import AuditEntry, SiteSettings

SITE_SETTINGS_CACHE_KEY = "jifen:site-settings:v1"


def site_settings() -> SiteSettings:
    """The site settings row (created with defaults on first use), cached between requests."""
    cached = cache.get(SITE_SETTINGS_CACHE_KEY)
    if cached is not None:
        return cached
    obj = SiteSettings.objects.order_by("pk").first()
    if obj is None:
        obj, _ = SiteSettings.objects.get_or_create(pk=1)
    cache.set(SITE_SETTINGS_CACHE_KEY, obj, 300)
    return obj


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


def audit_actions() -> list[str]:
    return list(AuditEntry.objects.order_by().values_list("action", flat=True).distinct())
