"""The server calls out only to public addresses, or to hosts an operator allow-listed."""

from __future__ import annotations

import pytest

from jifen.core import errors
from jifen.integrations.outbound import check_url


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/hook", "http://localhost/x", "http://10.1.2.3/", "http://192.168.0.5/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[::ffff:10.0.0.1]/",
    "http://0.0.0.0/", "ftp://example.com/", "file:///etc/passwd", "not a url",
])
def test_private_internal_and_odd_addresses_are_refused(settings, url):
    settings.JIFEN_OUTBOUND_ALLOW_HOSTS = ()
    with pytest.raises(errors.ValidationError) as caught:
        check_url(url)
    assert caught.value.code in (errors.ErrorCode.INVALID_URL, errors.ErrorCode.PRIVATE_ADDRESS)


def test_an_allow_listed_host_may_be_private(settings):
    settings.JIFEN_OUTBOUND_ALLOW_HOSTS = ("127.0.0.1", "im-gateway.internal")
    check_url("http://127.0.0.1:9000/robot/send")
    check_url("https://im-gateway.internal/cgi-bin/webhook/send?key=k")


def test_a_public_address_is_fine(settings):
    settings.JIFEN_OUTBOUND_ALLOW_HOSTS = ()
    check_url("https://93.184.215.14/robot/send")
