"""How the audit log names core's own objects (registered from ``CoreConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from jifen.core.describe import by_pk, register_object_describer
from jifen.core.models import SiteSettings
from jifen.core.roles import Cap


def register() -> None:
    register_object_describer("core.sitesettings", by_pk(
        SiteSettings, lambda s: _("Site settings"),
        url_name="console:settings", with_pk=False, capability=Cap.MANAGE_SETTINGS))
