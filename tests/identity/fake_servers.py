"""Fake identity-provider HTTP servers on 127.0.0.1 (real HTTP, answers shaped as the
providers document them)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

Route = Callable[[dict[str, list[str]], dict[str, str]], tuple[int, dict]]


@contextmanager
def fake_server(routes: dict[str, Route]) -> Iterator[tuple[str, list[tuple[str, dict]]]]:
    """Serve ``routes`` (path → handler(query, headers) → (status, json)) on a free port;
    yields (base URL, the requests received as (path, query))."""
    received: list[tuple[str, dict]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            received.append((parts.path, query))
            route = routes.get(parts.path)
            status, body = route(query, dict(self.headers)) if route else (404, {})
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"_raw": raw.decode(errors="replace")}
            parts = urlsplit(self.path)
            received.append((parts.path, body))
            route = routes.get(parts.path)
            status, answer = route(body, dict(self.headers)) if route else (404, {})
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
