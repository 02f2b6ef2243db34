"""Talking to the platforms: the message bodies each one expects, one HTTP call, and what
its answer means (sent, wait and try again, or give up). Plain ``urllib``: a JSON POST or
GET is all these APIs need."""

from __future__ import annotations

import enum
import hashlib
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache

from jifen.integrations.im import signing
from jifen.integrations.models import ImApp, ImPlatform, ImRobot
from jifen.integrations.outbound import check_url

TIMEOUT = 10
# Error codes that mean "too many messages, later": DingTalk 130101 (send too fast),
# WeCom 45009 (api freq out of limit), Feishu 9499 and 11232 (frequency limited).
RATE_LIMIT_CODES = {130101, 45009, 9499, 11232}
# An access token the platform no longer accepts (invalid, expired): fetch a new one.
STALE_TOKEN_CODES = {40014, 42001}
# Seconds to wait after a platform says "too fast": DingTalk throttles a robot for ten
# minutes once it passes its limit; the others count per minute.
RATE_LIMIT_PAUSE: dict[str, int] = {ImPlatform.DINGTALK: 600, ImPlatform.WECOM: 60,
                                     ImPlatform.FEISHU: 60}
TOKEN_MARGIN = 300  # seconds before a token's stated expiry that we stop using it


class Outcome(enum.Enum):
    SENT = "sent"
    RATE_LIMITED = "rate_limited"  # try again after a pause
    RETRY = "retry"  # the platform or the network failed; back off and try again
    FAILED = "failed"  # the platform refused it (wrong secret, bad config): do not retry


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    detail: str = ""
    retry_after: int | None = None


def _call(url: str, body: dict | None = None) -> tuple[int, dict[str, Any]]:
    """POST ``body`` as JSON (GET when None) and return (HTTP status, JSON answer or {}).
    Network errors become status 0."""
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            status, raw = response.status, response.read(65536)
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read(65536)
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        return 0, {"error": str(exc)[:200]}
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        answer = {}
    return status, answer if isinstance(answer, dict) else {}


def _platform_code(answer: dict[str, Any]) -> int:
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    try:
        return int(code or 0)
    except (TypeError, ValueError):
        return -1


def _judge(platform: str, status: int, answer: dict[str, Any]) -> Result:
    code = _platform_code(answer)
    detail = f"HTTP {status} {json.dumps(answer, ensure_ascii=False)[:300]}"
    if status == 429 or code in RATE_LIMIT_CODES:
        return Result(Outcome.RATE_LIMITED, detail, RATE_LIMIT_PAUSE.get(platform, 60))
    if status == 0 or status >= 500:
        return Result(Outcome.RETRY, detail)
    if status == 200 and code == 0:
        return Result(Outcome.SENT, detail)
    return Result(Outcome.FAILED, detail)


# --- group robots ------------------------------------------------------------------------


def robot_body(platform: str, title: str, text: str) -> dict[str, Any]:
    """The platform's markdown message. ``text`` is markdown (with the link back)."""
    if platform == ImPlatform.DINGTALK:
        return {"msgtype": "markdown",
                "markdown": {"title": title, "text": f"### {title}\n\n{text}"}}
    if platform == ImPlatform.FEISHU:
        return {"msg_type": "interactive", "card": {
            "header": {"title": {"tag": "plain_text", "content": title}},
            "elements": [{"tag": "markdown", "content": text}],
        }}
    return {"msgtype": "markdown", "markdown": {"content": f"### {title}\n{text}"}}


def send_robot(robot: ImRobot, *, title: str, text: str, now: float | None = None) -> Result:
    """Post one message through ``robot``, signed as its platform wants."""
    check_url(robot.webhook_url)
    now = time.time() if now is None else now
    url, body = robot.webhook_url, robot_body(robot.platform, title, text)
    if robot.secret and robot.platform == ImPlatform.DINGTALK:
        url = signing.dingtalk_signed_url(url, robot.secret, int(now * 1000))
    elif robot.secret and robot.platform == ImPlatform.FEISHU:
        stamp = int(now)
        body = {"timestamp": str(stamp), "sign": signing.feishu_sign(robot.secret, stamp),
                **body}
    status, answer = _call(url, body)
    return _judge(robot.platform, status, answer)


# --- direct messages through an app ------------------------------------------------------


def _api_base(platform: str) -> str:
    if platform == ImPlatform.WECOM:
        return str(settings.JIFEN_WECOM_API_URL).rstrip("/")
    return str(settings.JIFEN_DINGTALK_API_URL).rstrip("/")


def _token_key(app: ImApp) -> str:
    # The secret is part of the key: a new secret never uses a token of the old one.
    fingerprint = hashlib.sha256(f"{app.client_id}\n{app.secret}".encode()).hexdigest()[:16]
    return f"im:token:{app.platform}:{fingerprint}"


class TokenError(Exception):
    def __init__(self, result: Result):
        super().__init__(result.detail)
        self.result = result


def access_token(app: ImApp, *, fresh: bool = False) -> str:
    """The app's access token, from the cache until shortly before it expires."""
    key = _token_key(app)
    if not fresh and (token := cache.get(key)):
        return str(token)
    base = _api_base(app.platform)
    if app.platform == ImPlatform.WECOM:
        url = f"{base}/cgi-bin/gettoken?" + urlencode({"corpid": app.client_id,
                                                       "corpsecret": app.secret})
    else:
        url = f"{base}/gettoken?" + urlencode({"appkey": app.client_id,
                                               "appsecret": app.secret})
    check_url(url)
    status, answer = _call(url)
    result = _judge(app.platform, status, answer)
    token = answer.get("access_token")
    if result.outcome is not Outcome.SENT or not token:
        raise TokenError(result if result.outcome is not Outcome.SENT
                         else Result(Outcome.FAILED, "no access_token in the answer"))
    lifetime = int(answer.get("expires_in") or 7200)
    cache.set(key, token, max(lifetime - TOKEN_MARGIN, 1))
    return str(token)


def dm_body(app: ImApp, user_id: str, title: str, text: str) -> dict[str, Any]:
    if app.platform == ImPlatform.WECOM:
        return {"touser": user_id, "msgtype": "markdown", "agentid": int(app.agent_id),
                "markdown": {"content": f"### {title}\n{text}"}}
    return {"agent_id": int(app.agent_id), "userid_list": user_id,
            "msg": {"msgtype": "markdown",
                    "markdown": {"title": title, "text": f"### {title}\n\n{text}"}}}


def send_direct(app: ImApp, *, user_id: str, title: str, text: str) -> Result:
    """Send one markdown message to one person through the app; a token the platform
    calls invalid or expired (40014, 42001) is fetched again once."""
    base = _api_base(app.platform)
    path = ("/cgi-bin/message/send" if app.platform == ImPlatform.WECOM
            else "/topapi/message/corpconversation/asyncsend_v2")
    body = dm_body(app, user_id, title, text)
    for fresh in (False, True):
        try:
            token = access_token(app, fresh=fresh)
        except TokenError as exc:
            return exc.result
        url = f"{base}{path}?" + urlencode({"access_token": token})
        check_url(url)
        status, answer = _call(url, body)
        if _platform_code(answer) in STALE_TOKEN_CODES and not fresh:
            cache.delete(_token_key(app))
            continue
        return _judge(app.platform, status, answer)
    return Result(Outcome.FAILED, "token refused twice")  # pragma: no cover - loop returns
