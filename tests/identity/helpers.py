"""Second factors for tests, computed with allauth's own TOTP helpers (no pyotp)."""

from __future__ import annotations

import time

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.conf import settings


def totp_code(secret: str, offset: int = 0) -> str:
    period = getattr(settings, "MFA_TOTP_PERIOD", 30)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period + offset))


def enrol_totp(user) -> tuple[str, list[str]]:
    """Give ``user`` an authenticator app and recovery codes; returns (secret, codes)."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    codes = RecoveryCodes.activate(user)
    return secret, codes.generate_codes()


def second_factors(user) -> set[str]:
    return set(Authenticator.objects.filter(user=user).values_list("type", flat=True))
