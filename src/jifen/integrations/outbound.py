"""Where the server may send requests of its own (webhooks, IM robots, IM apps): not to
private, loopback, link-local or otherwise internal addresses, unless the host is named in
``JIFEN_OUTBOUND_ALLOW_HOSTS`` (a comma-separated list, e.g. an intranet gateway)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from jifen.core import errors


def _refuse(message: str, url: str) -> errors.ValidationError:
    return errors.ValidationError(message, code=errors.ErrorCode.URL_NOT_ALLOWED,
                                  details={"url": url})


def _internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def check_url(url: str) -> None:
    """Raise a ``ValidationError`` (``url_not_allowed``) unless ``url`` is http(s) to a
    public address or to an allow-listed host. Every address the name resolves to counts,
    so a name that points inside is refused too; call it again just before each send (the
    name may point elsewhere by then)."""
    parts = urlsplit(url or "")
    host = (parts.hostname or "").lower()
    if parts.scheme not in {"http", "https"} or not host:
        raise _refuse(_("Give an http:// or https:// address."), url)
    allowed = {h.lower() for h in getattr(settings, "JIFEN_OUTBOUND_ALLOW_HOSTS", ())}
    if host in allowed:
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        raise _refuse(_("The host %(host)s cannot be found.") % {"host": host}, url) from exc
    if any(_internal(str(info[4][0])) for info in infos):
        raise _refuse(_("%(host)s is a private or internal address; an administrator may "
                        "allow it with JIFEN_OUTBOUND_ALLOW_HOSTS.") % {"host": host}, url)
