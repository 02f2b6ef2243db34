"""Search text that works the same on SQLite, PostgreSQL and MariaDB.

Chinese has no spaces between words, so word-based full-text search (PostgreSQL's
``to_tsvector``, MariaDB's FULLTEXT without ngram) cannot find 无线蓝牙耳机 from 耳机. Each item
keeps ``search_text``: its name, tags, supplier and category, NFKC-normalised (full-width
letters and digits become ASCII), case-folded and stripped of spaces; a query is normalised
the same way and each of its words must occur as a substring. See
docs/decisions/mall-search.md for why this beats per-database full-text for our catalogue.
"""

from __future__ import annotations

from typing import Any

from jifen.core.search import normalise, query_terms

__all__ = ["item_search_text", "normalise", "query_terms"]


def item_search_text(item: Any) -> str:
    parts = [item.name, item.tags, item.supplier]
    category = getattr(item, "category", None)
    while category is not None:
        parts.append(category.name)
        category = category.parent
    return " ".join(normalise(p) for p in parts if p)
