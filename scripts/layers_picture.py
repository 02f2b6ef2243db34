"""Print which part of jifen imports which, from the code itself, as a Mermaid graph
(pasted into docs/architecture.md): one node per app or project-level module, one edge per
"imports from", labelled with how many modules import across it.

    PYTHONPATH=src .venv/bin/python scripts/layers_picture.py [--text]

It reads the source with grimp (the import graph import-linter checks the layers on), so
imports inside functions count too. Migrations are left out: they are history, not
dependencies of the running code.
"""

from __future__ import annotations

import argparse
from collections import Counter

import grimp

ROOT = "jifen"
# Highest first, as in [tool.importlinter] (pyproject.toml); anything else is listed last.
ORDER = ["cli", "urls", "web_urls", "api", "web", "demo", "integrations", "insights",
         "earning", "mall", "activities", "library", "ledger", "people", "notifications",
         "core", "settings", "asgi", "wsgi"]


def part_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def edges() -> Counter[tuple[str, str]]:
    """(importer part, imported part) → how many modules of the importer import across."""
    graph = grimp.build_graph(ROOT)
    found: Counter[tuple[str, str]] = Counter()
    for module in graph.modules:
        if ".migrations" in module or not module.startswith(ROOT + "."):
            continue
        importer = part_of(module)
        targets = {part_of(m) for m in graph.find_modules_directly_imported_by(module)
                   if m.startswith(ROOT + ".") and ".migrations" not in m}
        for imported in targets - {importer}:
            found[importer, imported] += 1
    return found


def rank(part: str) -> tuple[int, str]:
    return (ORDER.index(part) if part in ORDER else len(ORDER), part)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", action="store_true", help="plain lines instead of Mermaid")
    args = parser.parse_args()
    found = edges()
    ordered = sorted(found.items(), key=lambda item: (rank(item[0][0]), rank(item[0][1])))
    if args.text:
        for (importer, imported), count in ordered:
            print(f"{importer} -> {imported} ({count})")
        return
    print("flowchart TD")
    for (importer, imported), count in ordered:
        print(f"  {importer} -->|{count}| {imported}")


if __name__ == "__main__":
    main()
