"""How the audit log names API keys (registered from ``IntegrationsConfig.ready``; see
``jifen.core.describe``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from jifen.core.describe import by_pk, register_object_describer
from jifen.core.roles import Cap
from jifen.integrations.models import ApiKey, ImApp, ImRobot, ImRoute, WebhookEndpoint


def register() -> None:
    register_object_describer("integrations.apikey", by_pk(
        ApiKey, lambda k: _("API key %(name)s") % {"name": k.name},
        url_name="console:api_keys", with_pk=False, capability=Cap.MANAGE_API_KEYS,
        name=lambda k: k.name))
    register_object_describer("integrations.imrobot", by_pk(
        ImRobot, lambda r: _("IM robot %(name)s") % {"name": r.name},
        url_name="console:im_robot", capability=Cap.MANAGE_API_KEYS, name=lambda r: r.name))
    register_object_describer("integrations.imroute", by_pk(
        ImRoute, lambda r: _("IM route %(kind)s") % {"kind": r.kind},
        url_name="console:im", with_pk=False, capability=Cap.MANAGE_API_KEYS))
    register_object_describer("integrations.imapp", by_pk(
        ImApp, lambda a: _("IM app %(platform)s") % {"platform": a.get_platform_display()},
        url_name="console:im", with_pk=False, capability=Cap.MANAGE_API_KEYS))
    register_object_describer("integrations.webhookendpoint", by_pk(
        WebhookEndpoint, lambda e: _("Webhook %(url)s") % {"url": e.url},
        url_name="console:webhook", capability=Cap.MANAGE_API_KEYS, name=lambda e: e.url))
