"""Amazon's templated order messages, offered on the ticket of a relay mail and sent through SP-API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from channels.amazon.fake import AmazonFake
from channels.base import Party
from helpdesk.channelaccounts.services import AccountInput, create_account
from helpdesk.ingest.pipeline import ingest
from helpdesk.polling.services import poll_account
from helpdesk.tickets.models import Message, Ticket
from tests.web import fresh_globals_per_request, login, post  # noqa: F401 - fixture


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def amazon() -> Iterator[AmazonFake]:
    with AmazonFake() as fake:
        yield fake


def relay_ticket(session: Any, make_account: Any, amazon: AmazonFake, make_message: Any) -> tuple[Ticket, str]:
    settings, secrets = amazon.account_settings()
    account = create_account(session, AccountInput(kind="amazon", name="amazon-eu", settings=settings, secrets=secrets))
    session.commit()
    with amazon.lock:
        order_id = amazon.add_order(status="Unshipped")
    assert poll_account(session, account.id).error is None
    make_account(name="amazon-de", kind="email", platform="amazon")
    msg = make_message(
        account="amazon-de", channel="email", platform="amazon", order_refs=(order_id,),
        sender=Party(email="r4xk9m2tq7bz1lp@marketplace.amazon.de", name="Jonas Weber"),
    )  # fmt: skip
    ingest(session, [msg], source="test")
    session.commit()
    return session.scalars(sa.select(Ticket)).one(), order_id


def test_an_agent_sends_what_amazon_allows_for_the_order(
    client, session, make_account, make_message, make_user, amazon
):
    ticket, _ = relay_ticket(session, make_account, amazon, make_message)
    login(client, make_user("lead@example.test", role="lead"))
    assert "Send a marketplace message about this order" in client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    page = client.get(f"/tickets/{ticket.id}/actions").get_data(as_text=True)
    assert 'value="confirmDeliveryDetails"' in page
    text = "Your parcel was handed to DHL today; expected delivery on Thursday."
    response = post(
        client,
        f"/tickets/{ticket.id}/actions",
        {"action": "confirmDeliveryDetails", "text": text},
        token_from=f"/tickets/{ticket.id}/actions",
    )
    assert response.status_code == 302
    assert [r.get("text") for r in amazon.replies] == [text]
    sent = session.scalars(sa.select(Message).where(Message.direction == "out")).one()
    assert sent.meta["messaging_action"] == "confirmDeliveryDetails" and sent.delivery_state == "sent"


def test_amazon_rules_are_kept_before_the_message_leaves(
    client, session, make_account, make_message, make_user, amazon
):
    ticket, _ = relay_ticket(session, make_account, amazon, make_message)
    login(client, make_user("lead@example.test", role="lead"))
    response = post(
        client,
        f"/tickets/{ticket.id}/actions",
        {"action": "confirmDeliveryDetails", "text": "Write to me at seller@lampworks.example"},
        token_from=f"/tickets/{ticket.id}/actions",
    )
    assert response.status_code == 302 and amazon.replies == []
    page = client.get(f"/tickets/{ticket.id}/actions").get_data(as_text=True)
    assert "did not accept the message" in page


def test_a_reply_with_contact_details_is_refused_on_amazon_and_the_composer_says_why(
    client, session, make_account, make_message, make_user, amazon
):
    ticket, _ = relay_ticket(session, make_account, amazon, make_message)
    login(client, make_user("lead@example.test", role="lead"))
    checked = post(
        client, f"/tickets/{ticket.id}/reply/check", {"body": "Call me on +49 30 1234 5678"}, token_from="/"
    ).get_json()
    assert [v["code"] for v in checked["violations"]] == ["phone_number"]
    refused = post(
        client,
        f"/tickets/{ticket.id}/reply",
        {"body": "Mail me: me@seller.example"},
        token_from=f"/tickets/{ticket.id}",
    )
    assert refused.status_code == 422 and "Remove the e-mail address me@seller.example" in refused.get_data(
        as_text=True
    )
    assert session.scalar(sa.select(sa.func.count(Message.id)).where(Message.direction == "out")) == 0
