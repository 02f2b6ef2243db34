"""`jifen serve`: the web pages and the API under gunicorn (threaded workers)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from gunicorn.app.base import BaseApplication

from jifen.core.observability.metrics import prepare_multiprocess_dir


class Command(BaseCommand):
    help = "Serve the web pages and the API (gunicorn). --with-worker also runs a task worker."

    def add_arguments(self, parser: Any) -> None:
        env = os.environ.get
        parser.add_argument("--host", default=env("JIFEN_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(env("JIFEN_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(env("JIFEN_WORKERS", "2")))
        parser.add_argument("--threads", type=int, default=int(env("JIFEN_THREADS", "4")))
        parser.add_argument(
            "--with-worker", action="store_true",
            help="Also start one `jifen worker` process beside the server (handy for one machine).",
        )
        parser.add_argument(
            "--no-collectstatic", action="store_true",
            help="Serve STATIC_ROOT as it is (when `jifen collectstatic` ran at build time).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Before the application is built: WhiteNoise lists STATIC_ROOT once, at start.
        if not options["no_collectstatic"]:
            from jifen.core.staticfiles import collect_if_changed

            collect_if_changed(announce=self.stdout.write)
        # Counters of an earlier run must not add to this one's (docs/operations.md).
        prepare_multiprocess_dir()
        # Here, not at the top: building the WSGI application loads every middleware,
        # which only serving needs (the module is imported to list `jifen help` too).
        from jifen.wsgi import application

        worker = None
        if options["with_worker"]:
            worker = subprocess.Popen([sys.executable, "-m", "jifen.cli", "worker"])

        class Server(BaseApplication):
            def load_config(self) -> None:
                for name, value in gunicorn_settings(options).items():
                    self.cfg.set(name, value)

            def load(self) -> Any:
                return application

        self.stdout.write(f"jifen serving on http://{options['host']}:{options['port']}")
        socket = control_socket(options)
        self.stdout.write(f"gunicorn control socket: {socket}" if socket else
                          "gunicorn control socket: off")
        try:
            Server().run()
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=10)


# The longest path a Unix socket can be bound to (sun_path, less its final NUL; macOS's 104).
MAX_SOCKET_PATH = 103
_OFF = {"", "0", "off", "none", "no", "false"}


def control_socket(options: dict[str, Any]) -> str | None:
    """Where this instance's gunicorn control socket (``gunicornc -s PATH``) listens, or None
    for none. gunicorn's default is one path per user ($XDG_RUNTIME_DIR/gunicorn.ctl): a
    second ``jifen serve`` on the host took the first one's socket over, and stopping either
    removed the other's. So each instance has its own, named by its address, under
    JIFEN_VAR_DIR/run/; JIFEN_CONTROL_SOCKET names another path ("{port}" and "{host}" in
    it are filled in) or, empty or "off", turns it off."""
    host = re.sub(r"[^A-Za-z0-9.-]", "_", str(options["host"]))
    port = str(options["port"])
    configured = os.environ.get("JIFEN_CONTROL_SOCKET")
    if configured is not None:
        if configured.strip().lower() in _OFF:
            return None
        return configured.strip().replace("{port}", port).replace("{host}", host)
    path = Path(settings.VAR_DIR) / "run" / f"gunicorn-{host}-{port}.ctl"
    # Too deep a folder for a socket: none rather than gunicorn's shared default.
    return str(path) if len(os.fsencode(path)) <= MAX_SOCKET_PATH else None


def gunicorn_settings(options: dict[str, Any]) -> dict[str, Any]:
    """gunicorn's settings for ``jifen serve``. The access log goes to stdout unless
    JIFEN_ACCESS_LOG names a file, or is empty: off, for a server behind a proxy that logs
    requests itself (formatting the line cost 3% of an API order's CPU). The control socket
    is this instance's own (``control_socket``)."""
    socket = control_socket(options)
    control = ({"control_socket": socket, "control_socket_mode": 0o600} if socket
               else {"control_socket_disable": True})
    return {
        "bind": f"{options['host']}:{options['port']}",
        "workers": options["workers"],
        "threads": options["threads"],
        "worker_class": "gthread",
        "accesslog": os.environ.get("JIFEN_ACCESS_LOG", "-").strip() or None,
        "timeout": 120,
        **control,
    }
