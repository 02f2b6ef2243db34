"""System checks (``jifen check``, and every start of the server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security)
def private_files_not_served(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Uploaded spreadsheets must not land where /media/ serves them to anyone."""
    private = Path(settings.PRIVATE_ROOT).resolve()
    media = Path(settings.MEDIA_ROOT).resolve()
    if private == media or media in private.parents:
        return [checks.Error(
            "JIFEN_PRIVATE_ROOT lies inside JIFEN_MEDIA_ROOT, which is served to anyone: "
            "uploaded spreadsheets (employee details, redemption codes) would be public.",
            hint="Point JIFEN_PRIVATE_ROOT at a folder outside JIFEN_MEDIA_ROOT.",
            id="jifen.E001")]
    return []
