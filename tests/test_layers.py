"""The shape every app keeps (DESIGN.md §2, issue #11): web views and API handlers read
through selectors and write through services, so they never touch a model manager; and no
service module grows past what one reader can hold."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "jifen"
MAX_SERVICE_LINES = 600


def _relative(path: Path) -> str:
    return str(path.relative_to(SRC.parent)) if path.is_relative_to(SRC.parent) else path.name


def view_and_api_modules() -> list[Path]:
    """Every ``views.py``, ``*_views.py``, ``api.py`` and ``api_*.py`` under src/jifen, and
    every module of a ``views/`` or ``api/`` package."""
    found = set()
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parents = path.relative_to(SRC).parts[:-1]
        if (path.name in ("views.py", "api.py") or path.name.endswith("_views.py")
                or path.name.startswith("api_") or "views" in parents or "api" in parents):
            found.add(path)
    return sorted(found)


def manager_uses(path: Path) -> list[str]:
    """``file:line`` of every ``.objects`` attribute in the module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    lines = sorted({node.lineno for node in ast.walk(tree)
                    if isinstance(node, ast.Attribute) and node.attr == "objects"})
    return [f"{_relative(path)}:{line}" for line in lines]


def service_modules() -> list[Path]:
    """``<app>/services.py`` and every module of an ``<app>/services/`` package."""
    return sorted([*SRC.glob("*/services.py"), *SRC.glob("*/services/*.py")])


def test_the_walk_finds_the_views_and_api_modules():
    names = {_relative(p) for p in view_and_api_modules()}
    assert {"jifen/people/views.py", "jifen/people/api.py",
            "jifen/people/import_views.py", "jifen/core/imports/views.py",
            "jifen/mall/api/admin.py", "jifen/integrations/api_suppliers.py"} <= names


def test_the_check_names_each_manager_use(tmp_path):
    sample = tmp_path / "sample_views.py"
    sample.write_text("def page(request):\n    return Thing.objects.all()\n", encoding="utf-8")
    assert manager_uses(sample) == ["sample_views.py:2"]


def test_views_and_api_handlers_never_use_a_model_manager():
    """Reads go through ``<app>/selectors.py``, writes through ``<app>/services``."""
    offenders = [use for path in view_and_api_modules() for use in manager_uses(path)]
    assert not offenders, "`.objects` in views/API handlers:\n" + "\n".join(offenders)


def test_no_service_module_is_over_600_lines():
    too_long = []
    for path in service_modules():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_SERVICE_LINES:
            too_long.append(f"{_relative(path)}: {lines} lines")
    assert not too_long, "split these modules:\n" + "\n".join(too_long)


def unexplained_inline_imports(path: Path) -> list[str]:
    """``file:line`` of each import inside a function with no comment on it or on the three
    lines above saying why it cannot sit at the top of the module."""
    lines = path.read_text(encoding="utf-8").split("\n")
    found = []
    for function in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import | ast.ImportFrom):
                context = lines[max(0, node.lineno - 4):node.lineno]
                if not any("#" in line for line in context):
                    found.append(f"{_relative(path)}:{node.lineno}")
    return found


def test_the_inline_import_check_names_an_unexplained_one(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    import json\n    return json\n\n\ndef g():\n"
                      "    # optional dependency\n    import yaml\n    return yaml\n",
                      encoding="utf-8")
    assert unexplained_inline_imports(sample) == ["sample.py:2"]


def test_every_import_inside_a_function_says_why():
    """Cycles are fixed, not hidden in functions; what must stay (the app registry not yet
    ready, an optional driver, a costly module only one command needs) says so."""
    offenders = [use for path in sorted(SRC.rglob("*.py")) if "migrations" not in path.parts
                 for use in unexplained_inline_imports(path)]
    assert not offenders, "imports inside functions without a reason:\n" + "\n".join(offenders)
