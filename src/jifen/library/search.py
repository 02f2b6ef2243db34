"""Search text that works the same on SQLite, PostgreSQL and MariaDB — the mall's approach
(``jifen.core.search``, shared with the mall): each resource
keeps ``search_text``, its title, description, tags and category NFKC-normalised,
case-folded and stripped of spaces; each normalised word of a query must occur in it as a
substring, so 面谈 is found inside 绩效面谈模板 where word-based full-text search fails."""

from __future__ import annotations

from typing import Any

from jifen.core.search import normalise, query_terms

__all__ = ["normalise", "query_terms", "resource_search_text"]


def resource_search_text(resource: Any) -> str:
    category = getattr(resource, "category", None)
    parts = [resource.title, resource.tags, resource.description,
             category.name if category is not None else ""]
    return " ".join(normalise(p) for p in parts if p)
