"""`jifen serve`: the web pages and the API under gunicorn (threaded workers)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from django.core.management.base import BaseCommand


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

    def handle(self, *args: Any, **options: Any) -> None:
        from gunicorn.app.base import BaseApplication

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
        try:
            Server().run()
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=10)


def gunicorn_settings(options: dict[str, Any]) -> dict[str, Any]:
    """gunicorn's settings for ``jifen serve``. The access log goes to stdout unless
    JIFEN_ACCESS_LOG names a file, or is empty: off, for a server behind a proxy that logs
    requests itself (formatting the line cost 3% of an API order's CPU)."""
    return {
        "bind": f"{options['host']}:{options['port']}",
        "workers": options["workers"],
        "threads": options["threads"],
        "worker_class": "gthread",
        "accesslog": os.environ.get("JIFEN_ACCESS_LOG", "-").strip() or None,
        "timeout": 120,
    }
