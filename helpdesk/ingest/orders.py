"""Step 5: link tickets to the orders their messages mention.

Order numbers are looked up by (platform, number): relayed mail arrives on a
mailbox account while the order came from the store's API account.  A number
we have not imported yet stays on the ticket as text and is linked when the
order arrives (``helpdesk.orders.services.upsert_orders``).
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from helpdesk.db import any_of
from helpdesk.ingest.batch import Item
from helpdesk.orders.models import Order


def link_orders(session: Session, items: list[Item]) -> None:
    """Set ``order_id`` on tickets whose order number matches a known order."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for item in items:
        if item.ticket and item.ticket.order_number and item.ticket.order_id is None and item.platform:
            wanted[item.platform].add(item.ticket.order_number)
    if not wanted:
        return
    o = Order.__table__.c
    found: dict[tuple[str, str], int] = {}
    dialect = session.get_bind().dialect.name
    for platform, numbers in wanted.items():
        stmt = sa.select(o.id, o.order_number).where(o.platform == platform, any_of(o.order_number, numbers, dialect))
        for order_id, number in session.connection().execute(stmt):
            found[(platform, number)] = order_id
    for item in items:
        slot = item.ticket
        if slot and slot.order_id is None and slot.order_number and item.platform:
            order_id = found.get((item.platform, slot.order_number))
            if order_id is not None:
                slot.order_id = order_id
                slot.changed = True
