from __future__ import annotations

from django.db.models import QuerySet

from jifen.integrations.models import ApiKey


def api_keys() -> QuerySet[ApiKey]:
    return ApiKey.objects.select_related("created_by").order_by("revoked_at", "-created_at")
