"""Who is calling the API: an employee token or a system API key, behind one Bearer scheme."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from jifen.core import errors
from jifen.core.roles import SCOPE_CAPABILITY, user_can


@dataclass
class Principal:
    """The authenticated caller of one API request."""

    kind: str  # "employee" or "system"
    user: Any = None
    api_key: Any = None
    scopes: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"user:{self.user.pk}" if self.kind == "employee" else f"key:{self.api_key.pk}"

    @property
    def audit_label(self) -> str:
        if self.kind == "employee":
            return getattr(self.user, "audit_label", str(self.user))
        return f"API key {self.api_key.name} ({self.api_key.prefix})"

    @property
    def actor(self) -> Any:
        """What services record as the actor: the user, or the key's label for systems."""
        return self.user if self.kind == "employee" else self

    def can(self, scope: str) -> bool:
        if self.kind == "system":
            return self.api_key.has_scope(scope)
        return user_can(self.user, SCOPE_CAPABILITY[scope])

    def require(self, scope: str) -> None:
        if not self.can(scope):
            raise errors.PermissionDenied(
                _("This call needs the %s scope.") % scope, code="forbidden",
                details={"required_scope": scope},
            )

    def require_employee(self) -> Any:
        """The calling employee, for /me calls; systems have no 'me'."""
        employee = getattr(self.user, "employee", None) if self.kind == "employee" else None
        if employee is None:
            raise errors.PermissionDenied(
                _("This call is for employees signed in with their own token."),
                code="employee_only",
            )
        return employee


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        from jifen.integrations.services import authenticate_api_key
        from jifen.people.services import authenticate_access_token

        access = authenticate_access_token(token)  # brings user.employee along
        if access is not None:
            request.user = access.user
            return Principal(kind="employee", user=access.user)
        key = authenticate_api_key(token)
        if key is not None:
            return Principal(kind="system", api_key=key, scopes=list(key.scopes))
        return None


def principal(request: HttpRequest) -> Principal:
    return request.auth  # type: ignore[attr-defined, return-value]
