"""The sign-in policy: one row, changed in the console (Sign-in and SSO) or the API."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SignInPolicy(models.Model):
    """Who may sign in with a password, and who must use a second factor. A super admin
    always keeps password sign-in (the break-glass path when a provider is down or
    misconfigured); the second factor then guards it."""

    password_disabled_roles = models.JSONField(
        _("roles that must sign in through single sign-on"), default=list, blank=True)
    require_second_factor_for_admins = models.BooleanField(
        _("require a second factor for super admins and HR admins"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "people"
        verbose_name = _("sign-in policy")

    def __str__(self) -> str:
        return str(_("Sign-in policy"))
