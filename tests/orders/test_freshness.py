"""The order beside a ticket is refreshed from the platform when it is stale, in the background."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from channels.base import Party
from helpdesk.db import utcnow
from helpdesk.ingest.pipeline import ingest
from helpdesk.orders.models import Order
from helpdesk.orders.services import upsert_orders
from helpdesk.tickets.models import Ticket
from tests.channels.plain import PlainConnector, order
from tests.channels.test_accounts import plain
from tests.web import fresh_globals_per_request, login  # noqa: F401 - fixture


def ticket_about(session, make_message, number: str) -> Ticket:
    msg = make_message(
        account="plain-de", channel="test-plain", platform="plainshop", order_refs=(number,),
        sender=Party(platform_id=f"buyer-of-{number}"),
    )  # fmt: skip
    ingest(session, [msg], source="test")
    session.commit()
    return session.scalars(sa.select(Ticket)).one()


def test_opening_a_ticket_refreshes_a_stale_order(client, session, make_message, make_user):
    PlainConnector.ORDERS, PlainConnector.STATUS, PlainConnector.lookups = ["A-7"], "shipped", []
    plain(session)
    upsert_orders(session, [order("plain-de", "A-7")])
    session.execute(sa.update(Order).values(synced_at=utcnow() - timedelta(hours=1)))
    session.commit()
    ticket = ticket_about(session, make_message, "A-7")
    PlainConnector.lookups = []  # the arriving message asked already; an agent opens it an hour later
    session.execute(sa.update(Order).values(synced_at=utcnow() - timedelta(hours=1)))
    session.execute(sa.delete(sa.table("lease")))
    session.commit()
    login(client, make_user("admin@example.test", role="admin"))
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert PlainConnector.lookups == ["A-7"] and "shipped" in page and "Synced" in page
    again = client.get(f"/tickets/{ticket.id}")  # fresh now: nobody asks the platform again
    assert again.status_code == 200 and PlainConnector.lookups == ["A-7"]


def test_a_buyer_message_about_an_unknown_order_fetches_and_links_it(session, make_message):
    PlainConnector.ORDERS, PlainConnector.STATUS, PlainConnector.lookups = ["A-9"], "paid", []
    plain(session)
    ticket = ticket_about(session, make_message, "A-9")
    session.expire_all()
    assert PlainConnector.lookups == ["A-9"]
    assert session.get(Ticket, ticket.id).order_id is not None
