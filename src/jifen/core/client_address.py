"""The address of the client behind a request: the one place that reads X-Forwarded-For.

Behind a reverse proxy every request arrives from the proxy's address, so counting failed
sign-ins by REMOTE_ADDR alone makes all users one client. X-Forwarded-For names the real
client, but any client can send the header itself: only the entries appended by proxies we
run can be believed. ``settings.TRUSTED_PROXIES`` (``JIFEN_TRUSTED_PROXIES``) says how many
such proxies stand in front of the server; the client is the address that the outermost of
them saw, i.e. the entry that many places from the right of the chain
``X-Forwarded-For…, REMOTE_ADDR``. Anything to the left of it is the client's own claim and
is ignored.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(value: str) -> str | None:
    """``value`` as a normalised IP address, or None when it is none (a name, "unknown",
    garbage). A port, as some proxies append it, is dropped."""
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # 203.0.113.7:443
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def client_address(request: HttpRequest, trusted_proxies: int | None = None) -> str | None:
    """The client's IP address as the nearest untrusted hop saw it; None when unknown.

    With no trusted proxies (the default) that is REMOTE_ADDR. With N trusted proxies it is
    the N-th entry of X-Forwarded-For counted from the right (the last proxy's own address
    is REMOTE_ADDR). When the header holds fewer entries than that — the request did not
    come through every proxy — or the entry is not an address, REMOTE_ADDR is kept: a value
    the client could have written is never used."""
    remote = _address(request.META.get("REMOTE_ADDR") or "")
    hops = settings.TRUSTED_PROXIES if trusted_proxies is None else trusted_proxies
    if hops <= 0:
        return remote
    # Several X-Forwarded-For headers arrive joined by commas in one META value.
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                 if part.strip()]
    if len(forwarded) < hops:
        return remote
    return _address(forwarded[-hops]) or remote
