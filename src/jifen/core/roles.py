"""Roles and what each may do — the one place access is decided.

Each role is a Django group; each capability is a Django permission on
``core.Capability`` (a model with no table rows, only permissions). ``ROLE_CAPABILITIES``
below is the whole policy: ``jifen.core.services.sync_role_groups`` writes it into the
groups after every migrate, pages check it with ``require_capability`` and the API with
``Principal.can``. Managers see only their own department subtree; that scoping lives in
the people app's selectors.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    EMPLOYEE = "employee", _("Employee")
    MANAGER = "manager", _("Manager")
    HR_ADMIN = "hr_admin", _("HR admin")
    MALL_ADMIN = "mall_admin", _("Mall admin")
    AUDITOR = "auditor", _("Auditor")
    SUPER_ADMIN = "super_admin", _("Super admin")


class Cap(models.TextChoices):
    """Capabilities. The value is the Django permission codename on core.Capability."""

    VIEW_CONSOLE = "view_console", _("Open the admin console")
    VIEW_PEOPLE = "view_people", _("See employees and departments")
    MANAGE_PEOPLE = "manage_people", _("Create, edit, import and off-board employees")
    VIEW_ALL_PEOPLE = "view_all_people", _("See every department, not only one's own subtree")
    MANAGE_SETTINGS = "manage_settings", _("Change site settings")
    VIEW_AUDIT = "view_audit", _("Search the audit log")
    MANAGE_API_KEYS = "manage_api_keys", _("Create and revoke API keys")
    VIEW_LEDGER = "view_ledger", _("Browse the ledger")
    ADJUST_POINTS = "adjust_points", _("Adjust employees' points")
    MANAGE_RULES = "manage_rules", _("Manage earning rules")
    APPROVE_AWARDS = "approve_awards", _("Approve discretionary awards")
    MANAGE_MALL = "manage_mall", _("Manage the mall and its orders")
    MANAGE_ACTIVITIES = "manage_activities", _("Manage lotteries and auctions")
    MANAGE_LIBRARY = "manage_library", _("Manage the library, check-in and comments")
    VIEW_INSIGHTS = "view_insights", _("See dashboards and reports")


_EVERY_VIEW = {Cap.VIEW_CONSOLE, Cap.VIEW_PEOPLE, Cap.VIEW_ALL_PEOPLE, Cap.VIEW_AUDIT,
               Cap.VIEW_LEDGER, Cap.VIEW_INSIGHTS}

ROLE_CAPABILITIES: dict[str, set[str]] = {
    Role.EMPLOYEE: set(),
    Role.MANAGER: {Cap.VIEW_CONSOLE, Cap.VIEW_PEOPLE, Cap.APPROVE_AWARDS, Cap.VIEW_INSIGHTS},
    Role.HR_ADMIN: {
        Cap.VIEW_CONSOLE, Cap.VIEW_PEOPLE, Cap.VIEW_ALL_PEOPLE, Cap.MANAGE_PEOPLE,
        Cap.VIEW_LEDGER, Cap.ADJUST_POINTS, Cap.MANAGE_RULES, Cap.APPROVE_AWARDS,
        Cap.MANAGE_ACTIVITIES, Cap.MANAGE_LIBRARY, Cap.VIEW_INSIGHTS,
    },
    Role.MALL_ADMIN: {Cap.VIEW_CONSOLE, Cap.MANAGE_MALL, Cap.MANAGE_ACTIVITIES, Cap.VIEW_INSIGHTS},
    Role.AUDITOR: set(_EVERY_VIEW),
    Role.SUPER_ADMIN: {c.value for c in Cap},
}

# Which capability an employee token needs for each API key scope, so people with an admin
# role may call system endpoints with their own token.
SCOPE_CAPABILITY: dict[str, str] = {
    "employees:read": Cap.VIEW_PEOPLE,
    "employees:write": Cap.MANAGE_PEOPLE,
    "events:write": Cap.MANAGE_RULES,
    "ledger:read": Cap.VIEW_LEDGER,
    "ledger:write": Cap.ADJUST_POINTS,
    "catalog:write": Cap.MANAGE_MALL,
    "orders:read": Cap.MANAGE_MALL,
    "orders:write": Cap.MANAGE_MALL,
    "reports:read": Cap.VIEW_INSIGHTS,
    "scim": Cap.MANAGE_PEOPLE,
    "admin": Cap.MANAGE_SETTINGS,
}
SCOPES: tuple[str, ...] = tuple(SCOPE_CAPABILITY)


def permission_name(cap: str) -> str:
    return f"core.{cap}"


def user_roles(user: object) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_jifen_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
        if getattr(user, "is_superuser", False):
            cached.add(Role.SUPER_ADMIN)
        user._jifen_roles = cached  # type: ignore[attr-defined]
    return cached


def user_can(user: object, cap: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return any(cap in ROLE_CAPABILITIES.get(role, set()) for role in user_roles(user))
