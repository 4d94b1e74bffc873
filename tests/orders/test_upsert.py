"""Orders stored in sets: created once, updated in place, older notifications ignored, buyers become customers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from channels.base import CustomerRecord, OrderLineRecord, OrderRecord, Party
from helpdesk.customers.models import Customer, CustomerIdentity
from helpdesk.ingest.pipeline import ingest
from helpdesk.orders.models import Order, OrderLine
from helpdesk.orders.services import upsert_customers, upsert_orders
from helpdesk.tickets.models import Ticket

T = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def order(number: str, *, at: datetime = T, status: str = "PAID", buyer: str = "alpine_finds_22", **kw) -> OrderRecord:
    return OrderRecord(
        platform="ebay",
        account="shop-de",
        order_number=number,
        status=status,
        currency="GBP",
        total=Decimal("64.50"),
        updated_at=at,
        buyer=Party(platform_id=buyer, email=f"{buyer}@members.ebay.com", name="Katrin Moser"),
        lines=(OrderLineRecord(title="Brass desk lamp", quantity=1, unit_price=Decimal("64.50"), sku="LAMP"),),
        **kw,
    )


def test_orders_are_created_updated_in_place_and_older_news_is_ignored(session, make_account):
    make_account()
    first = upsert_orders(session, [order("27-1"), order("27-2")])
    assert (first.created, first.updated) == (2, 0)
    later = upsert_orders(session, [order("27-1", at=T + timedelta(hours=1), status="SHIPPED")])
    stale = upsert_orders(session, [order("27-1", at=T - timedelta(hours=1), status="PENDING")])
    session.commit()
    assert (later.updated, stale.stale) == (1, 1)
    assert session.scalar(sa.select(Order.status).where(Order.order_number == "27-1")) == "SHIPPED"
    assert session.scalar(sa.select(sa.func.count(OrderLine.id))) == 2  # lines replaced, not added
    assert session.scalar(sa.select(Order.total).where(Order.order_number == "27-1")) == Decimal("64.50")


def test_one_buyer_becomes_one_customer_that_their_messages_find(session, make_account, make_message):
    make_account()
    upsert_orders(session, [order("27-1"), order("27-2"), order("27-3", buyer="other_buyer")])
    session.commit()
    assert session.scalar(sa.select(sa.func.count(Customer.id))) == 2
    ingest(session, [make_message(sender=Party(platform_id="alpine_finds_22"), order_refs=("27-2",))], source="t")
    session.commit()
    ticket = session.scalars(sa.select(Ticket)).one()
    order_row = session.scalar(sa.select(Order).where(Order.order_number == "27-2"))
    assert ticket.customer_id == order_row.customer_id and ticket.order_id == order_row.id


def test_a_ticket_waiting_for_its_order_is_linked_when_the_order_arrives(session, make_account, make_message):
    make_account()
    ingest(session, [make_message(order_refs=("27-9",))], source="t")
    session.commit()
    upsert_orders(session, [order("27-9")])
    session.commit()
    assert session.scalars(sa.select(Ticket)).one().order_id is not None


def test_customer_records_add_keys_and_keep_the_newest_name(session, make_account):
    make_account()
    upsert_orders(session, [order("27-1")])
    record = CustomerRecord(
        platform="ebay", account="shop-de", party=Party(platform_id="alpine_finds_22", email="k@moser.example",
        name="Katrin M."), locale="de"
    )  # fmt: skip
    upsert_customers(session, [record, replace(record, party=replace(record.party, name="Katrin Moser-Huber"))])
    session.commit()
    customer = session.scalars(sa.select(Customer)).one()
    assert customer.display_name == "Katrin Moser-Huber" and customer.language == "de"
    emails = session.scalars(sa.select(CustomerIdentity.value).where(CustomerIdentity.scheme == "email")).all()
    assert sorted(emails) == ["alpine_finds_22@members.ebay.com", "k@moser.example"]


def test_a_later_record_wins_field_by_field_whatever_it_carries(session, make_account):
    make_account()
    buyer = Party(platform_id="alpine_finds_22", name="Katrin M.")
    upsert_customers(
        session,
        [
            CustomerRecord(platform="ebay", account="shop-de", party=buyer),  # name only
            CustomerRecord(platform="ebay", account="shop-de", party=replace(buyer, name=None), locale="de_AT"),
            CustomerRecord(platform="ebay", account="shop-de", party=replace(buyer, name="Katrin Moser")),
        ],
    )
    session.commit()
    customer = session.scalars(sa.select(Customer)).one()
    assert (customer.display_name, customer.language) == ("Katrin Moser", "de_AT")
