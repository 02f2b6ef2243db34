"""How the API writes JSON: one encoder for rendered answers and stored (idempotent)
ones alike, so a replay reads exactly like the first answer."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder


def site_time(moment: datetime) -> datetime:
    """``moment`` in the site's zone, or in UTC when the site's offset at that moment is
    not a whole number of minutes — a zone's local mean time before it took a standard
    offset (Shanghai until 1901: +08:05:43), which RFC 3339 cannot write."""
    local = timezone.localtime(moment)
    offset = local.utcoffset()
    if offset is not None and offset.total_seconds() % 60:
        return moment.astimezone(UTC)
    return local


class SiteTimeEncoder(NinjaJSONEncoder):
    """Times go out in RFC 3339 with the site's offset (2026-03-02T10:00:00+08:00), not as
    UTC: what HR systems in the site's zone read and write."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime) and timezone.is_aware(o):
            o = site_time(o)
        return super().default(o)


class SiteTimeRenderer(JSONRenderer):
    encoder_class = SiteTimeEncoder


def json_ready(body: Any) -> Any:
    """``body`` as plain JSON values, written the way the API writes them."""
    return json.loads(json.dumps(body, cls=SiteTimeEncoder))
