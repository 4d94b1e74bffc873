"""Keep the order an agent looks at fresh, without ever making them (or the pipeline) wait for it.

An order stored an hour ago may have shipped since.  When a ticket opens, or
a buyer message arrives on a ticket, and its order is older than
``STALE_AFTER`` (or named but not stored yet), a background job asks the
platform for it through any account of that platform whose connector can
look orders up; the stored order is updated in the usual way and the open
ticket page redraws its order card when the job's ``ticket.updated`` event
arrives.  A lease per order keeps a burst of messages from asking twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels import registry
from channels.base import Capability, ChannelError
from helpdesk import leases
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.db import utcnow
from helpdesk.events import listen_once, publish
from helpdesk.orders.models import Order
from helpdesk.tasks import task
from helpdesk.tickets.models import Ticket

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=15)
MAX_PER_BATCH = 50  # an import of old mail must not queue a look-up per message


def _lookup_kinds() -> list[str]:
    return [k for k in registry.kinds() if Capability.FETCH_ORDER in registry.get(k).capabilities]


def _lookup_accounts(session: Session, platform: str | None) -> list[ChannelAccount]:
    """Enabled accounts of ``platform`` whose connector can look an order up."""
    kinds = _lookup_kinds()
    if not platform or not kinds:
        return []
    return list(
        session.scalars(
            sa.select(ChannelAccount)
            .where(
                ChannelAccount.platform == platform,
                ChannelAccount.enabled.is_(True),
                ChannelAccount.kind.in_(kinds),
            )
            .order_by(ChannelAccount.id)
        )
    )


def _lookup_platforms(session: Session) -> set[str]:
    kinds = _lookup_kinds()
    if not kinds:
        return set()
    rows = session.scalars(
        sa.select(ChannelAccount.platform)
        .where(ChannelAccount.enabled.is_(True), ChannelAccount.kind.in_(kinds), ChannelAccount.platform.is_not(None))
        .distinct()
    )
    return {p for p in rows if p}


def needs_refresh(order: Order | None, ticket: Ticket) -> bool:
    if order is None:
        return bool(ticket.order_number)
    return order.synced_at is None or utcnow() - order.synced_at > STALE_AFTER


def request_refresh(session: Session, ticket: Ticket, order: Order | None) -> bool:
    """Queue a refresh of the ticket's order if it is stale or missing; True when one was queued."""
    if not needs_refresh(order, ticket) or not _lookup_accounts(session, ticket.platform):
        return False
    from helpdesk.extensions import db

    key = f"order-refresh:{ticket.platform}:{ticket.order_number}"
    if not leases.try_acquire(db.engine, key, "queued", timedelta(minutes=2)):
        return False  # asked a moment ago
    refresh_order_task(ticket.id)
    return True


@task(retries=2, retry_delay=30)
def refresh_order_task(ticket_id: int) -> str:
    from helpdesk.channelaccounts.services import build_connector
    from helpdesk.extensions import db
    from helpdesk.orders.services import upsert_orders

    session = db.session
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or not ticket.order_number:
        return "nothing to refresh"
    for account in _lookup_accounts(session, ticket.platform):
        try:
            connector = build_connector(account)
        except (ChannelError, KeyError, ValueError) as exc:
            log.info("order refresh: %s cannot be used: %s", account.name, exc)
            continue
        try:
            record = connector.fetch_order(ticket.order_number)
        except ChannelError as exc:
            log.info("order refresh of %s through %s failed: %s", ticket.order_number, account.name, exc)
            continue
        finally:
            connector.close()
        if record is None:
            continue
        upsert_orders(session, [record])
        session.flush()
        session.refresh(ticket)
        publish(
            session,
            "ticket.updated",
            {
                "ticket_id": ticket.id,
                "channel_account_id": ticket.channel_account_id,
                "team_id": ticket.team_id,
                "changes": {"order": record.order_number},
            },
        )
        return "refreshed"
    return "not found"


@listen_once("orders.freshness", "message.received")
def _on_messages(session: Session, name: str, payloads: list[Any]) -> Callable[[], None] | None:
    """A buyer wrote: make sure the order of their ticket is fresh by the time an agent opens it.

    The look-up calls a platform, so it is a job, queued once the relay's cursor has moved.
    """
    if not _lookup_kinds():
        return None
    ticket_ids = sorted({int(str(p["ticket_id"])) for p in payloads if p.get("direction") == "in"})
    if not ticket_ids:
        return None
    return lambda: check_orders_task(ticket_ids[-MAX_PER_BATCH:])


@task(retries=0)
def check_orders_task(ticket_ids: list[int]) -> int:
    """Queue refreshes for those tickets whose order is stale or missing; how many were queued."""
    from helpdesk.extensions import db

    session = db.session
    platforms = _lookup_platforms(session)
    if not platforms:
        return 0  # no store can look orders up
    rows = session.execute(
        sa.select(Ticket, Order)
        .outerjoin(Order, Order.id == Ticket.order_id)
        .where(Ticket.id.in_(ticket_ids), Ticket.order_number.is_not(None), Ticket.platform.in_(platforms))
    ).all()
    return sum(request_refresh(session, ticket, order) for ticket, order in rows)
