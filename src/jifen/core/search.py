"""Search text that works the same on SQLite, PostgreSQL and MariaDB.

Chinese has no spaces between words, so word-based full-text search (PostgreSQL's
``to_tsvector``, MariaDB's FULLTEXT without ngram) cannot find 无线蓝牙耳机 from 耳机. What is
searched keeps a ``search_text``: its words NFKC-normalised (full-width letters and digits
become ASCII), case-folded and stripped of spaces; a query is normalised the same way and
each of its words must occur as a substring. The mall's items (``jifen.mall.search``) and
the library's resources (``jifen.library.search``) build their texts with these. See
docs/decisions/mall-search.md for why this beats per-database full-text for our catalogue.
"""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text or "").casefold())


def query_terms(query: str) -> list[str]:
    """The normalised words of a search query (at most 5; empty words dropped)."""
    words = _SPACE.split(unicodedata.normalize("NFKC", query or "").strip())
    return [t for t in (normalise(w) for w in words) if t][:5]
