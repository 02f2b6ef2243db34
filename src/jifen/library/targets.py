"""What comments, ratings and share links can be about: a registry of target kinds.

A target is named by kind + id ("item" 12, "resource" 7). Each kind registers how to find
one for an employee (``None`` when it does not exist or the employee may not see it), its
title and the page that shows it. The mall's items are registered here through the model
name "mall.Item" (the library may not import the mall); the library's own resources
directly (an employee sees those published for them, and those they own)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.urls import reverse
from django.utils.translation import gettext as _

from jifen.core import errors


@dataclass(frozen=True)
class TargetInfo:
    kind: str
    id: int
    title: str
    url: str

    @property
    def ref(self) -> str:
        """How facts and exports name it: "item:12"."""
        return f"{self.kind}:{self.id}"


# kind → find(id, employee_or_None) -> TargetInfo | None. ``employee`` None asks whether
# the target exists for anyone (operators, exports).
Finder = Callable[[int, Any], "TargetInfo | None"]
_finders: dict[str, Finder] = {}


def register_target(kind: str, finder: Finder) -> None:
    _finders[kind] = finder


def unregister_target(kind: str) -> None:
    _finders.pop(kind, None)


def kinds() -> list[str]:
    return sorted(_finders)


def find_target(kind: str, target_id: Any, employee: Any = None) -> TargetInfo | None:
    finder = _finders.get(str(kind))
    try:
        pk = int(target_id)
    except (TypeError, ValueError):
        return None
    if finder is None or pk < 1 or pk > 2**63 - 1:
        return None
    return finder(pk, employee)


def require_target(kind: str, target_id: Any, employee: Any = None) -> TargetInfo:
    """The target, or ``NotFound`` (an unknown kind, a missing target and one the employee
    may not see are the same answer)."""
    if str(kind) not in _finders:
        raise errors.ValidationError(_("Unknown kind %s.") % str(kind)[:30],
                                     code=errors.ErrorCode.INVALID_KIND,
                                     details={"kinds": kinds()})
    found = find_target(kind, target_id, employee)
    if found is None:
        raise errors.NotFound(_("Not found."))
    return found


def _item_finder(pk: int, employee: Any) -> TargetInfo | None:
    item_model = apps.get_model("mall", "Item")
    item = item_model.objects.filter(pk=pk).only("pk", "name", "status").first()
    if item is None or (employee is not None and item.status != "listed"):
        return None
    return TargetInfo(kind="item", id=item.pk, title=item.name,
                      url=reverse("portal:mall_item", args=[item.pk]))


def register_item_target() -> None:
    """Mall items (listed ones for employees)."""
    try:
        apps.get_model("mall", "Item")
    except LookupError:
        return
    register_target("item", _item_finder)


def _resource_finder(pk: int, employee: Any) -> TargetInfo | None:
    # Not at the top: targets is imported by the app's ready(), before its models load.
    from jifen.library.models import Resource
    from jifen.library.selectors.resources import visible_to

    rows = Resource.objects.all() if employee is None else visible_to(employee)
    resource = rows.filter(pk=pk).only("pk", "title").first()
    if resource is None:
        return None
    return TargetInfo(kind="resource", id=resource.pk, title=resource.title,
                      url=reverse("portal:library_resource", args=[resource.pk]))


def register_resource_target() -> None:
    register_target("resource", _resource_finder)


def register_builtin_targets() -> None:
    register_item_target()
    register_resource_target()
