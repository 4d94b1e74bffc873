"""Agents' notes on a customer, shown on every ticket's customer card."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.audit.models import AuditEvent
from helpdesk.customers.models import Customer
from helpdesk.db import utcnow
from helpdesk.tickets.models import Ticket

MAX_NOTES = 10_000


def visible_customer(session: Session, customer_id: int, visible_ids: set[int] | None) -> Customer | None:
    """The customer if the user may see at least one of their tickets; agents see no other customers."""
    customer = session.get(Customer, customer_id)
    if customer is None or visible_ids is None:
        return customer
    stmt = sa.select(Ticket.id).where(
        Ticket.customer_id == customer_id, Ticket.channel_account_id.in_(sorted(visible_ids) or [-1])
    )
    return customer if session.scalar(stmt.limit(1)) is not None else None


def update_notes(session: Session, customer: Customer, notes: str, actor: User) -> None:
    customer.notes = notes.strip()[:MAX_NOTES]
    customer.updated_at = utcnow()
    session.add(AuditEvent(actor_type="user", actor_id=actor.id, action="customer.notes", customer_id=customer.id))
