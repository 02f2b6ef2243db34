from __future__ import annotations

from django.db.models import QuerySet

from jifen.integrations.models import ApiKey


def api_keys() -> QuerySet[ApiKey]:
    return ApiKey.objects.select_related("created_by").order_by("revoked_at", "-created_at")


def active_api_key_count() -> int:
    return ApiKey.objects.filter(revoked_at__isnull=True).count()
