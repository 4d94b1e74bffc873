"""Keeping the SQLite full-text index in step with new messages.

FTS5 flushes its pending terms at every statement savepoint, and a trigger
body runs inside one per row: indexing from an ``AFTER INSERT`` trigger
wrote one tiny segment per message and cost the import about as much as
inserting the messages themselves.  So new messages are indexed by the
code that writes them, in one executemany per batch: the ingest pipeline
calls :func:`index_messages`, and every message added through the ORM (agent
replies, notes) is indexed by the mapper hook below in the same flush.
Updates and deletes stay with the triggers of migration 0003; they are
rare.  PostgreSQL indexes an expression over the row itself and needs
nothing here.

If the index ever drifts (rows inserted by hand with the sqlite3 shell),
``INSERT INTO message_fts(message_fts) VALUES ('rebuild')`` rebuilds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from helpdesk.inbox.schema import FTS_TABLE
from helpdesk.tickets.models import Message

_INSERT = f"INSERT INTO {FTS_TABLE} (rowid, subject, body_text) VALUES (?, ?, ?)"  # noqa: S608 - our own name


def index_messages(connection: sa.Connection, rows: Sequence[tuple[int, str, str]]) -> None:
    """Add ``(message id, subject, body text)`` rows to the search index, in the caller's transaction."""
    if rows and connection.dialect.name == "sqlite":
        connection.exec_driver_sql(_INSERT, list(rows))


@sa.event.listens_for(Message, "after_insert")
def _index_new_message(_mapper: Any, connection: sa.Connection, target: Message) -> None:
    index_messages(connection, [(target.id, target.subject, target.body_text)])
