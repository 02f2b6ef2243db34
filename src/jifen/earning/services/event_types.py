"""Event types: the built-in ones and those admins register, each with the JSON Schema
its payloads must satisfy."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.services import record_audit
from jifen.earning import engine
from jifen.earning.builtins import BUILTIN_EVENT_TYPES
from jifen.earning.models import EventType


@transaction.atomic
def ensure_builtin_event_types() -> int:
    """Create the built-in event types that are missing (idempotent; edits admins made to
    existing ones are kept). Returns how many were created."""
    existing = set(EventType.objects.filter(code__in=list(BUILTIN_EVENT_TYPES))
                   .values_list("code", flat=True))
    created = [
        EventType(code=code, name=seed.name, description=seed.description,
                  schema=seed.schema, builtin=True)
        for code, seed in BUILTIN_EVENT_TYPES.items() if code not in existing
    ]
    EventType.objects.bulk_create(created, ignore_conflicts=True)
    return len(created)


@transaction.atomic
def create_event_type(*, actor: Actor, code: str, name: str, schema: dict | None = None,
                      description: str = "") -> EventType:
    """Register a custom event type whose payloads must satisfy ``schema`` (JSON Schema,
    checked now). Audited."""
    code = (code or "").strip()
    name = (name or "").strip()
    if not code or slugify(code).replace("-", "_") != code:
        raise errors.ValidationError(
            _("The code may contain only lower-case letters, digits and underscores."),
            code=errors.ErrorCode.INVALID_CODE)
    if not name:
        raise errors.ValidationError(_("Give the event type a name."),
                                     code=errors.ErrorCode.NAME_REQUIRED)
    if EventType.objects.filter(code=code).exists():
        raise errors.Conflict(_("An event type with this code already exists."),
                              code=errors.ErrorCode.DUPLICATE_EVENT_TYPE)
    schema = engine.check_schema(schema if schema is not None else {"type": "object"})
    event_type = EventType.objects.create(code=code, name=name, description=description,
                                          schema=schema)
    record_audit(actor=actor, action="earning.event_type.create", obj=event_type,
                 after={"code": code, "name": name, "schema": schema})
    return event_type


@transaction.atomic
def update_event_type(*, event_type: EventType, actor: Actor, name: str | None = None,
                      description: str | None = None, schema: dict | None = None,
                      active: bool | None = None) -> EventType:
    """Change a type's name, schema or whether it accepts events. Audited."""
    event_type = EventType.objects.select_for_update().get(pk=event_type.pk)
    before = {"name": event_type.name, "schema": event_type.schema, "active": event_type.active}
    if name is not None:
        event_type.name = name.strip() or event_type.name
    if description is not None:
        event_type.description = description
    if schema is not None:
        event_type.schema = engine.check_schema(schema)
    if active is not None:
        event_type.active = active
    event_type.save()
    record_audit(actor=actor, action="earning.event_type.update", obj=event_type, before=before,
                 after={"name": event_type.name, "schema": event_type.schema,
                        "active": event_type.active})
    return event_type
