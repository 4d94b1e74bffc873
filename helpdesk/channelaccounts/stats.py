"""Records received per account and hour, maintained as pages are stored.

The channels page shows each account's messages and orders of the last 24
hours; counting them from the message and order tables would scan more as
the desk grows, so every stored page adds its counts to its hour's row.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from helpdesk.channelaccounts.models import ChannelActivity
from helpdesk.db import utcnow


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def record_activity(session: Session, account_id: int, *, messages: int = 0, orders: int = 0) -> None:
    """Add to this hour's counts of ``account_id`` (one upsert; nothing when both are zero)."""
    if not messages and not orders:
        return
    table = ChannelActivity.__table__
    conn = session.connection()
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table).values(channel_account_id=account_id, hour=_hour(utcnow()), messages=messages, orders=orders)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.channel_account_id, table.c.hour],
        set_={"messages": table.c.messages + messages, "orders": table.c.orders + orders},
    )
    conn.execute(stmt)


def activity_since(session: Session, since: timedelta = timedelta(hours=24)) -> dict[int, tuple[int, int]]:
    """Account id → (messages, orders) received in the last ``since``."""
    table = ChannelActivity.__table__
    start = _hour(utcnow() - since)
    rows = session.execute(
        sa.select(table.c.channel_account_id, sa.func.sum(table.c.messages), sa.func.sum(table.c.orders))
        .where(table.c.hour >= start)
        .group_by(table.c.channel_account_id)
    )
    return {account_id: (int(m or 0), int(o or 0)) for account_id, m, o in rows}
