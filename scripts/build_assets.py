"""Copy the pinned npm packages the pages use into src/jifen/static/vendor/.

Run by `make assets` after `npm ci`; nothing here is committed and nothing is loaded from a
CDN at run time."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
VENDOR = ROOT / "src" / "jifen" / "static" / "vendor"

FILES = {
    "@tabler/core/dist/css/tabler.min.css": "tabler/tabler.min.css",
    "@tabler/core/dist/js/tabler.min.js": "tabler/tabler.min.js",
    "@tabler/icons-webfont/dist/tabler-icons.min.css": "tabler-icons/tabler-icons.min.css",
    "@tabler/icons-webfont/dist/fonts/tabler-icons.woff2": "tabler-icons/fonts/tabler-icons.woff2",
    "@tabler/icons-webfont/dist/fonts/tabler-icons.woff": "tabler-icons/fonts/tabler-icons.woff",
    "@tabler/icons-webfont/dist/fonts/tabler-icons.ttf": "tabler-icons/fonts/tabler-icons.ttf",
    "htmx.org/dist/htmx.min.js": "htmx/htmx.min.js",
    # Alpine's CSP build: expressions are parsed, never run through new Function (eval).
    "@alpinejs/csp/dist/cdn.min.js": "alpinejs/alpine-csp.min.js",
    "echarts/dist/echarts.min.js": "echarts/echarts.min.js",
}


def main() -> int:
    missing = [src for src in FILES if not (NODE / src).exists()]
    if missing:
        print("build_assets: run `npm ci` first; missing " + ", ".join(missing), file=sys.stderr)
        return 1
    for src, dest in FILES.items():
        target = VENDOR / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(NODE / src, target)
    print(f"build_assets: {len(FILES)} files in {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
