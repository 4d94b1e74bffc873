"""``helpdesk demo``: a believable seller's helpdesk in one command.

Several stores on several platforms, 60 days of history (about 600
customers and 2,000 tickets in five languages, orders for most of them,
answers by several agents in their working hours, solved tickets, SLA
clocks met and breached; see :mod:`helpdesk.demo.history`), an open queue
of the last hours' messages, and users to sign in with.  Idempotent:
running it twice changes nothing.

Every demo store is an account of its real connector kind (e-mail, eBay,
Amazon SP-API, Shopify).  They are created switched off: ``serve
--demo-fakes`` (what ``make run`` starts) points them at loopback fakes of
their platforms (:mod:`helpdesk.demo.live`) and switches them on, so new
buyer messages and orders arrive live and replies leave through the real
connectors.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels.base import OrderLineRecord, OrderRecord
from helpdesk.accounts.models import Role, Team
from helpdesk.accounts.services import create_user
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.db import utcnow
from helpdesk.demo import history
from helpdesk.demo.synthetic import StoreSpec, add_store_accounts, stream
from helpdesk.macros.models import StoredMacro
from helpdesk.orders.services import upsert_orders
from helpdesk.tickets.models import Ticket

DEMO_PASSWORD = "helpdesk-demo"  # noqa: S105 - published demo login, printed by `make run`
DEMO_USERS = (
    ("lead@demo.example", "Lena Lead", Role.LEAD, "en", "Europe/Berlin", ()),
    ("admin@demo.example", "Ada Admin", Role.ADMIN, "en", "UTC", ()),
    ("agent.eu@demo.example", "Emil Agent", Role.AGENT, "en", "Europe/Berlin", ("Europe",)),
    ("agent.cn@demo.example", "王芳", Role.AGENT, "zh_Hans_CN", "Asia/Shanghai", ("Asia", "Americas", "Europe")),
    ("agent.jp@demo.example", "佐藤 健", Role.AGENT, "en", "Asia/Tokyo", ("Asia",)),
    ("agent.us@demo.example", "Sofía Ramos", Role.AGENT, "en", "America/New_York", ("Americas",)),
)
# Who answers each team's stores, most active first, and the team's working day (see helpdesk.demo.history).
TEAM_STAFF = {
    "Europe": ("Europe/Berlin", ("agent.eu@demo.example", "agent.cn@demo.example", "lead@demo.example")),
    "Asia": ("Asia/Shanghai", ("agent.jp@demo.example", "agent.cn@demo.example")),
    "Americas": ("America/New_York", ("agent.us@demo.example", "agent.cn@demo.example")),
}
# Buyers write to these stores (history is made for them); mail stores read a mailbox, marketplace ones an API.
STORES: tuple[StoreSpec, ...] = (
    StoreSpec("amazon-de", "email", "amazon", "DE", "de", "Amazon.de – Lampworks", "EUR", by_mail=True),
    StoreSpec("amazon-us", "email", "amazon", "US", "en", "Amazon.com – Lampworks", "USD", by_mail=True),
    StoreSpec("amazon-jp", "email", "amazon", "JP", "ja", "Amazon.co.jp – Lampworks", "JPY", by_mail=True),
    StoreSpec("amazon-es", "email", "amazon", "ES", "es", "Amazon.es – Lampworks", "EUR", by_mail=True),
    StoreSpec("ebay-uk", "ebay", "ebay", "GB", "en", "eBay UK – lampworks_uk", "GBP"),
    StoreSpec("ebay-de", "ebay", "ebay", "DE", "de", "eBay DE – lampworks_de", "EUR"),
    StoreSpec("shop-support", "email", "shopify", "AE", "ar", "support@lampworks.example", "AED", by_mail=True),
)
# Accounts that bring orders only: Amazon relay mail and Shopify contact forms link to them.
# (Amazon grants one SP-API authorisation per region: Europe, North America, Far East.)
ORDER_STORES: tuple[StoreSpec, ...] = (
    StoreSpec("amazon-eu", "amazon", "amazon", "DE", "de", "Amazon Seller Central Europe – Lampworks", "EUR"),
    StoreSpec("amazon-na", "amazon", "amazon", "US", "en", "Amazon Seller Central North America – Lampworks", "USD"),
    StoreSpec("amazon-fe", "amazon", "amazon", "JP", "ja", "Amazon Seller Central Japan – Lampworks", "JPY"),
    StoreSpec("shopify-store", "shopify", "shopify", "AE", "en", "Shopify – lampworks.myshopify.com", "AED"),
)
# where a store's orders come from: (platform, site) or platform alone
ORDERS_OF = {
    ("amazon", "DE"): "amazon-eu",
    ("amazon", "ES"): "amazon-eu",
    ("amazon", "US"): "amazon-na",
    ("amazon", "JP"): "amazon-fe",
    ("shopify", None): "shopify-store",
}
TEAMS = {
    "Europe": ("amazon-de", "amazon-es", "ebay-uk", "ebay-de", "shop-support", "amazon-eu", "shopify-store"),
    "Asia": ("amazon-jp", "amazon-fe"),
    "Americas": ("amazon-us", "amazon-na"),
}
HISTORY_DAYS = 60
TICKETS_MESSAGES = 2700
"""Buyer messages over the history: about 45 a day, fewer at weekends."""
TEMPLATES = (
    (
        "tracking-update",
        "Tracking update",
        "Hello,\n\nthank you for your message. Your parcel is on its way; the tracking number is "
        "in your order details. Please allow two more working days.\n\nKind regards",
        "en",
    ),
    (
        "sendungsverfolgung",
        "Sendungsverfolgung",
        "Hallo,\n\nvielen Dank für Ihre Nachricht. Ihr Paket ist unterwegs; die "
        "Sendungsnummer finden Sie in Ihrer Bestellung. Bitte haben Sie noch zwei Werktage Geduld.\n\n"
        "Mit freundlichen Grüßen",
        "de",
    ),
    (
        "haiso-jokyo",
        "配送状況のご案内",
        "お問い合わせありがとうございます。商品は発送済みです。追跡番号はご注文詳細から"
        "ご確認いただけます。あと2営業日ほどお待ちください。",
        "ja",
    ),
    (
        "seguimiento-del-envio",
        "Seguimiento del envío",
        "Hola:\n\ngracias por su mensaje. Su paquete está en camino; el número de "
        "seguimiento aparece en los detalles del pedido.\n\nSaludos cordiales",
        "es",
    ),
    (
        "replacement-offer",
        "Replacement offer",
        "Hello,\n\nwe are sorry the item stopped working. We will send a replacement free "
        "of charge; no need to return the faulty one.\n\nKind regards",
        "en",
    ),
)


def load_demo(session: Session, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Create the demo data unless it is already there; returns counts."""
    if session.scalar(sa.select(ChannelAccount.id).where(ChannelAccount.name == STORES[0].name)) is not None:
        return {"tickets": session.scalar(sa.select(sa.func.count(Ticket.id))) or 0, "created": 0}
    teams = {name: Team(name=name) for name in TEAMS}
    session.add_all(teams.values())
    # Real connector kinds, switched off until ``serve --demo-fakes`` connects them to their fakes.
    accounts = add_store_accounts(session, STORES + ORDER_STORES, enabled=False, settings={})
    # the desk's own macros beside the shipped library: one language each, as a seller's first ones often are
    session.add_all(
        StoredMacro(
            key=key,
            source="custom",
            titles={language: name},
            descriptions={},
            bodies={language: body},
            tags=["demo"],
            platforms=[],
            actions={},
        )
        for key, name, body, language in TEMPLATES
    )
    for team_name, names in TEAMS.items():
        session.execute(
            sa.insert(sa.table("team_channel_account", sa.column("team_id"), sa.column("channel_account_id"))),
            [{"team_id": teams[team_name].id, "channel_account_id": accounts[n].id} for n in names],
        )
    users = {}
    for email, name, role, locale, tz, team_names in DEMO_USERS:
        users[email] = create_user(
            session,
            email,
            name,
            DEMO_PASSWORD,
            role=role,
            locale=locale,
            timezone=tz,
            teams=[teams[t] for t in team_names],
        )

    # Buyers' messages over the last 60 days, at a desk's rhythm; the newest wait in the inbox, unanswered.
    now = utcnow()
    start = now - timedelta(days=HISTORY_DAYS)
    buyers = list(stream(TICKETS_MESSAGES, seed=2026, customers=600, reply_share=0.3, start=start, stores=STORES))
    rng = random.Random(2026)
    messages = history.retime(buyers, history.arrival_times(rng, len(buyers), start, now - timedelta(minutes=5)))
    staff = {}
    for team_name, (zone, emails) in TEAM_STAFF.items():
        crew = history.Staff(ZoneInfo(zone), tuple((users[e].id, users[e].name) for e in emails))
        staff.update(dict.fromkeys(TEAMS[team_name], crew))
    currency = {s.name: s.currency for s in STORES}
    orders = {}
    for msg in messages:
        for number in msg.order_refs:
            if number not in orders and rng.random() < 0.85:
                price = Decimal(rng.randint(999, 12999)) / 100
                qty = rng.randint(1, 3)
                orders[number] = OrderRecord(
                    platform=msg.platform or "shop",
                    account=ORDERS_OF.get((msg.platform or "", msg.site))
                    or ORDERS_OF.get((msg.platform or "", None), msg.account),
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
    upsert_orders(session, orders.values())
    plan = history.plan(messages, staff, now)
    tickets = history.replay(session, plan, {a.name: a.id for a in accounts.values()}, now, progress)
    session.flush()
    return {"tickets": tickets, "created": tickets}
