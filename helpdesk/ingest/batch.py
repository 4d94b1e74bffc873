"""The working state of one batch as it moves through the pipeline steps.

Steps fill in slots rather than rows: a ``CustomerSlot`` or ``TicketSlot``
stands for a row that may already exist (``id`` set) or will be inserted in
the write step, so several messages of one batch can share a new ticket
before it has an id.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from channels.base import InboundMessage
from helpdesk.db import any_of_param, list_param

T = TypeVar("T")
CHUNK = 500


def chunks(values: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """Split look-up keys so no statement exceeds the backend's parameter limit."""
    batch: list[T] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


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
    """Rows whose (group, key) is one of ``pairs``, in one statement (a few on PostgreSQL).

    A batch mixes accounts (or identity schemes); one statement per group
    would cost a round trip each.  ``group IN (…) AND key IN (…)`` walks the
    same composite index and the few cross-pair rows it also finds are
    dropped here.  The selected columns must include both ``group_column``
    and ``key_column``.  The statement is built once per shape and reused.
    """
    wanted = set(pairs)
    if not wanted:
        return
    groups = sorted({g for g, _ in wanted})
    keys = list({k for _, k in wanted})
    group_at = [c.key for c in columns].index(group_column.key)
    key_at = [c.key for c in columns].index(key_column.key)
    dialect = connection.dialect.name
    stmt = _pairs_statement(tuple(columns), group_column, key_column, order_by, dialect)
    size = 5000 if dialect == "postgresql" else len(keys)
    for start in range(0, len(keys), size):
        params = {"groups": list_param(groups, dialect), "keys": list_param(keys[start : start + size], dialect)}
        for row in connection.execute(stmt, params):
            if (row[group_at], row[key_at]) in wanted:
                yield row


@functools.lru_cache(maxsize=32)
def _pairs_statement(
    columns: tuple[sa.ColumnElement[Any], ...],
    group_column: sa.ColumnElement[Any],
    key_column: sa.ColumnElement[Any],
    order_by: sa.ColumnElement[Any] | None,
    dialect: str,
) -> sa.Select[Any]:
    stmt = sa.select(*columns).where(
        any_of_param(group_column, "groups", dialect), any_of_param(key_column, "keys", dialect)
    )
    return stmt.order_by(order_by) if order_by is not None else stmt
