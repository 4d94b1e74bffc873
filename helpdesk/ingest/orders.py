"""Step 5: link tickets to the orders their messages mention.

Order numbers are looked up by (platform, number): relayed mail arrives on a
mailbox account while the order came from the store's API account.  A number
we have not imported yet stays on the ticket as text and is linked when the
order arrives (``helpdesk.orders.services.upsert_orders``).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from helpdesk.ingest.batch import Item, select_by_pairs
from helpdesk.orders.models import Order


def link_orders(session: Session, items: list[Item]) -> None:
    """Set ``order_id`` on tickets whose order number matches a known order."""
    wanted = {
        (item.platform, item.ticket.order_number)
        for item in items
        if item.ticket and item.ticket.order_number and item.ticket.order_id is None and item.platform
    }
    if not wanted:
        return
    o = Order.__table__.c
    found: dict[tuple[str, str], int] = {}
    # two accounts of one platform may hold the same number: the oldest record wins
    for row in select_by_pairs(
        session.connection(), (o.platform, o.order_number, o.id), o.platform, o.order_number, wanted, order_by=o.id
    ):
        found.setdefault((row.platform, row.order_number), row.id)
    for item in items:
        slot = item.ticket
        if slot and slot.order_id is None and slot.order_number and item.platform:
            order_id = found.get((item.platform, slot.order_number))
            if order_id is not None:
                slot.order_id = order_id
                slot.changed = True
