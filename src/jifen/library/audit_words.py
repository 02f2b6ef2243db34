"""How the audit log names the library's resources (registered from ``LibraryConfig.ready``;
see ``jifen.core.describe``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from jifen.core.describe import by_pk, register_object_describer
from jifen.core.roles import Cap
from jifen.library.models import Resource, ResourceCategory


def register() -> None:
    register_object_describer("library.resource", by_pk(
        Resource, lambda r: _("Resource %(title)s") % {"title": r.title},
        url_name="console:library_resource_edit", capability=Cap.MANAGE_LIBRARY,
        name=lambda r: r.title))
    register_object_describer("library.resourcecategory", by_pk(
        ResourceCategory, lambda c: _("Resource category %(name)s") % {"name": c.name},
        url_name="console:library_resources", with_pk=False, capability=Cap.MANAGE_LIBRARY,
        name=lambda c: c.name))
