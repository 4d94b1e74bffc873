"""Order services: upsert what marketplaces report and link waiting tickets."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels.base import OrderRecord
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.customers.models import CustomerIdentity
from helpdesk.events import publish
from helpdesk.ingest.customers import identity_keys
from helpdesk.orders.models import Order, OrderLine
from helpdesk.tickets.models import Ticket


def upsert_orders(session: Session, records: Iterable[OrderRecord]) -> list[Order]:
    """Insert or update orders by (account, order number); link tickets that mention them."""
    accounts = {a.name: a for a in session.scalars(sa.select(ChannelAccount))}
    out = []
    for rec in records:
        account = accounts.get(rec.account)
        if account is None:
            raise ValueError(f"no channel account named {rec.account!r}")
        order = session.scalar(
            sa.select(Order).where(Order.channel_account_id == account.id, Order.order_number == rec.order_number)
        )
        if order is None:
            order = Order(channel_account_id=account.id, order_number=rec.order_number, platform=rec.platform)
            session.add(order)
        order.status = rec.status
        order.currency = rec.currency
        order.total = rec.total
        order.site = rec.site
        order.placed_at = rec.placed_at
        order.updated_at = rec.updated_at
        order.shipping_address = dict(rec.shipping_address)
        order.carrier = rec.carrier
        order.tracking_number = rec.tracking_number
        order.shipped_at = rec.shipped_at
        order.lines = [
            OrderLine(
                sku=line.sku,
                title=line.title,
                quantity=line.quantity,
                unit_price=line.unit_price,
                external_id=line.external_id,
            )
            for line in rec.lines
        ]
        if order.customer_id is None:
            for scheme, value, _ in identity_keys(rec.buyer, rec.platform):
                customer_id = session.scalar(
                    sa.select(CustomerIdentity.customer_id).where(
                        CustomerIdentity.scheme == scheme, CustomerIdentity.value == value
                    )
                )
                if customer_id is not None:
                    order.customer_id = customer_id
                    break
        session.flush()
        session.execute(
            sa.update(Ticket)
            .where(Ticket.platform == rec.platform, Ticket.order_number == rec.order_number, Ticket.order_id.is_(None))
            .values(order_id=order.id)
        )
        publish(
            session,
            "order.updated",
            {"order_id": order.id, "channel_account_id": account.id, "order_number": order.order_number},
        )
        out.append(order)
    return out
