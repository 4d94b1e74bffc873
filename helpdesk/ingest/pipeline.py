"""The ingestion pipeline: every channel's messages become tickets exactly once.

    validate → dedupe → customers → threading → orders → SLA clocks → write → (commit) → events

``ingest`` takes a batch — InboundMessages from a connector, or raw input
(JSON, e-mail bytes) that still has to be parsed — and handles it in one
transaction with set-based look-ups, so a 500-message page costs a few dozen
statements, not thousands.  Bad input is quarantined with a reason and the
rest of the batch goes on.  Duplicates (same account and external id) are
recognised and skipped, so re-reading a page after a crash is harmless.

The caller owns the transaction boundary: ``ingest`` flushes, and whoever
called it commits (the CLI per file chunk, the poller together with the
cursor that covers the batch).
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, scoped_session

from channels.base import InboundMessage
from helpdesk.accounts.models import team_channel_accounts
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.db import any_of_param, list_param, utcnow
from helpdesk.ingest import quarantine
from helpdesk.ingest.batch import AccountInfo, IngestResult, Item, Outcome, select_by_pairs
from helpdesk.ingest.customers import resolve_customers
from helpdesk.ingest.orders import link_orders
from helpdesk.ingest.quarantine import RawInput
from helpdesk.ingest.threading import assign_tickets
from helpdesk.ingest.validate import InvalidMessage, validate
from helpdesk.ingest.write import write_batch
from helpdesk.sla import ingest_step as sla_step
from helpdesk.tickets.models import Message

Input = InboundMessage | RawInput


@dataclass(frozen=True)
class Rejection:
    reason: str
    field: str | None


def _load_accounts(session: Session, names: set[str]) -> dict[str, AccountInfo]:
    if not names:
        return {}
    conn = session.connection()
    dialect = conn.dialect.name
    rows = conn.execute(_accounts_statement(dialect), {"names": list_param(names, dialect)})
    return {
        row.name: AccountInfo(row.id, row.name, row.kind, row.platform, row.site, row.default_language, row[6])
        for row in rows
    }


@functools.cache
def _accounts_statement(dialect: str) -> sa.Select[Any]:
    a = ChannelAccount.__table__.c
    tca = team_channel_accounts.c
    first_team = sa.select(sa.func.min(tca.team_id)).where(tca.channel_account_id == a.id).scalar_subquery()
    return sa.select(a.id, a.name, a.kind, a.platform, a.site, a.default_language, first_team).where(
        any_of_param(a.name, "names", dialect)
    )


# The key of the PostgreSQL advisory lock that ingesting transactions take (any constant of our own).
INGEST_LOCK_KEY = 0x68656C7064657368  # "helpdesh"


def take_write_lock(session: Session) -> None:
    """Serialise ingest batches and order upserts (both create customers): lock before the look-ups, until commit.

    Without it two workers ingesting the same mail (a poll and a manual
    import, two processes after a restart) both pass the dedupe look-up and
    then collide on the unique constraints: the batch fails on SQLite and
    deadlocks on PostgreSQL.  SQLite's driver would only begin the
    transaction at the first write, so the look-ups also ran each in a
    snapshot of its own; ``BEGIN IMMEDIATE`` gives them one (and is cheaper).
    PostgreSQL takes a transaction-scoped advisory lock, released at commit
    or rollback, which only other ingesting batches wait for; on SQLite every
    writer waits for the batch (tens of milliseconds, within the busy timeout).
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": INGEST_LOCK_KEY})
        return
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.driver_connection
    if driver is not None and not driver.in_transaction:
        driver.execute("BEGIN IMMEDIATE")


def _parse(entry: Input) -> InboundMessage:
    if isinstance(entry, InboundMessage):
        return entry
    parsed = quarantine.parse(entry)
    if not isinstance(parsed, InboundMessage):
        raise InvalidMessage("raw_format", f"{entry.raw_format!r} input holds an order, not a message")
    return parsed


def _rejection(exc: Exception) -> Rejection:
    field = getattr(exc, "field", None)
    reason = str(exc) or exc.__class__.__name__
    return Rejection(reason=reason, field=field)


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector for one batch.

    A batch allocates tens of thousands of short-lived rows, slots and
    events; they die by reference counting, but their allocation keeps
    triggering collections that walk the whole heap (about a tenth of an
    import's time).  Whatever cycles the batch leaves are collected as soon
    as the collector is back.  Concurrent batches only ever re-enable what
    they themselves disabled.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def ingest(
    session: Session,
    batch: Sequence[Input],
    *,
    source: str,
    max_attachment_bytes: int = 25 * 1024 * 1024,
    on_rejected: Callable[[Input, Rejection], None] | None = None,
    now: datetime | None = None,
) -> IngestResult:
    """Run one batch through the pipeline; the caller commits.

    Rejected input is quarantined (or handed to ``on_rejected`` instead, which
    quarantine replay uses to update the entry it is replaying).  ``now`` is
    the instant the batch is processed as of (default: the clock).  Replaying
    history day by day passes each day's end, so a wait that was overdue then
    is recorded as breached then, as the sweep would have done at the time.
    """
    with _without_cycle_collection():
        return _ingest(session, batch, source, max_attachment_bytes, on_rejected, now)


def _ingest(
    session: Session,
    batch: Sequence[Input],
    source: str,
    max_attachment_bytes: int,
    on_rejected: Callable[[Input, Rejection], None] | None,
    as_of: datetime | None = None,
) -> IngestResult:
    if isinstance(session, scoped_session):
        session = session()  # resolve the proxy once; the steps below use it thousands of times
    take_write_lock(session)
    now = as_of or utcnow()
    outcomes: list[Outcome | None] = [None] * len(batch)
    parsed: list[tuple[int, InboundMessage]] = []

    def reject(index: int, entry: Input, exc: Exception) -> None:
        rejection = _rejection(exc)
        if on_rejected is not None:
            on_rejected(entry, rejection)
        else:
            raw = entry if isinstance(entry, RawInput) else quarantine.raw_of(entry)
            quarantine.add(session, raw, source=source, reason=rejection.reason, field=rejection.field)
        outcomes[index] = Outcome("quarantined", reason=rejection.reason, field=rejection.field)

    for index, entry in enumerate(batch):
        try:
            msg = validate(_parse(entry), now=now, max_attachment_bytes=max_attachment_bytes)
        except Exception as exc:
            reject(index, entry, exc)
            continue
        parsed.append((index, msg))

    accounts = _load_accounts(session, {msg.account for _, msg in parsed})
    items: list[Item] = []
    for index, msg in parsed:
        account = accounts.get(msg.account)
        if account is None:
            reject(
                index,
                msg,
                InvalidMessage(
                    "account", f"no channel account named {msg.account!r}; add it with 'helpdesk channels add'"
                ),
            )
            continue
        items.append(Item(index=index, msg=msg, account=account, platform=msg.platform or account.platform))

    items, repeats = _drop_duplicates(session, items, outcomes)
    result = IngestResult(outcomes=[])
    if items:
        new_customers = resolve_customers(session, items)
        slots = assign_tickets(session, items)
        link_orders(session, items)
        clocks = sla_step.plan(session, items, slots, now)
        write_batch(session, items, new_customers, slots, now, result)
        sla_step.finish(session, clocks)
        for item in items:
            assert item.ticket is not None
            outcomes[item.index] = Outcome("ingested", ticket_id=item.ticket.id, message_id=item.message_id)
        for index, first in repeats:
            assert first.ticket is not None
            outcomes[index] = Outcome("duplicate", ticket_id=first.ticket.id, message_id=first.message_id)
    session.flush()
    result.outcomes = [o if o is not None else Outcome("failed", reason="not processed") for o in outcomes]
    return result


def _drop_duplicates(
    session: Session, items: list[Item], outcomes: list[Outcome | None]
) -> tuple[list[Item], list[tuple[int, Item]]]:
    """Skip messages we already hold (same account and external id), in the DB or earlier in the batch.

    Returns the fresh items, and for each repeat within the batch its input index and the first
    occurrence, whose ticket the repeat's outcome names once it is written.
    """
    m = Message.__table__.c
    pairs = {(item.account.id, item.msg.external_id) for item in items}
    known: dict[tuple[int, str], tuple[int, int]] = {}
    for row in select_by_pairs(
        session.connection(),
        (m.channel_account_id, m.external_id, m.ticket_id, m.id),
        m.channel_account_id,
        m.external_id,
        pairs,
    ):
        known[(row.channel_account_id, row.external_id)] = (row.ticket_id, row.id)
    fresh: list[Item] = []
    repeats: list[tuple[int, Item]] = []
    first_in_batch: dict[tuple[int, str], Item] = {}
    for item in items:
        key = (item.account.id, item.msg.external_id)
        if key in known:
            ticket_id, message_id = known[key]
            outcomes[item.index] = Outcome("duplicate", ticket_id=ticket_id, message_id=message_id)
        elif key in first_in_batch:
            repeats.append((item.index, first_in_batch[key]))
        else:
            first_in_batch[key] = item
            fresh.append(item)
    return fresh, repeats
