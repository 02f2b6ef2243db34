"""Core writers: audit entries and site settings."""

from __future__ import annotations

import contextvars
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor, actor_fields
from jifen.core.db import locked_singleton
from jifen.core.models import AuditEntry, Capability, SiteSettings
from jifen.core.roles import ROLE_CAPABILITIES, Cap
from jifen.core.selectors import SITE_SETTINGS_CACHE_KEY, repin_site_settings

# Set by middleware for the duration of a request so audit entries record the address
# without every service having to accept it.
request_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_ip", default=None)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """A JSON-ready dict of the named fields, for an audit entry's before/after."""
    return {name: _jsonable(getattr(obj, name)) for name in fields}


def record_audit(
    *,
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    """Append one audit entry. Called by services inside their own transaction, so the
    entry exists exactly when the change does."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
    return AuditEntry.objects.create(
        **actor_fields(actor),
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        before=before,
        after=after,
        ip_address=request_ip.get(),
    )


SITE_SETTINGS_FIELDS = (
    "platform_name", "logo", "primary_color", "contact", "point_unit_zh", "point_unit_en",
    "decimals", "default_language",
)


def points_exist() -> bool:
    """True once any ledger transaction exists (decimals are fixed from then on)."""
    try:
        transaction_model = apps.get_model("ledger", "Transaction")
    except LookupError:
        return False
    return transaction_model.objects.exists()


@transaction.atomic
def update_site_settings(*, actor: Actor, **changes: Any) -> SiteSettings:
    """Change site settings. Refuses to change the number of decimals once points exist,
    because every stored amount is an integer in the smallest unit."""
    unknown = set(changes) - set(SITE_SETTINGS_FIELDS)
    if unknown:
        raise errors.ValidationError(_("Unknown settings: %s") % ", ".join(sorted(unknown)))
    current = locked_singleton(SiteSettings)
    before = snapshot(current, SITE_SETTINGS_FIELDS)
    if "decimals" in changes and int(changes["decimals"]) != current.decimals and points_exist():
        raise errors.Conflict(
            _("The number of decimals cannot change once points have been issued."),
            code=errors.ErrorCode.DECIMALS_LOCKED,
        )
    for name, value in changes.items():
        setattr(current, name, value)
    try:
        current.full_clean()
    except DjangoValidationError as exc:
        raise errors.ValidationError(
            _("Please correct the settings."), details={"fields": exc.message_dict}
        ) from exc
    current.save()
    after = snapshot(current, SITE_SETTINGS_FIELDS)
    record_audit(actor=actor, action="settings.update", obj=current, before=before, after=after)
    transaction.on_commit(lambda: cache.delete(SITE_SETTINGS_CACHE_KEY))
    cache.delete(SITE_SETTINGS_CACHE_KEY)
    transaction.on_commit(lambda: repin_site_settings(current))
    return current


def sync_role_groups(**_: object) -> None:
    """Make each role's Django group hold exactly the permissions the policy gives it."""
    content_type = ContentType.objects.get_for_model(Capability)
    perms = {}
    for cap in Cap:
        perm, _created = Permission.objects.get_or_create(
            content_type=content_type, codename=cap.value,
            defaults={"name": cap.value.replace("_", " ")},
        )
        perms[cap.value] = perm
    for role, caps in ROLE_CAPABILITIES.items():
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.set([perms[c] for c in caps])
