"""The working state of one batch as it moves through the pipeline steps.

Steps fill in slots rather than rows: a ``CustomerSlot`` or ``TicketSlot``
stands for a row that may already exist (``id`` set) or will be inserted in
the write step, so several messages of one batch can share a new ticket
before it has an id.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from channels.base import InboundMessage


@dataclass(frozen=True)
class AccountInfo:
    id: int
    name: str
    kind: str
    platform: str | None
    site: str | None
    default_language: str | None
    team_id: int | None


@dataclass(eq=False, slots=True)
class CustomerSlot:
    id: int | None
    name: str = ""
    email: str | None = None
    phone: str | None = None
    country: str | None = None
    language: str | None = None
    keys: list[tuple[str, str]] = field(default_factory=list)
    new_keys: list[tuple[str, str, str | None]] = field(default_factory=list)
    merged_ids: set[int] = field(default_factory=set)
    absorbed_into: CustomerSlot | None = None

    @property
    def is_new(self) -> bool:
        return self.id is None

    def resolved(self) -> CustomerSlot:
        """The slot that survives after in-batch merges."""
        slot = self
        while slot.absorbed_into is not None:
            slot = slot.absorbed_into
        return slot


# Ticket columns an UPDATE names only when they changed: each is part of an index, and SQLite
# rewrites the entries of every index whose columns an UPDATE sets, even to the same value.
CHANGE_TRACKED = ("status", "order_id", "order_number", "first_response_at", "sla_due_at", "sla_state")


@dataclass(eq=False, slots=True)
class TicketSlot:
    id: int | None
    status: str
    channel_account_id: int
    customer: CustomerSlot | None = None
    customer_id: int | None = None
    subject: str = ""
    platform: str | None = None
    site: str | None = None
    language: str | None = None
    team_id: int | None = None
    order_id: int | None = None
    order_number: str | None = None
    external_thread_id: str | None = None
    followup_of_id: int | None = None
    created_at: datetime | None = None
    last_message_at: datetime | None = None
    last_inbound_at: datetime | None = None
    first_response_at: datetime | None = None
    sla_due_at: datetime | None = None
    sla_state: str | None = None
    loaded: dict[str, Any] | None = None  # an existing ticket's indexed columns as read, to write only changes
    added_messages: int = 0
    reopened: bool = False
    changed: bool = False
    created: bool = False
    tags: set[str] = field(default_factory=set)

    @property
    def is_new(self) -> bool:
        return self.id is None


@dataclass(eq=False, slots=True)
class Item:
    """One valid, not-yet-seen message and what the steps decided for it."""

    index: int
    msg: InboundMessage
    account: AccountInfo
    platform: str | None
    customer: CustomerSlot | None = None
    ticket: TicketSlot | None = None
    message_id: int | None = None


@dataclass(frozen=True)
class Outcome:
    """What happened to one input, in input order (for reports)."""

    status: str  # "ingested", "duplicate", "quarantined", "failed"
    ticket_id: int | None = None
    message_id: int | None = None
    reason: str | None = None
    field: str | None = None


@dataclass
class IngestResult:
    outcomes: list[Outcome]
    tickets_created: int = 0
    tickets_reopened: int = 0
    customers_created: int = 0

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def ingested(self) -> int:
        return self.count("ingested")

    @property
    def duplicates(self) -> int:
        return self.count("duplicate")

    @property
    def quarantined(self) -> int:
        return self.count("quarantined")


def select_by_pairs(
    connection: sa.Connection,
    columns: Sequence[sa.ColumnElement[Any]],
    group_column: sa.ColumnElement[Any],
    key_column: sa.ColumnElement[Any],
    pairs: Iterable[tuple[Any, str]],
    *,
    order_by: sa.ColumnElement[Any] | None = None,
) -> Iterator[sa.Row[Any]]:
    """Rows whose (group, key) is one of ``pairs``, in one statement per 5,000 pairs.

    A batch mixes accounts (or identity schemes); one statement per group
    would cost a round trip each, and ``group IN (…) AND key IN (…)`` seeks
    every group with every key.  Instead the pairs travel as one parameter
    (a JSON array on SQLite, two arrays on PostgreSQL) and are joined to the
    table, so the composite index is probed exactly once per pair.  The
    statement is built once per shape and reused.
    """
    wanted = list(set(pairs))
    dialect = connection.dialect.name
    stmt = _pairs_statement(tuple(columns), group_column, key_column, order_by, dialect)
    for start in range(0, len(wanted), 5000):
        part = wanted[start : start + 5000]
        if dialect == "postgresql":
            params: dict[str, Any] = {"groups": [g for g, _ in part], "keys": [k for _, k in part]}
        else:
            params = {"pairs": json.dumps(part)}
        yield from connection.execute(stmt, params)


@functools.lru_cache(maxsize=32)
def _pairs_statement(
    columns: tuple[sa.ColumnElement[Any], ...],
    group_column: sa.ColumnElement[Any],
    key_column: sa.ColumnElement[Any],
    order_by: sa.ColumnElement[Any] | None,
    dialect: str,
) -> sa.Select[Any]:
    if dialect == "postgresql":
        listed = (
            sa.func.unnest(
                sa.bindparam("groups", type_=postgresql.ARRAY(group_column.type)),
                sa.bindparam("keys", type_=postgresql.ARRAY(key_column.type)),
            )
            .table_valued("g", "k")
            .render_derived(name="pairs")
        )
        group_value, key_value = listed.c.g, listed.c.k
    else:
        listed = sa.func.json_each(sa.bindparam("pairs", type_=sa.String())).table_valued("value")
        group_value = sa.func.json_extract(listed.c.value, "$[0]")
        key_value = sa.func.json_extract(listed.c.value, "$[1]")
    table = group_column.table
    stmt = (
        sa.select(*columns)
        .select_from(listed)
        .join(table, sa.and_(group_column == group_value, key_column == key_value))
    )
    return stmt.order_by(order_by) if order_by is not None else stmt
