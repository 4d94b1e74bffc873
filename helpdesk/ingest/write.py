"""Step 6: write the batch with set-based statements, then queue its events.

Everything here is a handful of multi-row INSERTs and one executemany UPDATE
per batch; nothing loads ORM objects.  The caller commits; the events go out
after that commit.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels.base import Direction, InboundMessage
from helpdesk.attachments import store
from helpdesk.attachments.names import safe_filename
from helpdesk.audit.models import AuditEvent
from helpdesk.customers.models import Customer, CustomerIdentity
from helpdesk.customers.services import merge_customers
from helpdesk.db import bulk_insert, bulk_update
from helpdesk.events import publish, publish_many
from helpdesk.inbox.fts import index_messages
from helpdesk.ingest.batch import CHANGE_TRACKED, CustomerSlot, IngestResult, Item, TicketSlot
from helpdesk.tickets.models import Attachment, DeliveryState, Message, Ticket, TicketTag

log = logging.getLogger(__name__)


def _write_customers(session: Session, new_customers: list[CustomerSlot], items: list[Item], now: datetime) -> None:
    rows = [
        {
            "display_name": (s.name or "")[:200],
            "email": s.email,
            "phone": s.phone,
            "country": s.country,
            "language": s.language,
            "notes": "",
            "created_at": now,
            "updated_at": now,
        }
        for s in new_customers
    ]
    new_ids = bulk_insert(session.connection(), Customer.__table__, rows, return_ids=True)
    for slot, new_id in zip(new_customers, new_ids, strict=True):
        slot.id = new_id
    survivors = {id(item.customer.resolved()): item.customer.resolved() for item in items if item.customer}
    identity_rows = [
        {"customer_id": slot.id, "scheme": scheme, "value": value, "display_name": display, "created_at": now}
        for slot in survivors.values()
        for scheme, value, display in slot.new_keys
    ]
    bulk_insert(session.connection(), CustomerIdentity.__table__, identity_rows)
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
        rows.append(
            {
                "subject": s.subject[:500],
                "status": s.status,
                "priority": "normal",
                "channel_account_id": s.channel_account_id,
                "platform": s.platform,
                "site": s.site,
                "language": s.language,
                "customer_id": s.customer_id,
                "order_id": s.order_id,
                "order_number": s.order_number,
                "team_id": s.team_id,
                "external_thread_id": s.external_thread_id,
                "followup_of_id": s.followup_of_id,
                "message_count": s.added_messages,
                "created_at": s.created_at or now,
                "updated_at": now,
                "last_message_at": s.last_message_at or now,
                "last_inbound_at": s.last_inbound_at,
                "first_response_at": s.first_response_at,
                "sla_due_at": s.sla_due_at,
                "sla_state": s.sla_state,
            }
        )
    new_ids = bulk_insert(session.connection(), Ticket.__table__, rows, return_ids=True)
    for slot, new_id in zip(new, new_ids, strict=True):
        slot.id = new_id
    tag_rows = [{"ticket_id": s.id, "tag": tag} for s in new for tag in sorted(s.tags)]
    if tag_rows:
        session.execute(sa.insert(TicketTag.__table__), tag_rows)

    groups: dict[tuple[str, ...], list[dict[str, object]]] = {}
    for s in slots:
        if s.created or not s.changed:
            continue
        row: dict[str, object] = {
            "id": s.id,
            "message_count": s.added_messages,
            "last_message_at": s.last_message_at,
            "last_inbound_at": s.last_inbound_at,
            "updated_at": now,
        }
        loaded = s.loaded or {}
        changed = tuple(c for c in CHANGE_TRACKED if c not in loaded or getattr(s, c) != loaded[c])
        for column in changed:
            row[column] = getattr(s, column)
        groups.setdefault(changed, []).append(row)
    for rows in groups.values():
        bulk_update(session.connection(), Ticket.__table__, rows, increments=("message_count",))


def _write_messages(session: Session, items: list[Item], now: datetime) -> None:
    blobs = [a.content for item in items for a in item.msg.attachments]
    blobs += [item.msg.original for item in items if item.msg.original is not None]
    unsaved: dict[str, str] = {}
    sha_of = store.store_many(session, blobs, unsaved=unsaved)
    if unsaved:
        log.error(
            "%d attachment file(s) could not be written (%s); their messages are kept without them",
            len(unsaved),
            "; ".join(sorted(set(unsaved.values()))),
        )
    rows = []
    for item in items:
        msg = item.msg
        customer = item.customer.resolved() if item.customer else None
        meta, original_sha = _note_unsaved(msg, sha_of, unsaved)
        rows.append(
            {
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
                "body_html": msg.body_html or None,  # as received; sanitised where shown (clean_html)
                "language": msg.language,
                "in_reply_to": (msg.in_reply_to or None) and msg.in_reply_to[:255],
                "references": " ".join(msg.references) or None,
                "meta": meta,
                "sent_at": msg.sent_at,
                "received_at": now,
                "delivery_state": DeliveryState.RECEIVED if msg.direction is Direction.IN else DeliveryState.SENT,
                "delivery_attempts": 0,
                "original_sha256": original_sha,
            }
        )
    new_ids = bulk_insert(session.connection(), Message.__table__, rows, return_ids=True)
    for item, new_id in zip(items, new_ids, strict=True):
        item.message_id = new_id
    index_messages(
        session.connection(), [(row_id, r["subject"], r["body_text"]) for row_id, r in zip(new_ids, rows, strict=True)]
    )
    attachment_rows = [
        {
            "message_id": item.message_id,
            "sha256": sha_of[id(a.content)],
            "filename": safe_filename(a.filename),
            "content_type": a.content_type[:127],
            "size": len(a.content),
            "inline": a.inline,
            "content_id": a.content_id,
        }
        for item in items
        for a in item.msg.attachments
        if sha_of[id(a.content)] not in unsaved
    ]
    bulk_insert(session.connection(), Attachment.__table__, attachment_rows)


def _note_unsaved(
    msg: InboundMessage, sha_of: dict[int, str], unsaved: dict[str, str]
) -> tuple[dict[str, Any], str | None]:
    """The message's meta, naming the attachments whose files could not be written, and its original's digest.

    The message is stored all the same: its text is what the agent needs
    first, and the failure is on the message for the agent to see (ask the
    buyer to send the file again) and in the log for the admin (free space).
    """
    meta = dict(msg.meta)
    failed = [
        f"{a.filename} ({len(a.content)} bytes): {unsaved[sha]}"
        for a in msg.attachments
        if (sha := sha_of[id(a.content)]) in unsaved
    ]
    if failed:
        meta["failed_attachments"] = "\n".join(failed)
    original_sha = sha_of[id(msg.original)] if msg.original is not None else None
    if original_sha in unsaved:
        meta["original_unsaved"] = unsaved[original_sha]
        original_sha = None
    return meta, original_sha


def _audit_and_publish(session: Session, items: list[Item], slots: list[TicketSlot], now: datetime) -> None:
    """Audit what changed existing tickets and queue the batch's events.

    A ticket's creation by a channel is not audited separately: the ticket
    row itself records when, where from and (``followup_of_id``) why.
    """
    created, reopened, audit = [], [], []
    for s in slots:
        base = {"channel_account_id": s.channel_account_id, "team_id": s.team_id, "ticket_id": s.id}
        if s.created:
            created.append(
                {**base, "customer_id": s.customer_id, "status": s.status, "platform": s.platform, "subject": s.subject}
            )
        elif s.reopened:
            audit.append(
                {
                    "at": now,
                    "actor_type": "channel",
                    "action": "ticket.reopened",
                    "ticket_id": s.id,
                    "customer_id": s.customer_id,
                    "data": {},
                }
            )
            reopened.append(base)
    bulk_insert(session.connection(), AuditEvent.__table__, audit)
    publish_many(session, "ticket.created", created)
    publish_many(session, "ticket.reopened", reopened)
    publish_many(
        session,
        "message.received",
        [
            {
                "ticket_id": item.ticket.id if item.ticket else None,
                "message_id": item.message_id,
                "channel_account_id": item.account.id,
                "team_id": item.ticket.team_id if item.ticket else None,
                "direction": item.msg.direction.value,
                "auto": item.msg.auto.value if item.msg.auto else None,
            }
            for item in items
        ],
    )


def write_batch(
    session: Session,
    items: list[Item],
    new_customers: list[CustomerSlot],
    slots: list[TicketSlot],
    now: datetime,
    result: IngestResult,
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
