"""Writing events into the outbox and reading them back in order.

Writing happens inside the committing transaction, as its last statement;
reading happens on a connection of the relay's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from helpdesk.db import bulk_insert, utcnow
from helpdesk.outbox.models import OutboxConsumer, OutboxEvent

#: PostgreSQL advisory lock that orders outbox writers ("outbox" in ASCII): held from the write to the commit.
ORDER_LOCK = 0x6F7574626F78
#: Events of one name per row at most: a relay's batch of rows stays a bounded amount of memory.
ROW_EVENTS = 1000

#: One stored row: its id, the events' name, their payloads in order.
Row = tuple[int, str, list[dict[str, Any]]]


def write(session: Session, events: Sequence[tuple[str, Any]]) -> None:
    """Insert ``events`` (name, payload) in the session's transaction, ids in commit order.

    PostgreSQL hands out sequence values as transactions ask, not as they
    commit: a relay could read id 11 before id 10 became visible and then skip
    it.  Holding one advisory lock from this insert until the commit (the
    insert runs just before it) makes ids visible in order; writers wait for
    each other only for that last moment of their transactions.  SQLite has
    a single writer already.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(ORDER_LOCK)))
    from helpdesk.events import runs

    now = utcnow()
    rows = [
        {"name": name, "payloads": [dict(p) for p in payloads[start : start + ROW_EVENTS]], "created_at": now}
        for name, payloads in runs(list(events))
        for start in range(0, len(payloads), ROW_EVENTS)
    ]
    bulk_insert(connection, OutboxEvent.__table__, rows)


def end(connection: sa.Connection) -> int:
    """The newest row id (0 for an empty outbox)."""
    return connection.scalar(sa.select(sa.func.max(OutboxEvent.id))) or 0


def read_after(connection: sa.Connection, position: int, limit: int) -> list[Row]:
    """Up to ``limit`` rows after ``position``, oldest first."""
    t = OutboxEvent.__table__
    stmt = sa.select(t.c.id, t.c.name, t.c.payloads).where(t.c.id > position).order_by(t.c.id).limit(limit)
    return [(row.id, row.name, row.payloads) for row in connection.execute(stmt)]


def events_of(rows: list[Row]) -> list[tuple[str, dict[str, Any]]]:
    """The rows' events one by one, in order: ``[(name, payload), …]``."""
    return [(name, payload) for _, name, payloads in rows for payload in payloads]


def claim(connection: sa.Connection, consumer: str) -> int:
    """Lock ``consumer``'s cursor row for this transaction and return its position.

    An UPDATE first, so the transaction takes the write lock (SQLite) or the
    row lock (PostgreSQL) before it reads anything: two relays racing for the
    same consumer run one after the other, and the second starts from where
    the first left off.
    """
    t = OutboxConsumer.__table__
    stmt = sa.update(t).where(t.c.name == consumer).values(updated_at=utcnow()).returning(t.c.position)
    position = connection.scalar(stmt)
    if position is None:
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        connection.execute(
            insert(t)
            .values(name=consumer, position=0, updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=[t.c.name])
        )
        position = connection.scalar(stmt)
    return int(position or 0)


def advance(connection: sa.Connection, consumer: str, position: int) -> None:
    t = OutboxConsumer.__table__
    connection.execute(sa.update(t).where(t.c.name == consumer).values(position=position, updated_at=utcnow()))


def positions(connection: sa.Connection) -> dict[str, int]:
    t = OutboxConsumer.__table__
    return {row.name: row.position for row in connection.execute(sa.select(t.c.name, t.c.position))}


def unrelayed_since(connection: sa.Connection) -> datetime | None:
    """When the oldest event some once-only listener has not passed yet was written; None when all are passed.

    Two index look-ups, cheap enough for every health check: a relay that
    stopped (every process that relays is down, or its lease is stuck) shows
    as events growing old here, while nothing else on the desk looks wrong.
    """
    from helpdesk.events import once_listeners

    if not once_listeners:
        return None
    known = positions(connection)
    floor = min(known.get(name, 0) for name in once_listeners)
    t = OutboxEvent.__table__
    return connection.scalar(sa.select(t.c.created_at).where(t.c.id > floor).order_by(t.c.id).limit(1))


def prune(session: Session, keep: timedelta, now: datetime | None = None) -> int:
    """Delete rows older than ``keep`` that every once-only listener has passed; how many went.

    Browsers only need events of the last seconds; the retention is for a
    worker that was down, and for someone reading the table to see what
    happened.  A listener stuck behind keeps its events, however old.
    """
    from helpdesk.events import once_listeners

    cutoff = (now or utcnow()) - keep
    t = OutboxEvent.__table__
    known = positions(session.connection())
    floor = min((known.get(name, 0) for name in once_listeners), default=None)
    stmt = sa.delete(t).where(t.c.created_at < cutoff)
    if floor is not None:
        stmt = stmt.where(t.c.id <= floor)
    return session.execute(stmt).rowcount
