"""Database objects for full-text search that are not models.

The SQLite FTS5 tables (and their shadow tables) and the PostgreSQL GIN
expression indexes are created by migrations 0003 (messages), 0025
(customer names) and 0028 (message translations); schema comparison and autogenerate must leave them alone.
"""

from __future__ import annotations

from typing import Any

FTS_TABLE = "message_fts"
FTS_INDEX = "ix_message_fts"
#: the customer name search's (migration 0025, ``helpdesk.customers.search``)
NAME_FTS_TABLE = "customer_name_fts"
NAME_INDEX = "ix_customer_name_words"
#: translations of messages, searched beside them (migration 0028)
TRANSLATION_FTS_TABLE = "message_translation_fts"
TRANSLATION_INDEX = "ix_message_translation_fts"


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic hook: skip the search objects, which no model describes."""
    if not name:
        return True
    return name not in (FTS_INDEX, NAME_INDEX, TRANSLATION_INDEX) and not name.startswith(
        (FTS_TABLE, NAME_FTS_TABLE, TRANSLATION_FTS_TABLE)
    )
