"""``helpdesk demo``: a believable seller's helpdesk in one command.

Several stores on several platforms, about 200 customers and 500 tickets in
five languages, orders for most of them, a few agent replies, and users to
sign in with.  Idempotent: running it twice changes nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels.base import OrderLineRecord, OrderRecord
from helpdesk.accounts.models import Role, Team, User
from helpdesk.accounts.services import create_user
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.demo.synthetic import STORES, add_store_accounts, stream
from helpdesk.ingest.pipeline import ingest
from helpdesk.orders.services import upsert_orders
from helpdesk.tickets.models import Ticket, TicketStatus

DEMO_PASSWORD = "helpdesk-demo"  # noqa: S105 - published demo login, printed by `make run`
DEMO_USERS = (
    ("lead@demo.example", "Lena Lead", Role.LEAD, "en", "Europe/Berlin", ()),
    ("admin@demo.example", "Ada Admin", Role.ADMIN, "en", "UTC", ()),
    ("agent.eu@demo.example", "Emil Agent", Role.AGENT, "en", "Europe/Berlin", ("Europe",)),
    ("agent.cn@demo.example", "王芳", Role.AGENT, "zh_Hans_CN", "Asia/Shanghai", ("Asia", "Americas", "Europe")),
)
TEAMS = {
    "Europe": ("amazon-de", "ebay-uk", "ebay-de", "shop-support"),
    "Asia": ("amazon-jp", "shopee-sg"),
    "Americas": ("amazon-us", "mercadolibre-mx", "aliexpress-global"),
}
TICKETS_MESSAGES = 700


def load_demo(session: Session, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Create the demo data unless it is already there; returns counts."""
    if session.scalar(sa.select(ChannelAccount.id).where(ChannelAccount.name == STORES[0].name)) is not None:
        return {"tickets": session.scalar(sa.select(sa.func.count(Ticket.id))) or 0, "created": 0}
    teams = {name: Team(name=name) for name in TEAMS}
    session.add_all(teams.values())
    accounts = add_store_accounts(session, enabled=False, settings={"demo": True})
    for team_name, names in TEAMS.items():
        session.execute(
            sa.insert(sa.table("team_channel_account", sa.column("team_id"), sa.column("channel_account_id"))),
            [{"team_id": teams[team_name].id, "channel_account_id": accounts[n].id} for n in names],
        )
    for email, name, role, locale, tz, team_names in DEMO_USERS:
        create_user(
            session,
            email,
            name,
            DEMO_PASSWORD,
            role=role,
            locale=locale,
            timezone=tz,
            teams=[teams[t] for t in team_names],
        )

    messages = list(stream(TICKETS_MESSAGES, seed=2026, customers=200, reply_share=0.3))
    rng = random.Random(2026)
    currency = {s.name: s.currency for s in STORES}
    orders = {}
    for msg in messages:
        for number in msg.order_refs:
            if number not in orders and rng.random() < 0.85:
                price = Decimal(rng.randint(999, 12999)) / 100
                qty = rng.randint(1, 3)
                orders[number] = OrderRecord(
                    platform=msg.platform or "shop",
                    account=msg.account,
                    order_number=number,
                    status=rng.choice(["Shipped", "Unshipped", "Delivered", "Canceled"]),
                    currency=currency[msg.account],
                    total=price * qty,
                    placed_at=msg.sent_at - timedelta(days=3),
                    updated_at=msg.sent_at - timedelta(days=1),
                    buyer=msg.sender,
                    site=msg.site,
                    lines=(
                        OrderLineRecord(
                            title=rng.choice(["65W USB-C charger", "Desk lamp LED", "Lamp shade"]),
                            quantity=qty,
                            unit_price=price,
                            sku=f"SKU-{rng.randint(100, 999)}",
                        ),
                    ),
                    carrier=rng.choice(["DHL", "UPS", "Yamato", "J&T", None]),
                    tracking_number=f"TRK{rng.randint(10**9, 10**10)}",
                )
    for start in range(0, len(messages), 100):
        ingest(session, messages[start : start + 100], source="demo")
        if progress:
            progress(min(100, len(messages) - start))
    upsert_orders(session, orders.values())
    users = list(session.scalars(sa.select(User)))
    tickets = list(session.scalars(sa.select(Ticket).order_by(Ticket.id)))
    for ticket in tickets:
        roll = rng.random()
        if roll < 0.25:
            ticket.status = TicketStatus.SOLVED
        elif roll < 0.35:
            ticket.status = TicketStatus.PENDING
        elif roll < 0.75:
            ticket.status = TicketStatus.OPEN
            ticket.assignee_id = rng.choice(users).id
    session.flush()
    return {"tickets": len(tickets), "created": len(tickets)}
