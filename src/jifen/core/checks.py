"""System checks (``jifen check``, and every start of the server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security)
def private_files_not_served(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Uploaded spreadsheets must not land where /media/ serves them to anyone."""
    private = Path(settings.PRIVATE_ROOT).resolve()
    media = Path(settings.MEDIA_ROOT).resolve()
    if private == media or media in private.parents:
        return [checks.Error(
            "JIFEN_PRIVATE_ROOT lies inside JIFEN_MEDIA_ROOT, which is served to anyone: "
            "uploaded spreadsheets (employee details, redemption codes) would be public.",
            hint="Point JIFEN_PRIVATE_ROOT at a folder outside JIFEN_MEDIA_ROOT.",
            id="jifen.E001")]
    return []


# Host names that only this machine reaches: a site served under them needs no HTTPS.
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1", ".localhost"}


def _local_only(hosts: list[str]) -> bool:
    return all(h.lower() in _LOCAL_HOSTS or h.lower().endswith(".localhost") for h in hosts)


@checks.register(checks.Tags.security, deploy=True)
def https_for_a_public_site(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A site that others reach (DEBUG off, a host name beyond this machine) without
    JIFEN_HTTPS sends its session cookie over plain HTTP, and behind a TLS proxy Django
    does not know the visitor came over HTTPS."""
    if settings.DEBUG or settings.HTTPS or _local_only(settings.ALLOWED_HOSTS):
        return []
    return [checks.Warning(
        "JIFEN_HTTPS is off although the site answers to "
        + ", ".join(settings.ALLOWED_HOSTS)
        + ": session and CSRF cookies are not marked Secure, X-Forwarded-Proto from the "
        "proxy is ignored and no HSTS header is sent.",
        hint="Serve the site through a TLS proxy that sets X-Forwarded-Proto and set "
             "JIFEN_HTTPS=1 (docs/deploy.md).",
        id="jifen.W001")]
