"""How the audit log names API keys (registered from ``IntegrationsConfig.ready``; see
``jifen.core.describe``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from jifen.core.describe import by_pk, register_object_describer
from jifen.core.roles import Cap
from jifen.integrations.models import ApiKey, WebhookEndpoint


def register() -> None:
    register_object_describer("integrations.apikey", by_pk(
        ApiKey, lambda k: _("API key %(name)s") % {"name": k.name},
        url_name="console:api_keys", with_pk=False, capability=Cap.MANAGE_API_KEYS,
        name=lambda k: k.name))
    register_object_describer("integrations.webhookendpoint", by_pk(
        WebhookEndpoint, lambda e: _("Webhook %(url)s") % {"url": e.url},
        url_name="console:webhook", capability=Cap.MANAGE_API_KEYS, name=lambda e: e.url))
