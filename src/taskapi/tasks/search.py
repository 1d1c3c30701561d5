"""Full-text search over title and description, on each backend's own index.

Semantics, the same on both: the text is split into words (letters and digits);
a task matches when it contains every word of the query, each as a word prefix
("mil" matches "milk"), ignoring case. Punctuation-only queries match nothing.

- PostgreSQL: ``tasks.search_vector``, a generated ``tsvector`` (configuration
  ``simple``: no stemming, no stop words) with a GIN index, queried with ``to_tsquery``.
- SQLite: the FTS5 table ``tasks_fts`` (tokenizer ``unicode61``, diacritics kept),
  an external-content index over ``tasks`` kept in sync by triggers.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, literal_column, select, text

MAX_QUERY_WORDS = 16
_WORD = re.compile(r"[^\W_]+")


def query_words(query: str) -> list[str]:
    return _WORD.findall(query)[:MAX_QUERY_WORDS]


def matches(dialect: str, query: str) -> ColumnElement[bool]:
    """A WHERE condition on ``tasks`` for the search ``query``."""
    words = query_words(query)
    if not words:
        return false()
    if dialect == "postgresql":
        tsquery = " & ".join(f"{word}:*" for word in words)
        vector: ColumnElement[Any] = literal_column("tasks.search_vector")
        return vector.op("@@")(func.to_tsquery(literal_column("'simple'"), tsquery))
    fts_query = " AND ".join(f'"{word}"*' for word in words)
    hits: Select[Any] = (
        select(literal_column("rowid"))
        .select_from(text("tasks_fts"))
        .where(text("tasks_fts MATCH :fts_query").bindparams(fts_query=fts_query))
    )
    return literal_column("tasks.rowid").in_(hits)
