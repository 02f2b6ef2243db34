"""A real HTTP receiver on 127.0.0.1 that verifies every request with the
``standardwebhooks`` package, as an integrator's would."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook

from jifen.integrations.webhooks import events, services


@dataclass
class Receiver:
    port: int = 0
    secrets: list[str] = field(default_factory=list)
    # What to answer next: a list of (status, headers) used up in turn, then ``default``.
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    default: int = 200
    requests: list[dict] = field(default_factory=list)  # every request that verified
    accepted: list[dict] = field(default_factory=list)  # those answered 2xx
    rejected_signatures: int = 0
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified = None
                for secret in receiver.secrets:
                    try:
                        verified = Webhook(secret).verify(body, headers)
                        break
                    except Exception:
                        continue
                if verified is None:
                    receiver.rejected_signatures += 1
                    status, extra = 400, {}
                else:
                    status, extra = (receiver.script.pop(0) if receiver.script
                                     else (receiver.default, {}))
                    record = {"id": headers["webhook-id"], "type": verified["type"],
                              "data": verified["data"], "status": status,
                              "signatures": headers["webhook-signature"].split(),
                              "body": json.loads(body)}
                    receiver.requests.append(record)
                    if 200 <= status < 300:
                        receiver.accepted.append(record)
                self.send_response(status)
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def receiver(settings):
    settings.JIFEN_OUTBOUND_ALLOW_HOSTS = ["127.0.0.1"]
    found = Receiver()
    found.start()
    yield found
    found.stop()


@pytest.fixture
def subscribe(receiver):
    """An endpoint at the receiver for these event types (all by default); the receiver
    learns its secret."""

    def make(*event_types: str):
        endpoint, secret = services.create_endpoint(
            url=receiver.url, event_types=list(event_types) or list(events.EVENT_TYPES),
            actor=None)
        receiver.secrets.append(secret)
        return endpoint

    return make
