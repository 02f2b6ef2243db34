"""Who did something, as services record it.

An actor is a signed-in user (recorded by foreign key and by name), something that only
has a name (an API key's principal, a system job), or nobody (``None``: the platform
itself). Every service that stores "who" goes through ``actor_fields`` so the name is
written the same way everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, cast, runtime_checkable

from django.db import models

if TYPE_CHECKING:
    # django-stubs' name for settings.AUTH_USER_MODEL (core may not import people).
    from django.contrib.auth.models import _User

ACTOR_LABEL_LENGTH = 150


@runtime_checkable
class Labelled(Protocol):
    """Anything that names itself for the audit trail (a user, an API principal)."""

    @property
    def audit_label(self) -> str: ...


# A user model instance, a labelled principal, or None for the platform itself.
Actor: TypeAlias = "models.Model | Labelled | None"


def actor_user(actor: Actor | Any) -> _User | None:
    """The user row to link, when the actor is one (saved) user."""
    if isinstance(actor, models.Model) and getattr(actor, "pk", None):
        return cast("_User", actor)
    return None


def actor_label(actor: Actor | Any) -> str:
    """The actor's name as stored beside the link (kept when the user is deleted)."""
    if actor is None:
        return ""
    label = getattr(actor, "audit_label", None) or getattr(actor, "username", "") or str(actor)
    return str(label)[:ACTOR_LABEL_LENGTH]


def actor_fields(actor: Actor | Any) -> dict[str, Any]:
    """``actor`` and ``actor_label`` for a model that records who did something."""
    return {"actor": actor_user(actor), "actor_label": actor_label(actor)}


class NamedActor:
    """An actor known only by the name a job stored (an API key's principal that started
    an import the worker runs later). It has no user and so no roles: checks that let only
    a super admin do something refuse it, as they refused the principal."""

    def __init__(self, label: str) -> None:
        self.label = label

    @property
    def audit_label(self) -> str:
        return self.label

    def __str__(self) -> str:
        return self.label
