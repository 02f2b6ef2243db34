"""The client's address: X-Forwarded-For is believed only through the trusted proxies."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from jifen.core.client_address import client_address


def _request(remote: str = "10.0.0.1", forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_a_forwarded_for_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = 0
    request = _request("198.51.100.7", "203.0.113.9")
    assert client_address(request) == "198.51.100.7"


def test_behind_one_proxy_the_client_is_the_address_it_saw(settings):
    settings.TRUSTED_PROXIES = 1
    assert client_address(_request("10.0.0.1", "198.51.100.7")) == "198.51.100.7"


def test_what_the_client_wrote_itself_is_ignored(settings):
    """A client sends its own X-Forwarded-For; the proxy appends the address it saw."""
    settings.TRUSTED_PROXIES = 1
    assert client_address(_request("10.0.0.1", "1.2.3.4, 5.6.7.8, 198.51.100.7")) == (
        "198.51.100.7")


def test_behind_two_proxies_the_outer_ones_view_counts(settings):
    settings.TRUSTED_PROXIES = 2
    # client claims 1.2.3.4; the outer proxy saw 198.51.100.7; the inner one saw the outer.
    request = _request("10.0.0.2", "1.2.3.4, 198.51.100.7, 10.0.0.1")
    assert client_address(request) == "198.51.100.7"


@pytest.mark.parametrize("forwarded", [None, "", " , "])
def test_a_request_that_did_not_come_through_the_proxy_keeps_its_own_address(settings,
                                                                            forwarded):
    settings.TRUSTED_PROXIES = 1
    assert client_address(_request("198.51.100.7", forwarded)) == "198.51.100.7"


def test_fewer_hops_than_trusted_proxies_keeps_remote_addr(settings):
    settings.TRUSTED_PROXIES = 2
    assert client_address(_request("10.0.0.1", "198.51.100.7")) == "10.0.0.1"


@pytest.mark.parametrize("garbage", ["unknown", "evil.example", "999.1.1.1", "<script>"])
def test_an_entry_that_is_no_address_is_not_used(settings, garbage):
    settings.TRUSTED_PROXIES = 1
    assert client_address(_request("10.0.0.1", garbage)) == "10.0.0.1"


@pytest.mark.parametrize(("forwarded", "expected"), [
    ("198.51.100.7:4711", "198.51.100.7"),
    ("[2001:db8::7]:443", "2001:db8::7"),
    ("2001:DB8:0:0::7", "2001:db8::7"),
    ("::ffff:198.51.100.7", "198.51.100.7"),
])
def test_addresses_are_normalised(settings, forwarded, expected):
    settings.TRUSTED_PROXIES = 1
    assert client_address(_request("10.0.0.1", forwarded)) == expected


def test_no_remote_addr_is_no_address(settings):
    settings.TRUSTED_PROXIES = 0
    assert client_address(_request("")) is None


def test_on_a_unix_socket_the_client_is_the_proxys_entry(settings):
    """gunicorn bound to a unix socket leaves REMOTE_ADDR empty. Behind a proxy that is
    counted (JIFEN_TRUSTED_PROXIES=1) the client is still read from its entry; left at 0,
    there is no address, so no per-address sign-in count and no address in the audit log."""
    settings.TRUSTED_PROXIES = 1
    assert client_address(_request("", "198.51.100.7")) == "198.51.100.7"
    settings.TRUSTED_PROXIES = 0
    assert client_address(_request("", "198.51.100.7")) is None
