"""Two-factor sign-in (allauth.mfa: TOTP, recovery codes, WebAuthn): the policy that admins
enrol, the check ``POST /api/v1/auth/token`` makes, and an admin's reset of another
user's lost second factor."""
