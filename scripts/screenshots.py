"""Take the screenshots in docs/screenshots/: the employee portal home and the console's
people list.

Builds the demo company in a throwaway SQLite database, serves it with gunicorn on a free
local port, signs in as the demo employee and the demo super admin with Debian's Chromium
(through Playwright) and saves the pictures. Run it from the repository root:

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
CHROMIUM = os.environ.get("JIFEN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def shoot(base_url: str, out: Path) -> None:
    import django
    from playwright.sync_api import sync_playwright

    django.setup()
    from jifen.demo.builder import DEMO_PASSWORD

    def signed_in_page(browser, username: str):
        context = browser.new_context(viewport=DESKTOP, base_url=base_url, locale="zh-CN",
                                      device_scale_factor=1)
        page = context.new_page()
        page.goto("/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", DEMO_PASSWORD)
        with page.expect_navigation():
            page.click("form button[type=submit]")
        return page

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = signed_in_page(browser, "employee")
        page.goto("/")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(out / "portal-home.png"))
        page = signed_in_page(browser, "admin")
        page.goto("/console/people/")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(out / "console-people.png"))
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="jifen-shots-") as tmp:
        env = {**os.environ, "JIFEN_VAR_DIR": tmp,
               "JIFEN_DATABASE_URL": f"sqlite:///{tmp}/demo.sqlite3",
               "DJANGO_SETTINGS_MODULE": "jifen.settings"}
        jifen = str(BIN / "jifen")
        subprocess.run([jifen, "compilemessages", "-v", "0"], cwd=ROOT / "src" / "jifen",
                       env=env, check=True)
        subprocess.run([jifen, "migrate", "--no-input", "-v", "0"], env=env, check=True)
        subprocess.run([jifen, "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
        # gunicorn serves the fingerprinted files named by the manifest collectstatic writes.
        subprocess.run([jifen, "collectstatic", "--no-input", "-v", "0"], env=env, check=True)
        port = free_port()
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "jifen.wsgi", "--bind", f"127.0.0.1:{port}",
             "--threads", "4", "--log-level", "warning"],
            env=env,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_up(base_url + "/login/")
            os.environ.update(env)
            shoot(base_url, out)
        finally:
            server.terminate()
            server.wait(timeout=30)
    for name in ("portal-home.png", "console-people.png"):
        print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
