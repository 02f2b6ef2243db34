"""Reads for single sign-on: the policy, the configured providers, and which employee a
provider's account belongs to."""

from __future__ import annotations

from typing import Any

from allauth.socialaccount.models import SocialApp
from django.core.cache import cache
from django.db.models import QuerySet

from jifen.core.roles import Role, user_roles
from jifen.people.models import Employee, EmployeeStatus, User
from jifen.people.sso.models import SignInPolicy

# What an employee is matched on, and the claim read for it when none is configured.
LINK_FIELDS = ("employee_no", "email")
DEFAULT_CLAIMS = {"openid_connect": "email", "wecom": "userid", "dingtalk": "email",
                  "feishu": "employee_no"}
PROVIDERS = ("openid_connect", "wecom", "dingtalk", "feishu")
ADMIN_ROLES = (Role.SUPER_ADMIN, Role.HR_ADMIN)


POLICY_CACHE_KEY = "jifen:sso:policy"
# Read on every page an admin opens (the second-factor check): each process keeps it for a
# moment; a change shows everywhere within that.
POLICY_CACHE_SECONDS = 2


def sign_in_policy() -> SignInPolicy:
    """The policy row, or unsaved defaults before anyone changed it."""
    policy = cache.get(POLICY_CACHE_KEY)
    if policy is None:
        policy = SignInPolicy.objects.order_by("pk").first() or SignInPolicy()
        cache.set(POLICY_CACHE_KEY, policy, POLICY_CACHE_SECONDS)
    return policy


def providers() -> QuerySet[SocialApp]:
    return SocialApp.objects.filter(provider__in=PROVIDERS).order_by("name", "pk")


def employee_account(*, employee_no: str | None = None,
                     pk: int | None = None) -> Employee | None:
    """The employee (by number or primary key) with their account loaded, if they have one."""
    employees = Employee.objects.select_related("user").filter(user__isnull=False)
    if employee_no is not None:
        return employees.filter(employee_no=employee_no).first()
    if pk is None:
        return None
    return employees.filter(pk=pk).first()


def may_sign_in(user: Any) -> bool:
    """An active account whose employee (if it has one) has not left."""
    if user is None or not getattr(user, "is_active", False):
        return False
    employee = Employee.objects.filter(user_id=user.pk).only("status").first()
    return employee is None or employee.status == EmployeeStatus.ACTIVE


def password_allowed(user: User) -> bool:
    """Whether ``user`` may sign in with a password: not when one of their roles is set
    to single sign-on only — unless they are a super admin (the break-glass path)."""
    roles = user_roles(user)
    if Role.SUPER_ADMIN in roles:
        return True
    disabled = set(sign_in_policy().password_disabled_roles or [])
    # Every employee holds the employee role, whatever else they hold.
    roles = set(roles) | {Role.EMPLOYEE.value}
    return not (roles & disabled)


def second_factor_required(user: Any) -> bool:
    """Whether the policy makes ``user`` use a second factor."""
    if not getattr(user, "is_authenticated", False):
        return False
    if not sign_in_policy().require_second_factor_for_admins:
        return False
    return bool(user_roles(user) & set(ADMIN_ROLES))


def _claim(data: dict[str, Any], name: str) -> Any:
    for source in (data, data.get("userinfo"), data.get("id_token")):
        if isinstance(source, dict) and source.get(name) not in (None, ""):
            return source[name]
    return None


def user_for_claims(app: SocialApp, data: dict[str, Any]) -> User | None:
    """The account of the employee that ``data`` (what the provider told us) names through
    the app's configured claim; None when no single employee with an account matches."""
    conf = app.settings or {}
    claim = conf.get("link_claim") or DEFAULT_CLAIMS.get(app.provider, "email")
    field = conf.get("link_field") if conf.get("link_field") in LINK_FIELDS else "employee_no"
    if app.provider == "openid_connect" and not conf.get("link_field"):
        field = "email"
    value = _claim(data, claim)
    if not isinstance(value, str | int) or not str(value).strip():
        return None
    value = str(value).strip()
    lookup = {"email__iexact": value} if field == "email" else {"employee_no": value}
    matches = list(Employee.objects.filter(user__isnull=False, **lookup)
                   .select_related("user")[:2])
    if len(matches) != 1:
        return None
    return matches[0].user
