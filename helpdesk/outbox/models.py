"""Outbox rows and the durable cursors of the listeners that must hear each event once.

An event is a row written in the same transaction as the change it announces,
so a commit can never be followed by a lost event: whatever happens to the
process afterwards, the row is there for a relay to read.  Ids grow in commit
order (see ``helpdesk.events``), which is what lets a relay remember one
number instead of a set of seen events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import Base, utcnow

# 64-bit on PostgreSQL (a busy desk writes billions of events over its life); SQLite's rowid already is.
EventId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class OutboxEvent(Base):
    """A run of same-named events of one transaction, in publish order (up to ``store.ROW_EVENTS`` of them).

    An import batch publishes thousands of events; one row per event cost an
    import a tenth of its time on SQLite and a sixth on PostgreSQL, one row
    per run costs it one JSON list.  The relay hands the events on one by one.
    """

    __tablename__ = "outbox_event"

    id: Mapped[int] = mapped_column(EventId, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    payloads: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxConsumer(Base):
    """How far a once-only listener (webhooks, merge suggestions …) has read, shared by every process.

    The position moves in the same transaction as the listener's own writes,
    so an event is either wholly handled and passed, or neither.
    """

    __tablename__ = "outbox_consumer"

    name: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    position: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
