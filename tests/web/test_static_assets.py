"""The trimmed front-end files (scripts/build_assets.py, `make assets`) still hold everything
the pages use: a class or an icon added to a template after the last build fails here,
rather than rendering unstyled or as an empty square."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from scripts.build_assets import (
    ICON_CSS,
    ICON_TTF,
    ICON_WOFF2,
    ICONS_CSS,
    NODE,
    PURGED_CSS,
    SRC,
    TABLER_CSS,
    VENDOR,
    icon_code_points,
    used_icons,
)

REBUILD = "run `make assets` again (scripts/build_assets.py)"

# class="…" with template tags inside, whose own quotes do not end the attribute.
CLASS_ATTRIBUTE = re.compile(r'class="((?:\{\{.*?\}\}|\{%.*?%\}|[^"])*)"', re.S)
TEMPLATE_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
# Widget classes set in Python: attrs={"class": "form-control"}.
PYTHON_CLASS = re.compile(r"""["']class["']\s*:\s*["']([^"']+)["']""")
CSS_CLASS = re.compile(r"\.(-?[A-Za-z_][\w-]*)")


def _need(path: Path) -> str:
    if not path.exists():
        pytest.fail(f"{path} is missing: {REBUILD} after `npm ci`")
    return path.read_text(encoding="utf-8")


def classes_in_sources() -> dict[str, set[str]]:
    """Every class name written literally in a template's class attribute or a Python
    widget's attrs, with the files naming it. A class built from a value ("bg-{{ c }}-lt")
    is left out: its halves are no class (the build keeps those by pattern)."""
    found: dict[str, set[str]] = {}
    sources = [(p, CLASS_ATTRIBUTE) for p in SRC.glob("**/templates/**/*.html")]
    sources += [(p, PYTHON_CLASS) for p in SRC.glob("**/*.py") if "migrations" not in p.parts]
    for path, pattern in sources:
        for value in pattern.findall(path.read_text(encoding="utf-8")):
            for name in TEMPLATE_TAG.sub(" ", value).split():
                if re.fullmatch(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*", name):
                    found.setdefault(name, set()).add(str(path.relative_to(SRC)))
    return found


def test_every_tabler_class_a_template_uses_survived_the_purge():
    full = set(CSS_CLASS.findall(_need(NODE / TABLER_CSS)))
    purged_text = _need(VENDOR / PURGED_CSS)
    purged = set(CSS_CLASS.findall(purged_text))
    used = classes_in_sources()
    assert {"btn", "card", "navbar", "form-control"} <= used.keys()  # the scan sees classes
    lost = {name: sorted(files)[:3] for name, files in used.items()
            if name in full and name not in purged}
    assert not lost, f"Tabler classes used but purged ({REBUILD}): {lost}"
    # …and the purge did happen (a plain copy would pass the check above).
    assert len(purged_text) < 0.6 * (NODE / TABLER_CSS).stat().st_size, REBUILD


def test_classes_set_while_the_page_runs_survived_the_purge():
    """Bootstrap's and htmx's scripts add these; no template names them all."""
    purged = set(CSS_CLASS.findall(_need(VENDOR / PURGED_CSS)))
    for name in ("show", "fade", "collapsing", "modal-backdrop", "dropdown-menu-end",
                 "offcanvas-backdrop", "is-invalid", "was-validated", "bg-green-lt",
                 "bg-red-lt", "text-danger"):
        assert name in purged, f"{name} was purged: widen SAFELIST in scripts/build_assets.py"


def test_every_icon_used_is_in_the_subset_css_and_font():
    full = icon_code_points(_need(NODE / ICONS_CSS))
    subset_css = _need(VENDOR / ICON_CSS)
    subset = icon_code_points(subset_css)
    used = used_icons()
    assert {"ti-gift", "ti-home", "ti-search"} <= used  # the scan sees icons
    unknown = sorted(used - full.keys())
    assert not unknown, f"not Tabler icons (typo?): {unknown}"
    missing = sorted(name for name in used if subset.get(name) != full[name])
    assert not missing, f"icons missing from the subset ({REBUILD}): {missing}"
    for font_file in (ICON_WOFF2, ICON_TTF):
        cmap = TTFont(VENDOR / font_file).getBestCmap()
        absent = sorted(name for name in used if full[name] not in cmap)
        assert not absent, f"{font_file} lacks glyphs for {absent} ({REBUILD})"


def test_the_icon_css_ships_only_the_subset_woff2():
    css = _need(VENDOR / ICON_CSS)
    assert re.findall(r"url\(([^)]*)\)", css) == ['"./fonts/tabler-icons.woff2"']
    assert len(icon_code_points(css)) == len(used_icons() & icon_code_points(
        _need(NODE / ICONS_CSS)).keys())
    assert (VENDOR / ICON_WOFF2).stat().st_size < 100 * 1024
