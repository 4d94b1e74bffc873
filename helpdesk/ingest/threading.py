"""Step 4: put each message on the ticket it continues, or open a new one.

In order of trust: the platform's own thread id; the e-mail headers
(In-Reply-To / References point at a message we already hold); our ticket
token ``[#123]`` in the subject, for mail clients that drop headers; and
finally an open ticket of the same customer about the same order on the same
account.  A solved ticket is reopened when the buyer writes again; a closed
one stays closed and gets a follow-up ticket.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels.base import Direction
from helpdesk.db import any_of_param, list_param
from helpdesk.ingest.batch import CHANGE_TRACKED, Item, TicketSlot, select_by_pairs
from helpdesk.tickets.models import OPEN_STATUSES, Message, Ticket, TicketStatus

TICKET_TOKEN = re.compile(r"\[#(\d{1,12})\]")
_OPEN = [s.value for s in OPEN_STATUSES]


def _ticket_slot(row: sa.Row) -> TicketSlot:
    slot = TicketSlot(
        id=row.id,
        status=row.status,
        channel_account_id=row.channel_account_id,
        customer_id=row.customer_id,
        order_id=row.order_id,
        order_number=row.order_number,
        team_id=row.team_id,
        first_response_at=row.first_response_at,
        last_message_at=row.last_message_at,
        last_inbound_at=row.last_inbound_at,
        sla_due_at=row.sla_due_at,
        sla_state=row.sla_state,
    )
    slot.loaded = {column: getattr(row, column) for column in CHANGE_TRACKED}
    return slot


_T = Ticket.__table__.c
_TICKET_COLUMNS = (
    _T.id,
    _T.status,
    _T.channel_account_id,
    _T.customer_id,
    _T.order_id,
    _T.order_number,
    _T.team_id,
    _T.first_response_at,
    _T.merged_into_id,
    _T.external_thread_id,
    _T.last_message_at,
    _T.last_inbound_at,
    _T.sla_due_at,
    _T.sla_state,
)


@functools.cache
def _tickets_statement(dialect: str) -> sa.Select[Any]:
    return sa.select(*_TICKET_COLUMNS).where(any_of_param(_T.id, "ids", dialect))


class _Tickets:
    """Loads existing tickets once and follows merges to the surviving ticket."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.by_id: dict[int, TicketSlot] = {}
        self.merged_into: dict[int, int] = {}

    def remember(self, row: sa.Row) -> TicketSlot:
        if row.merged_into_id is not None:
            self.merged_into[row.id] = row.merged_into_id
        slot = self.by_id.get(row.id)
        if slot is None:
            slot = self.by_id[row.id] = _ticket_slot(row)
        return slot

    def load(self, ids: set[int]) -> None:
        missing = [i for i in ids if i not in self.by_id]
        if not missing:
            return
        conn = self.session.connection()
        dialect = conn.dialect.name
        for row in conn.execute(_tickets_statement(dialect), {"ids": list_param(missing, dialect)}):
            self.remember(row)

    def get(self, ticket_id: int) -> TicketSlot | None:
        seen = set()
        while ticket_id in self.merged_into and ticket_id not in seen:
            seen.add(ticket_id)
            ticket_id = self.merged_into[ticket_id]
        if ticket_id not in self.by_id:
            self.load({ticket_id})
            if ticket_id in self.merged_into:
                return self.get(ticket_id)
        return self.by_id.get(ticket_id)


def _prefetch(session: Session, items: list[Item], tickets: _Tickets) -> tuple[dict, dict, dict]:
    threads: set[tuple[int, str]] = set()
    refs: set[tuple[int, str]] = set()
    orders: set[tuple[int, str]] = set()
    tokens: set[int] = set()
    for item in items:
        acct = item.account.id
        if item.msg.external_thread_id:
            threads.add((acct, item.msg.external_thread_id))
        refs.update((acct, ref) for ref in item.msg.thread_keys)
        orders.update((acct, ref) for ref in item.msg.order_refs)
        if "[#" in item.msg.subject:
            tokens.update(int(m) for m in TICKET_TOKEN.findall(item.msg.subject))
    conn = session.connection()

    by_thread: dict[tuple[int, str], TicketSlot] = {}
    rows = select_by_pairs(conn, _TICKET_COLUMNS, _T.channel_account_id, _T.external_thread_id, threads, order_by=_T.id)
    for row in rows:
        slot = tickets.remember(row)
        # newest id wins; a merged ticket's thread continues on the ticket it was merged into
        by_thread[(row.channel_account_id, row.external_thread_id)] = tickets.get(row.id) or slot

    m = Message.__table__.c
    by_ref: dict[tuple[int, str], int] = {}
    for row in select_by_pairs(
        conn, (m.channel_account_id, m.external_id, m.ticket_id), m.channel_account_id, m.external_id, refs
    ):
        by_ref[(row.channel_account_id, row.external_id)] = row.ticket_id
    tickets.load(set(by_ref.values()) | tokens)

    by_order: dict[tuple[int, int, str], TicketSlot] = {}
    # Status is filtered here, not in SQL: with long IN lists SQLite's planner would pick the
    # low-selectivity status index over the order-number one.
    rows = select_by_pairs(conn, _TICKET_COLUMNS, _T.channel_account_id, _T.order_number, orders, order_by=_T.id)
    for row in rows:
        if row.status not in _OPEN:
            continue
        by_order[(row.channel_account_id, row.customer_id, row.order_number)] = tickets.remember(row)
    return by_thread, by_ref, by_order


def assign_tickets(session: Session, items: list[Item]) -> list[TicketSlot]:
    """Give every item a TicketSlot; return all slots touched (new ones included)."""
    tickets = _Tickets(session)
    by_thread, by_ref, by_order = _prefetch(session, items, tickets)
    batch_refs: dict[tuple[int, str], TicketSlot] = {}
    touched: dict[int, TicketSlot] = {}

    for item in items:
        msg, acct = item.msg, item.account.id
        customer = item.customer.resolved() if item.customer else None
        customer_id = customer.id if customer else None
        slot: TicketSlot | None = None
        if msg.external_thread_id:
            slot = by_thread.get((acct, msg.external_thread_id))
        if slot is None:
            for ref in reversed(msg.thread_keys):
                slot = batch_refs.get((acct, ref))
                if slot is None and (acct, ref) in by_ref:
                    slot = tickets.get(by_ref[(acct, ref)])
                if slot is not None:
                    break
        if slot is None:
            for token in TICKET_TOKEN.findall(msg.subject):
                candidate = tickets.get(int(token))
                if candidate is not None and candidate.channel_account_id == acct:
                    slot = candidate
                    break
        if slot is None and customer is not None:
            for ref in msg.order_refs:
                candidate = by_order.get((acct, customer_id, ref)) if customer_id else None
                candidate = candidate or by_order.get((acct, id(customer), ref))
                if candidate is not None and candidate.status in _OPEN:
                    slot = candidate
                    break
        if slot is not None and slot.status == TicketStatus.CLOSED:
            slot = _new_slot(item, followup_of=slot)
        elif slot is None:
            slot = _new_slot(item)

        _apply(slot, item)
        item.ticket = slot
        touched[id(slot)] = slot
        if msg.external_thread_id:
            by_thread[(acct, msg.external_thread_id)] = slot
        batch_refs[(acct, msg.external_id)] = slot
        if slot.status in _OPEN and msg.order_refs:
            key_customer = customer_id if customer_id else id(customer)
            for ref in msg.order_refs:
                by_order.setdefault((acct, key_customer, ref), slot)
    return list(touched.values())


def _new_slot(item: Item, followup_of: TicketSlot | None = None) -> TicketSlot:
    msg = item.msg
    if msg.auto is not None:
        status = TicketStatus.SOLVED  # machine mail is kept, but out of the queue
    elif msg.direction is Direction.OUT:
        status = TicketStatus.PENDING
    else:
        status = TicketStatus.NEW
    slot = TicketSlot(
        id=None,
        status=status,
        channel_account_id=item.account.id,
        customer=item.customer.resolved() if item.customer else None,
        subject=msg.subject,
        platform=item.platform,
        site=msg.site or item.account.site,
        language=msg.language or item.account.default_language,
        team_id=item.account.team_id,
        order_number=msg.order_refs[0] if msg.order_refs else None,
        external_thread_id=msg.external_thread_id,
        followup_of_id=followup_of.id if followup_of else None,
        created_at=msg.sent_at,
    )
    if msg.auto is not None:
        slot.tags.add(f"auto-{msg.auto.value.replace('_', '-')}")
    return slot


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


def _apply(slot: TicketSlot, item: Item) -> None:
    """Update the ticket's counters and status for one more message."""
    msg = item.msg
    slot.added_messages += 1
    slot.changed = True
    slot.last_message_at = _later(slot.last_message_at, msg.sent_at)
    if msg.direction is Direction.OUT:
        if slot.first_response_at is None:
            slot.first_response_at = msg.sent_at
        return
    if msg.auto is not None:
        return
    slot.last_inbound_at = _later(slot.last_inbound_at, msg.sent_at)
    if slot.status == TicketStatus.SOLVED:
        slot.status = TicketStatus.OPEN
        slot.reopened = slot.reopened or not slot.is_new
    elif slot.status == TicketStatus.PENDING:
        slot.status = TicketStatus.OPEN
    if not slot.order_number and msg.order_refs:
        slot.order_number = msg.order_refs[0]
