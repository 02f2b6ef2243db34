"""Accounts: signing in, passwords, employee API tokens, and ending sign-ins (off-boarding,
after a restore)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.secrets import hash_secret
from jifen.people import sql
from jifen.people.models import AccessToken, User
from jifen.people.services.batches import chunked
from jifen.people.sso.selectors import may_sign_in, password_allowed

TOKEN_PREFIX = "jft"


# --- sign-in and tokens -----------------------------------------------------------------


@transaction.atomic
def end_sign_ins(*, user_ids: list[int]) -> None:
    """End every way these accounts are signed in, at once and for good: the accounts are
    disabled, their API tokens revoked, and their credentials epoch bumped — which ends
    their web sessions (the session hash covers it) and keeps every token issued before
    from working again even if one escaped revocation. Making an account active again
    revives none of them: its owner signs in anew. Every off-boarding route calls this
    (``mark_employee_left``, ``upsert_employee``, ``import_employees``, SCIM later)."""
    now = timezone.now()
    for chunk in chunked(sorted(set(user_ids))):
        User.objects.filter(pk__in=chunk).update(
            is_active=False, credentials_epoch=F("credentials_epoch") + 1)
        AccessToken.objects.filter(user_id__in=chunk, revoked_at__isnull=True).update(
            revoked_at=now)


def end_every_sign_in() -> None:
    """End every web session and every employee API token of every account at once,
    without disabling anyone: after a restore brought back sessions and tokens that were
    ended since the backup (``jifen restore``). Everyone signs in anew."""

    with transaction.atomic():
        User.objects.update(credentials_epoch=F("credentials_epoch") + 1)
        AccessToken.objects.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        Session.objects.all().delete()


def sign_in(*, username: str, password: str, address: str | None) -> User:
    """Check credentials under the sign-in policy (``jifen.people.backends``: an attempt is
    reserved per account and per address before the password is checked). Raises
    RateLimited when the attempts are used up — whether or not the password is right —
    and PermissionDenied (code ``invalid_credentials``) on a wrong username or password,
    the same answer for both; PermissionDenied (``password_sign_in_disabled``) when one of the
    account's roles must sign in through single sign-on (jifen.people.sso). Not in a
    transaction: the counted attempt must stay counted when the sign-in fails."""
    user = authenticate(None, username=username, password=password, address=address)
    if user is None:
        raise errors.PermissionDenied(_("Wrong username or password."),
                                      code=errors.ErrorCode.INVALID_CREDENTIALS)
    # Asked only after the password was right, so that it tells nothing to a guesser.
    if not may_sign_in(user):
        raise errors.PermissionDenied(_("Wrong username or password."),
                                      code=errors.ErrorCode.INVALID_CREDENTIALS)
    if not password_allowed(user):
        raise errors.PermissionDenied(
            _("Your role signs in through single sign-on. Use your company's sign-in button."),
            code=errors.ErrorCode.PASSWORD_SIGN_IN_DISABLED)
    return user


@transaction.atomic
def issue_access_token(*, user: User) -> tuple[AccessToken, str]:
    """A new bearer token for ``user``; the plain token is returned once and not stored."""
    plain = f"{TOKEN_PREFIX}_{secrets.token_urlsafe(32)}"
    token = AccessToken.objects.create(
        user=user, token_hash=hash_secret(plain), credentials_epoch=user.credentials_epoch,
        expires_at=timezone.now() + timedelta(hours=settings.API_TOKEN_LIFETIME_HOURS),
    )
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return token, plain


def authenticate_access_token(plain: str) -> AccessToken | None:
    """The live token for ``plain`` (not revoked, not expired, its account active and not
    signed out everywhere since it was issued: ``end_sign_ins``), with
    ``token.user`` and the user's employee record (``user.employee``; a user without one is
    known to have none) loaded by one hand-written statement built once per process —
    building the ORM's join cost more than running it, on every API call. Records
    ``last_used_at`` at most once a minute per token."""
    if not plain.startswith(f"{TOKEN_PREFIX}_"):
        return None
    now = timezone.now()
    token = sql.live_token(hash_secret(plain), now)
    if token is None:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token




def change_password(*, user: User, old_password: str, new_password: str,
                    address: str | None = None) -> None:
    """Replace ``user``'s password after checking the current one under the sign-in policy
    (a stolen session cannot guess it any faster than the sign-in page). Raises RateLimited
    when the attempts are used up, ValidationError on a wrong current password or a weak
    new one. Other web sessions end with the old password (Django's session hash covers
    it) and so do the API tokens."""
    checked = authenticate(None, username=user.get_username(), password=old_password,
                           address=address)
    if checked is None or checked.pk != user.pk:
        raise errors.ValidationError(_("Your current password is not correct."),
                                     code=errors.ErrorCode.WRONG_PASSWORD,
                                     details={"field": "old_password"})
    try:
        validate_password(new_password, user)
    except DjangoValidationError as exc:
        raise errors.ValidationError(" ".join(exc.messages), code=errors.ErrorCode.WEAK_PASSWORD,
                                     details={"field": "new_password"}) from exc
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        AccessToken.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now())


@transaction.atomic
def revoke_access_token(*, user: User, plain: str) -> bool:
    """Revoke the bearer token ``plain`` if it is ``user``'s own and still unrevoked (a
    client signing out). Returns whether it revoked one."""
    if not plain.startswith(f"{TOKEN_PREFIX}_"):
        return False
    return bool(AccessToken.objects.filter(
        user=user, token_hash=hash_secret(plain), revoked_at__isnull=True,
    ).update(revoked_at=timezone.now()))
