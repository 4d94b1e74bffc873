"""Contact-form mail and the Shopify order it names meet on one ticket and one customer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import channels.shopify.connector  # noqa: F401 - registers the kind
from channels.email.mime import parse_email
from channels.shopify.fake import ShopifyFake
from channels.shopify.fakestore import Customer
from helpdesk.channelaccounts.services import AccountInput, create_account
from helpdesk.customers.models import CustomerIdentity
from helpdesk.ingest.pipeline import ingest
from helpdesk.orders.models import Order
from helpdesk.polling.services import poll_account
from helpdesk.tickets.models import Ticket

pytestmark = pytest.mark.xdist_group("shopify-contract")

MAIL = Path(__file__).resolve().parents[2] / "data" / "mail" / "shopify-contact-form-es.eml"
BUYER = "lucia.fernandez@example.es"


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def order_for_the_buyer(fake: ShopifyFake) -> Customer:
    """The store's order #1042, placed by the buyer who writes in the mail."""
    fake.seed(orders=41)
    with fake.lock:
        customer = fake.store.new_customer()
        customer.email, customer.first, customer.last = BUYER, "Lucía", "Fernández"
        order = fake.store.new_order(guest=True)
        order.customer, order.email = customer, BUYER
    assert order.name == "#1042"
    return customer


@pytest.mark.parametrize("mail_first", [True, False])
def test_the_mail_and_the_order_are_one_customer_and_one_ticket(session: Any, make_account: Any, mail_first: bool):
    make_account(name="support", kind="email", platform="shopify", site=None, default_language="es")
    with ShopifyFake() as fake:
        customer = order_for_the_buyer(fake)
        settings, secrets = fake.account_settings()
        store = create_account(
            session,
            AccountInput(kind="shopify", name="lampworks", platform="shopify", settings=settings, secrets=secrets),
        )
        session.commit()

        mail = parse_email(MAIL.read_bytes(), account="support")
        assert (mail.platform, mail.order_refs) == ("shopify", ("#1042",))
        steps = [lambda: ingest(session, [mail], source="test"), lambda: poll_account(session, store.id)]
        for step in steps if mail_first else reversed(steps):
            step()
            session.commit()
    session.expire_all()

    ticket = session.scalars(sa.select(Ticket)).one()
    order = session.scalars(sa.select(Order).where(Order.order_number == "#1042")).one()
    assert ticket.order_id == order.id
    assert order.customer_id == ticket.customer_id
    rows = session.execute(
        sa.select(CustomerIdentity.scheme, CustomerIdentity.value).where(
            CustomerIdentity.customer_id == ticket.customer_id
        )
    )
    keys = {(scheme, value) for scheme, value in rows}
    assert {("email", BUYER), ("shopify", str(customer.id))} <= keys
