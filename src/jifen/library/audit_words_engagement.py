"""How the audit log names the engagement part's objects (registered from
``LibraryConfig.ready``; see ``jifen.core.describe``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from jifen.core.describe import by_pk, register_object_describer
from jifen.core.roles import Cap
from jifen.library.models import Comment, EngagementSettings


def register() -> None:
    register_object_describer("library.comment", by_pk(
        Comment, lambda c: _("Comment “%(text)s”") % {"text": c.text[:40]},
        url_name="console:library_moderation", with_pk=False,
        capability=Cap.MANAGE_LIBRARY, name=lambda c: c.text[:40]))
    register_object_describer("library.engagementsettings", by_pk(
        EngagementSettings, lambda s: _("Engagement settings"),
        url_name="console:library_engagement_settings", with_pk=False,
        capability=Cap.MANAGE_LIBRARY, name=lambda s: _("Engagement settings")))
