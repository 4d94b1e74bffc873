"""What the ticket page shows besides the ticket: customer card, orders, colleagues.

Read-only assembly for the view, kept out of the handler so the handler
stays thin and the rules (an agent sees only tickets of their stores, even
on the customer card) sit in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from helpdesk.accounts.models import User
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.customers.models import Customer, CustomerIdentity
from helpdesk.orders.models import Order
from helpdesk.tickets.models import Message, Ticket
from helpdesk.tickets.services import may_see_account, merge_candidates


@dataclass
class CustomerCard:
    customer: Customer | None
    identities: list[CustomerIdentity]
    tickets: list[Ticket]
    order_count: int
    totals: dict[str, Decimal] = field(default_factory=dict)  # currency → lifetime value


def conversation(session: Session, ticket: Ticket) -> list[Message]:
    stmt = (
        sa.select(Message)
        .where(Message.ticket_id == ticket.id)
        .options(selectinload(Message.attachments))
        .order_by(Message.sent_at, Message.id)
    )
    return list(session.scalars(stmt))


def customer_card(session: Session, ticket: Ticket, visible: sa.ColumnElement[bool]) -> CustomerCard:
    customer = session.get(Customer, ticket.customer_id)
    identities = list(
        session.scalars(
            sa.select(CustomerIdentity)
            .where(CustomerIdentity.customer_id == ticket.customer_id)
            .order_by(CustomerIdentity.scheme)
        )
    )
    others = list(
        session.scalars(
            sa.select(Ticket)
            .where(Ticket.customer_id == ticket.customer_id, visible)
            .order_by(Ticket.id.desc())
            .limit(20)
        )
    )
    totals: dict[str, Decimal] = {}
    order_count = 0
    for currency, n, total in session.execute(
        sa.select(Order.currency, sa.func.count(Order.id), sa.func.sum(Order.total))
        .where(Order.customer_id == ticket.customer_id)
        .group_by(Order.currency)
    ):
        order_count += n
        totals[currency] = Decimal(total or 0)
    return CustomerCard(customer, identities, others, order_count, totals)


def ticket_order(session: Session, ticket: Ticket) -> Order | None:
    if ticket.order_id is None:
        return None
    return session.scalar(sa.select(Order).where(Order.id == ticket.order_id).options(selectinload(Order.lines)))


def assignable_users(session: Session, ticket: Ticket) -> list[User]:
    users = session.scalars(sa.select(User).where(User.active.is_(True)).order_by(User.name))
    return [u for u in users if may_see_account(session, u, ticket.channel_account_id)]


def account_of(session: Session, ticket: Ticket) -> ChannelAccount | None:
    return session.get(ChannelAccount, ticket.channel_account_id)


__all__ = [
    "CustomerCard",
    "account_of",
    "assignable_users",
    "conversation",
    "customer_card",
    "merge_candidates",
    "ticket_order",
]
