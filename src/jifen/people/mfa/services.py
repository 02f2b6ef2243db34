"""Second factors: checking a code outside the web flow (the API token) and resetting
another user's second factor."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.db import transaction
from django.utils.translation import gettext as _

from jifen.core import errors, throttle
from jifen.core.actors import Actor
from jifen.core.services import record_audit
from jifen.people.models import User

SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def has_second_factor(user: User) -> bool:
    return Authenticator.objects.filter(user_id=user.pk, type__in=SECOND_FACTORS).exists()


def check_code(*, user: User, code: str, address: str | None) -> None:
    """Accept a TOTP code or an unused recovery code of ``user``'s, or raise
    PermissionDenied (``invalid_second_factor_code``). Counted by the same sign-in throttle
    as passwords, per account and per address, before the code is looked at: a burst of
    guesses is refused (RateLimited) whether or not a guess is right."""
    attempt = throttle.reserve_sign_in(user.pk, address, scope="mfa")
    code = (code or "").strip().replace(" ", "")
    with transaction.atomic():
        for authenticator in Authenticator.objects.select_for_update().filter(
                user_id=user.pk, type__in=[Authenticator.Type.TOTP,
                                           Authenticator.Type.RECOVERY_CODES]):
            wrapped = authenticator.wrap()
            ok = (wrapped.validate_code(code) if isinstance(wrapped, TOTP | RecoveryCodes)
                  else False)
            if ok:
                authenticator.record_usage()
                attempt.succeeded()
                return
    raise errors.PermissionDenied(_("The second-factor code is wrong."),
                                  code=errors.ErrorCode.INVALID_SECOND_FACTOR_CODE)


@transaction.atomic
def reset_second_factor(*, actor: Actor, user: User) -> int:
    """Remove every second factor of ``user`` (authenticator app, recovery codes, security
    keys) after they lost it; they enrol anew at their next sign-in when the policy asks
    for one. Returns how many were removed. Audited; nobody resets their own."""
    if getattr(actor, "pk", None) == user.pk:
        raise errors.PermissionDenied(
            _("You cannot reset your own second factor; ask another administrator."),
            code=errors.ErrorCode.FORBIDDEN)
    removed = list(Authenticator.objects.filter(user_id=user.pk)
                   .values_list("type", flat=True))
    Authenticator.objects.filter(user_id=user.pk).delete()
    employee = getattr(user, "employee", None)
    record_audit(actor=actor, action="mfa.reset", obj=employee or user,
                 before={"second_factors": sorted(removed)}, after={"second_factors": []})
    return len(removed)
