"""The one guard in front of every call jifen makes to an address an admin typed (webhook
endpoints, suppliers, IM robots): it must be http(s) and must not lead into the machine or
its private network, unless ``JIFEN_OUTBOUND_ALLOW_HOSTS`` names the host or its network.
Checked when the address is saved and again before each call (the name may resolve
elsewhere by then: DNS rebinding)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from jifen.core import errors

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _allowed(host: str, addresses: list[IPAddress]) -> bool:
    for entry in settings.JIFEN_OUTBOUND_ALLOW_HOSTS:
        if entry.lower() == host.lower():
            return True
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            continue
        if addresses and all(address in network for address in addresses):
            return True
    return False


def _is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to now (empty when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def check_url(url: str) -> None:
    """Raise ``ValidationError`` (``invalid_url`` / ``private_address``) unless ``url`` is an
    http(s) address whose host resolves only to public addresses or is allowed."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        parts, port = None, 0
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname \
            or parts.username or parts.password:
        raise errors.ValidationError(
            _("Give an address that starts with https:// or http://."),
            code=errors.ErrorCode.INVALID_URL, details={"field": "url"})
    host = parts.hostname
    addresses = resolve(host, port)
    if _allowed(host, addresses):
        return
    if not addresses:
        raise errors.ValidationError(
            _("The host %(host)s cannot be found.") % {"host": host},
            code=errors.ErrorCode.INVALID_URL, details={"field": "url", "host": host})
    private = [str(a) for a in addresses if not _is_public(a)]
    if private:
        raise errors.ValidationError(
            _("%(host)s is on a private network (%(address)s); an operator can allow it with "
              "JIFEN_OUTBOUND_ALLOW_HOSTS.") % {"host": host, "address": private[0]},
            code=errors.ErrorCode.PRIVATE_ADDRESS,
            details={"field": "url", "host": host, "address": private[0]})
