"""Database objects for full-text search that are not models.

The SQLite FTS5 table (and its shadow tables) and the PostgreSQL GIN
expression index are created by migration 0003 and maintained by the
database itself; schema comparison and autogenerate must leave them alone.
"""

from __future__ import annotations

from typing import Any

FTS_TABLE = "message_fts"
FTS_INDEX = "ix_message_fts"


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic hook: skip the search objects, which no model describes."""
    return not (name and (name == FTS_INDEX or name.startswith(FTS_TABLE)))
