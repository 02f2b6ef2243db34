"""Search text that works the same on SQLite, PostgreSQL and MariaDB — the mall's approach
(``jifen.mall.search``, copied, as the library may not import the mall): each resource
keeps ``search_text``, its title, description, tags and category NFKC-normalised,
case-folded and stripped of spaces; each normalised word of a query must occur in it as a
substring, so 面谈 is found inside 绩效面谈模板 where word-based full-text search fails."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text or "").casefold())


def query_terms(query: str) -> list[str]:
    """The normalised words of a search query (at most 5; empty words dropped)."""
    words = _SPACE.split(unicodedata.normalize("NFKC", query or "").strip())
    return [t for t in (normalise(w) for w in words) if t][:5]


def resource_search_text(resource: Any) -> str:
    category = getattr(resource, "category", None)
    parts = [resource.title, resource.tags, resource.description,
             category.name if category is not None else ""]
    return " ".join(normalise(p) for p in parts if p)
