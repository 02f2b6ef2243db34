"""Build src/jifen/static/vendor/ from the pinned npm packages the pages use.

Run by `make assets` after `npm ci`; nothing here is committed and nothing is loaded from a
CDN at run time. Besides copying, it makes the first visit light (issue #12, point 9):

- tabler.min.css keeps only the rules whose classes our templates, Python code and scripts
  can produce (PurgeCSS), plus the classes Bootstrap/Tabler/htmx set at run time;
- the icon font and its CSS keep only the icons we use (``ti-<name>`` anywhere in src/jifen):
  a woff2 subset for the pages and a TTF subset the demo draws product pictures with.

The file names stay the same, so templates do not change. After adding a class or an icon to
a template, run `make assets` again (tests/web/test_static_assets.py says so when needed)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
SRC = ROOT / "src" / "jifen"
VENDOR = SRC / "static" / "vendor"

TABLER_CSS = "@tabler/core/dist/css/tabler.min.css"
ICONS_CSS = "@tabler/icons-webfont/dist/tabler-icons.min.css"
ICONS_TTF = "@tabler/icons-webfont/dist/fonts/tabler-icons.ttf"

FILES = {
    "@tabler/core/dist/js/tabler.min.js": "tabler/tabler.min.js",
    "htmx.org/dist/htmx.min.js": "htmx/htmx.min.js",
    # Alpine's CSP build: expressions are parsed, never run through new Function (eval).
    "@alpinejs/csp/dist/cdn.min.js": "alpinejs/alpine-csp.min.js",
    "echarts/dist/echarts.min.js": "echarts/echarts.min.js",
}
# Built rather than copied (the sources above).
PURGED_CSS = "tabler/tabler.min.css"
ICON_CSS = "tabler-icons/tabler-icons.min.css"
ICON_WOFF2 = "tabler-icons/fonts/tabler-icons.woff2"
ICON_TTF = "tabler-icons/fonts/tabler-icons.ttf"
# Left by earlier builds that shipped the whole font in three formats.
STALE = ["tabler-icons/fonts/tabler-icons.woff"]

# Classes that Bootstrap's and Tabler's scripts, htmx and Alpine add while the page runs, or
# that templates build from a value ("bg-{{ status|status_colour }}-lt"): PurgeCSS cannot
# see them in the sources, so they are kept by pattern (each matched against a whole class).
COLOURS = ("primary|secondary|success|info|warning|danger|light|dark|muted|white|black|"
           "blue|azure|indigo|purple|pink|red|orange|yellow|lime|green|teal|cyan|gray")
SAFELIST = [
    r"^(show|showing|hiding|collapsing|collapse|collapsed|fade|active|disabled|open)$",
    r"^(is-invalid|is-valid|was-validated|invalid-feedback|valid-feedback)$",
    r"^(modal|dropdown|offcanvas|tooltip|collapse|nav|tab)(-.*)?$",
    r"^(bs|htmx|fade)-.*$",
    rf"^(bg|text|btn|btn-outline|badge|alert|border|link|status|avatar|progress-bar)-"
    rf"({COLOURS})(-lt|-fg|-subtle|-emphasis)?$",
    rf"^(bg|text)-({COLOURS})(-lt|-fg)?-(fg|lt)$",
]
# Kept with everything beneath them (dark sidebar, Tabler's theme switch).
SAFELIST_GREEDY = [r"data-bs-theme"]

# Node runs PurgeCSS; the options come in on stdin (patterns as strings, made RegExps here).
PURGE_JS = """
import { PurgeCSS } from "purgecss";
let input = "";
for await (const chunk of process.stdin) input += chunk;
const opts = JSON.parse(input);
const [result] = await new PurgeCSS().purge({
  content: opts.content,
  css: [opts.css],
  safelist: {
    standard: opts.standard.map((p) => new RegExp(p)),
    greedy: opts.greedy.map((p) => new RegExp(p)),
  },
});
process.stdout.write(result.css);
"""

# Whatever a template, script or module of ours names as "ti-<name>"; "multi-row" is no icon.
ICON_NAME = re.compile(r"(?<![\w-])ti-[a-z0-9]+(?:-[a-z0-9]+)*")
ICON_RULE = re.compile(r'\.(ti-[a-z0-9-]+):before\{content:"\\([0-9a-f]+)"\}')
SOURCE_MAP = re.compile(r"\n?(/\*# sourceMappingURL=[^*]*\*/|//# sourceMappingURL=\S*)\s*$")


def source_files() -> list[Path]:
    """Everything of ours that can name a class or an icon: templates, our scripts (not the
    vendored ones) and Python (forms set widget classes, views pass icons and badges)."""
    files: list[Path] = []
    files += SRC.glob("**/templates/**/*.html")
    files += (p for p in SRC.glob("**/static/**/*.js") if VENDOR not in p.parents)
    files += (p for p in SRC.glob("**/*.py") if "migrations" not in p.parts)
    return sorted(files)


def used_icons(files: list[Path] | None = None) -> set[str]:
    names: set[str] = set()
    for path in files if files is not None else source_files():
        names.update(ICON_NAME.findall(path.read_text(encoding="utf-8")))
    return names


def icon_code_points(css: str) -> dict[str, int]:
    """{"ti-gift": 0xeb68, …} from Tabler's icon CSS."""
    return {name: int(code, 16) for name, code in ICON_RULE.findall(css)}


def without_source_map(text: str) -> str:
    """The packages point at .map files they do not ship in dist/: collectstatic's manifest
    storage would fail looking for them."""
    return SOURCE_MAP.sub("", text)


def copy_files() -> None:
    for src, dest in FILES.items():
        target = VENDOR / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.suffix in {".js", ".css"}:
            target.write_text(without_source_map((NODE / src).read_text(encoding="utf-8")),
                              encoding="utf-8")
        else:
            shutil.copyfile(NODE / src, target)


def purge_tabler_css() -> tuple[int, int]:
    full = NODE / TABLER_CSS
    content = [str(p) for p in source_files()]
    content += [str(NODE / "@tabler/core/dist/js/tabler.min.js"),
                str(NODE / "htmx.org/dist/htmx.min.js")]
    options = {"css": str(full), "content": content, "standard": SAFELIST,
               "greedy": SAFELIST_GREEDY}
    done = subprocess.run(["node", "--input-type=module", "-e", PURGE_JS], cwd=ROOT,
                          input=json.dumps(options), capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit("build_assets: PurgeCSS failed:\n" + done.stderr)
    target = VENDOR / PURGED_CSS
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(without_source_map(done.stdout), encoding="utf-8")
    return full.stat().st_size, target.stat().st_size


def subset_icons() -> tuple[int, int]:
    """The icon CSS and font cut down to the icons we use. Only woff2 is referenced: every
    browser the pages support reads it."""
    import logging

    from fontTools import subset

    # fontTools notes harmless quirks of Tabler's TTF ("extra bytes in post.stringData").
    logging.getLogger("fontTools").setLevel(logging.ERROR)

    css = (NODE / ICONS_CSS).read_text(encoding="utf-8")
    codes = icon_code_points(css)
    names = sorted(used_icons() & codes.keys())
    header = css[: css.index("*/") + 2] if css.startswith("/*") else ""
    base = re.search(r"\.ti\{[^}]*\}", css)
    assert base, "Tabler's icon CSS changed shape: no .ti rule"
    rules = "".join(f'.{name}:before{{content:"\\{codes[name]:x}"}}' for name in names)
    out_css = (header + '@font-face{font-family:"tabler-icons";font-style:normal;'
               'font-weight:400;font-display:block;'
               'src:url("./fonts/tabler-icons.woff2") format("woff2")}'
               + base.group(0) + rules + "\n")
    (VENDOR / ICON_CSS).parent.mkdir(parents=True, exist_ok=True)
    (VENDOR / ICON_CSS).write_text(out_css, encoding="utf-8")

    unicodes = sorted({codes[name] for name in names})
    for flavor, dest in ((None, ICON_TTF), ("woff2", ICON_WOFF2)):
        options = subset.Options()
        options.flavor = flavor
        options.layout_features = []
        options.name_IDs = ["*"]  # keep the licence and names
        options.notdef_outline = True
        font = subset.load_font(str(NODE / ICONS_TTF), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=unicodes)
        subsetter.subset(font)
        (VENDOR / dest).parent.mkdir(parents=True, exist_ok=True)
        subset.save_font(font, str(VENDOR / dest), options)
    before = len(css.encode()) + (NODE / "@tabler/icons-webfont/dist/fonts/tabler-icons.woff2"
                                  ).stat().st_size
    after = (VENDOR / ICON_CSS).stat().st_size + (VENDOR / ICON_WOFF2).stat().st_size
    return before, after


def main() -> int:
    sources = [*FILES, TABLER_CSS, ICONS_CSS, ICONS_TTF]
    missing = [src for src in sources if not (NODE / src).exists()]
    if missing:
        print("build_assets: run `npm ci` first; missing " + ", ".join(missing), file=sys.stderr)
        return 1
    copy_files()
    css_before, css_after = purge_tabler_css()
    icons_before, icons_after = subset_icons()
    for stale in STALE:
        (VENDOR / stale).unlink(missing_ok=True)
    kb = 1024
    print(f"build_assets: {len(FILES) + 4} files in {VENDOR.relative_to(ROOT)}; "
          f"tabler.min.css {css_before // kb} → {css_after // kb} KB, "
          f"icon CSS + font {icons_before // kb} → {icons_after // kb} KB "
          f"({len(used_icons())} names used)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
