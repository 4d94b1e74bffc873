"""Step 6: write the batch with set-based statements, then queue its events.

Everything here is a handful of multi-row INSERTs and one executemany UPDATE
per batch; nothing loads ORM objects.  The caller commits; the events go out
after that commit.
"""

from __future__ import annotations

from datetime import datetime

import nh3
import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels.base import Direction
from helpdesk.attachments import store
from helpdesk.audit.models import AuditEvent
from helpdesk.customers.models import Customer, CustomerIdentity
from helpdesk.customers.services import merge_customers
from helpdesk.events import publish
from helpdesk.ingest.batch import CustomerSlot, IngestResult, Item, TicketSlot
from helpdesk.tickets.models import Attachment, DeliveryState, Message, Ticket, TicketTag


def _insert_returning_ids(session: Session, table: sa.Table, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    stmt = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.scalars(stmt, rows))


def _write_customers(session: Session, new_customers: list[CustomerSlot], items: list[Item], now: datetime) -> None:
    rows = [
        {
            "display_name": (s.name or "")[:200], "email": s.email, "phone": s.phone, "country": s.country,
            "language": s.language, "notes": "", "created_at": now, "updated_at": now,
        }
        for s in new_customers
    ]
    for slot, new_id in zip(new_customers, _insert_returning_ids(session, Customer.__table__, rows), strict=True):
        slot.id = new_id
    survivors = {id(item.customer.resolved()): item.customer.resolved() for item in items if item.customer}
    identity_rows = [
        {"customer_id": slot.id, "scheme": scheme, "value": value, "display_name": display, "created_at": now}
        for slot in survivors.values()
        for scheme, value, display in slot.new_keys
    ]
    if identity_rows:
        session.execute(sa.insert(CustomerIdentity.__table__), identity_rows)
    for slot in survivors.values():
        if slot.merged_ids and slot.id is not None:
            merge_customers(session, keep_id=slot.id, drop_ids=sorted(slot.merged_ids - {slot.id}))
    if new_customers:
        publish(session, "customer.created", {"customer_ids": [slot.id for slot in new_customers]})


def _write_tickets(session: Session, slots: list[TicketSlot], now: datetime) -> None:
    new = [s for s in slots if s.is_new]
    rows = []
    for s in new:
        customer = s.customer.resolved() if s.customer else None
        s.customer_id = customer.id if customer else s.customer_id
        rows.append({
            "subject": s.subject[:500], "status": s.status, "priority": "normal",
            "channel_account_id": s.channel_account_id, "platform": s.platform, "site": s.site,
            "language": s.language, "customer_id": s.customer_id, "order_id": s.order_id,
            "order_number": s.order_number, "team_id": s.team_id, "external_thread_id": s.external_thread_id,
            "followup_of_id": s.followup_of_id, "message_count": s.added_messages,
            "created_at": s.created_at or now, "updated_at": now, "last_message_at": s.last_message_at or now,
            "last_inbound_at": s.last_inbound_at, "first_response_at": s.first_response_at,
        })
    for slot, new_id in zip(new, _insert_returning_ids(session, Ticket.__table__, rows), strict=True):
        slot.id = new_id
    tag_rows = [{"ticket_id": s.id, "tag": tag} for s in new for tag in sorted(s.tags)]
    if tag_rows:
        session.execute(sa.insert(TicketTag.__table__), tag_rows)

    t = Ticket.__table__
    updates = [
        {
            "b_id": s.id, "b_status": s.status, "b_n": s.added_messages, "b_last": s.last_message_at,
            "b_inbound": s.last_inbound_at, "b_first": s.first_response_at, "b_order_id": s.order_id,
            "b_order_number": s.order_number, "b_now": now,
        }
        for s in slots
        if not s.created and s.changed
    ]
    if updates:
        stmt = (
            sa.update(t)
            .where(t.c.id == sa.bindparam("b_id"))
            .values(
                status=sa.bindparam("b_status"),
                message_count=t.c.message_count + sa.bindparam("b_n"),
                last_message_at=sa.bindparam("b_last"),
                last_inbound_at=sa.bindparam("b_inbound"),
                first_response_at=sa.bindparam("b_first"),
                order_id=sa.bindparam("b_order_id"),
                order_number=sa.bindparam("b_order_number"),
                updated_at=sa.bindparam("b_now"),
            )
        )
        session.connection().execute(stmt, updates)


def _write_messages(session: Session, items: list[Item], now: datetime) -> None:
    blobs = [a.content for item in items for a in item.msg.attachments]
    blobs += [item.msg.original for item in items if item.msg.original is not None]
    store.store_many(session, blobs)
    rows = []
    for item in items:
        msg = item.msg
        customer = item.customer.resolved() if item.customer else None
        rows.append({
            "ticket_id": item.ticket.id if item.ticket else None,
            "channel_account_id": item.account.id,
            "external_id": msg.external_id,
            "direction": msg.direction.value,
            "is_internal": False,
            "auto": msg.auto.value if msg.auto else None,
            "customer_id": customer.id if customer else None,
            "author_name": ((msg.sender.name or msg.sender.email or msg.sender.platform_id) or "")[:200],
            "subject": msg.subject[:500],
            "body_text": msg.body_text,
            "stripped_text": msg.stripped_text,
            "body_html": nh3.clean(msg.body_html) if msg.body_html else None,
            "language": msg.language,
            "in_reply_to": (msg.in_reply_to or None) and msg.in_reply_to[:255],
            "references": " ".join(msg.references) or None,
            "meta": dict(msg.meta),
            "sent_at": msg.sent_at,
            "received_at": now,
            "delivery_state": DeliveryState.RECEIVED if msg.direction is Direction.IN else DeliveryState.SENT,
            "delivery_attempts": 0,
            "original_sha256": store.digest(msg.original) if msg.original is not None else None,
        })
    for item, new_id in zip(items, _insert_returning_ids(session, Message.__table__, rows), strict=True):
        item.message_id = new_id
    attachment_rows = [
        {
            "message_id": item.message_id, "sha256": store.digest(a.content), "filename": a.filename[:255],
            "content_type": a.content_type[:127], "size": len(a.content), "inline": a.inline,
            "content_id": a.content_id,
        }
        for item in items
        for a in item.msg.attachments
    ]
    if attachment_rows:
        session.execute(sa.insert(Attachment.__table__), attachment_rows)


def _audit_and_publish(session: Session, items: list[Item], slots: list[TicketSlot], now: datetime) -> None:
    audit = []
    for s in slots:
        base = {"channel_account_id": s.channel_account_id, "team_id": s.team_id, "ticket_id": s.id}
        if s.created:
            audit.append({"at": now, "actor_type": "channel", "action": "ticket.created", "ticket_id": s.id,
                          "customer_id": s.customer_id, "data": {"followup_of": s.followup_of_id}})
            publish(session, "ticket.created", {**base, "customer_id": s.customer_id, "status": s.status,
                                                 "platform": s.platform, "subject": s.subject})
        elif s.reopened:
            audit.append({"at": now, "actor_type": "channel", "action": "ticket.reopened", "ticket_id": s.id,
                          "customer_id": s.customer_id, "data": {}})
            publish(session, "ticket.reopened", base)
    if audit:
        session.execute(sa.insert(AuditEvent.__table__), audit)
    for item in items:
        slot = item.ticket
        assert slot is not None
        publish(session, "message.received", {
            "ticket_id": slot.id, "message_id": item.message_id, "channel_account_id": slot.channel_account_id,
            "team_id": slot.team_id, "direction": item.msg.direction.value,
            "auto": item.msg.auto.value if item.msg.auto else None,
        })


def write_batch(
    session: Session, items: list[Item], new_customers: list[CustomerSlot], slots: list[TicketSlot],
    now: datetime, result: IngestResult,
) -> None:
    """Insert customers, tickets, messages and audit rows; queue events."""
    _write_customers(session, new_customers, items, now)
    for s in slots:
        s.created = s.is_new
    _write_tickets(session, slots, now)
    _write_messages(session, items, now)
    _audit_and_publish(session, items, slots, now)
    result.customers_created += len(new_customers)
    result.tickets_created += sum(1 for s in slots if s.created)
    result.tickets_reopened += sum(1 for s in slots if s.reopened and not s.created)
