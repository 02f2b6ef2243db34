"""The robots' signatures, as each platform documents them.

DingTalk custom robot ("加签"): ``timestamp`` in milliseconds; the string to sign is
``f"{timestamp}\\n{secret}"``; HMAC-SHA256 keyed with the secret; Base64; URL-encoded;
sent as ``&timestamp=…&sign=…`` on the webhook URL.

Feishu custom bot ("签名校验"): ``timestamp`` in seconds; HMAC-SHA256 *keyed with*
``f"{timestamp}\\n{secret}"`` over an empty message; Base64; sent as ``timestamp`` and
``sign`` in the JSON body.

Both platforms refuse a timestamp more than an hour away from their clock."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote_plus


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The ``sign`` query parameter, already URL-encoded."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """The body's ``sign`` field."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
