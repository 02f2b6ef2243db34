"""Fake WeCom, DingTalk and Feishu servers on 127.0.0.1, written from the platforms'
documentation and independently of jifen's signing code: each receiver recomputes the
signature with the steps the platform publishes and refuses a wrong one, or a timestamp
more than an hour away, with the platform's own error answer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import override_settings


@dataclass
class Platform:
    """What the fake servers know and what they received."""

    dingtalk_secret: str = "SEC-dingtalk-secret"
    feishu_secret: str = "feishu-secret"
    wecom_robot_key: str = "wecom-key"
    wecom_corp: tuple[str, str] = ("ww-corp", "wecom-app-secret")
    dingtalk_app: tuple[str, str] = ("ding-app-key", "ding-app-secret")
    received: list[dict[str, Any]] = field(default_factory=list)  # accepted messages
    refused: list[dict[str, Any]] = field(default_factory=list)
    tokens_issued: list[str] = field(default_factory=list)
    valid_tokens: set[str] = field(default_factory=set)
    expired_tokens: set[str] = field(default_factory=set)
    # Answers to give before behaving normally: e.g. [(200, {"errcode": 130101, ...})].
    scripted: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base: str = ""

    def texts(self) -> list[str]:
        return [m["text"] for m in self.received]


def _now_ms() -> int:
    return int(time.time() * 1000)


class Handler(BaseHTTPRequestHandler):
    platform: Platform

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        p = self.platform
        if parts.path == "/cgi-bin/gettoken":  # WeCom
            ok = (query.get("corpid"), query.get("corpsecret")) == p.wecom_corp
        elif parts.path == "/gettoken":  # DingTalk
            ok = (query.get("appkey"), query.get("appsecret")) == p.dingtalk_app
        else:
            self._answer(404, {})
            return
        if not ok:
            self._answer(200, {"errcode": 40001, "errmsg": "invalid credential"})
            return
        with p.lock:
            token = f"tok{len(p.tokens_issued) + 1}"
            p.tokens_issued.append(token)
            p.valid_tokens.add(token)
        self._answer(200, {"errcode": 0, "errmsg": "ok", "access_token": token,
                           "expires_in": 7200})

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        p = self.platform
        with p.lock:
            scripted = p.scripted.pop(0) if p.scripted else None
        if scripted is not None:
            p.refused.append({"path": parts.path, "body": body, "answer": scripted[1]})
            self._answer(*scripted)
            return
        if parts.path == "/robot/send":
            self._dingtalk_robot(query, body)
        elif parts.path.startswith("/open-apis/bot/v2/hook/"):
            self._feishu_robot(body)
        elif parts.path == "/cgi-bin/webhook/send":
            self._wecom_robot(query, body)
        elif parts.path in ("/cgi-bin/message/send",
                            "/topapi/message/corpconversation/asyncsend_v2"):
            self._direct(parts.path, query, body)
        else:
            self._answer(404, {})

    def _accept(self, platform: str, text: str, body: dict[str, Any], **extra: Any) -> None:
        with self.platform.lock:
            self.platform.received.append({"platform": platform, "text": text, "body": body,
                                           **extra})

    def _refuse(self, answer: dict[str, Any], body: dict[str, Any]) -> None:
        self.platform.refused.append({"path": self.path, "body": body, "answer": answer})
        self._answer(200, answer)

    def _dingtalk_robot(self, query: dict[str, str], body: dict[str, Any]) -> None:
        # DingTalk: "把 timestamp+"\n"+密钥当做签名字符串，使用 HmacSHA256 算法计算签名，
        # 然后进行 Base64 encode，最后再把签名参数再进行 urlEncode"; the timestamp must be
        # within one hour of the server's time.
        secret = self.platform.dingtalk_secret
        timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
        string_to_sign = f"{timestamp}\n{secret}"
        expected = base64.b64encode(hmac.new(secret.encode("utf-8"),
                                             string_to_sign.encode("utf-8"),
                                             digestmod=hashlib.sha256).digest()).decode()
        fresh = timestamp.isdigit() and abs(_now_ms() - int(timestamp)) < 3600 * 1000
        if not fresh or not hmac.compare_digest(sign, expected):
            self._refuse({"errcode": 310000, "errmsg": "sign not match"}, body)
            return
        self._accept("dingtalk", body["markdown"]["text"], body)
        self._answer(200, {"errcode": 0, "errmsg": "ok"})

    def _feishu_robot(self, body: dict[str, Any]) -> None:
        # Feishu: "把 timestamp + "\n" + 密钥 当做签名字符串，使用 HmacSHA256 算法计算签名，
        # 再进行 Base64 编码" — the string is the HMAC's key, over an empty message.
        secret = self.platform.feishu_secret
        timestamp, sign = str(body.get("timestamp", "")), str(body.get("sign", ""))
        string_to_sign = f"{timestamp}\n{secret}"
        hmac_code = hmac.new(string_to_sign.encode("utf-8"), digestmod=hashlib.sha256).digest()
        expected = base64.b64encode(hmac_code).decode("utf-8")
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 3600
        if not fresh or not hmac.compare_digest(sign, expected):
            self._refuse({"code": 19021, "msg": "sign match fail or timestamp is not within "
                                                "one hour from current time"}, body)
            return
        self._accept("feishu", body["card"]["elements"][0]["content"], body)
        self._answer(200, {"code": 0, "msg": "success", "data": {}})

    def _wecom_robot(self, query: dict[str, str], body: dict[str, Any]) -> None:
        if query.get("key") != self.platform.wecom_robot_key:
            self._refuse({"errcode": 93000, "errmsg": "invalid webhook url"}, body)
            return
        self._accept("wecom", body["markdown"]["content"], body)
        self._answer(200, {"errcode": 0, "errmsg": "ok"})

    def _direct(self, path: str, query: dict[str, str], body: dict[str, Any]) -> None:
        token = query.get("access_token", "")
        if token in self.platform.expired_tokens:
            self._refuse({"errcode": 42001, "errmsg": "access_token expired"}, body)
            return
        if token not in self.platform.valid_tokens:
            self._refuse({"errcode": 40014, "errmsg": "invalid access_token"}, body)
            return
        if path == "/cgi-bin/message/send":
            self._accept("wecom_app", body["markdown"]["content"], body, to=body["touser"],
                         token=token)
            self._answer(200, {"errcode": 0, "errmsg": "ok", "msgid": "m1"})
        else:
            self._accept("dingtalk_app", body["msg"]["markdown"]["text"], body,
                         to=body["userid_list"], token=token)
            self._answer(200, {"errcode": 0, "errmsg": "ok", "task_id": 1})


@pytest.fixture
def platform():
    """The fake platforms, listening on 127.0.0.1; jifen's API settings point at them and
    127.0.0.1 is allow-listed for outbound calls."""
    state = Platform()
    handler = type("BoundHandler", (Handler,), {"platform": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    with override_settings(JIFEN_OUTBOUND_ALLOW_HOSTS=("127.0.0.1",),
                           JIFEN_WECOM_API_URL=state.base, JIFEN_DINGTALK_API_URL=state.base,
                           JIFEN_BASE_URL="https://points.example.com"):
        yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def worker(django_capture_on_commit_callbacks):
    """Runs the queued background tasks that are due, as `jifen worker` would, in their
    queue order; ``worker.advance(seconds)`` moves every schedule that far into the past,
    as if that much time went by."""
    from datetime import timedelta

    from django_tasks_db.models import DBTaskResult

    from jifen.integrations.models import ImMessage

    class Worker:
        def run(self) -> int:
            ran = 0
            while True:
                task = DBTaskResult.objects.ready().order_by("run_after", "enqueued_at").first()
                if task is None:
                    return ran
                args = task.args_kwargs
                DBTaskResult.objects.filter(pk=task.pk).delete()
                with django_capture_on_commit_callbacks(execute=True):
                    task.task.call(*args["args"], **args["kwargs"])
                ran += 1

        def advance(self, seconds: float) -> None:
            delta = timedelta(seconds=seconds)
            for row in ImMessage.objects.all():
                ImMessage.objects.filter(pk=row.pk).update(scheduled_at=row.scheduled_at - delta)
            for task in DBTaskResult.objects.all():
                DBTaskResult.objects.filter(pk=task.pk).update(run_after=task.run_after - delta)

        def waiting(self) -> int:
            return DBTaskResult.objects.filter(status="READY").count()

    return Worker()
