"""Amazon's Messaging API: the message types an order allows, and sending one, over loopback HTTP."""

from __future__ import annotations

import pytest

from channels.amazon.connector import AmazonConnector
from channels.amazon.fake import AmazonFake
from channels.amazon.settings import ORDERS_2026, ORDERS_V0
from channels.base import AccountConfig, AttachmentData, ChannelError, PermissionMissing, RateLimited, Stream


@pytest.fixture
def shipped(fake):
    order_id = fake.add_order(status="Shipped")
    fake.settle()
    return order_id


def test_the_actions_an_order_allows(fake, connector, shipped):
    actions = connector.messaging_actions(shipped)

    assert [a.name for a in actions] == [
        "confirmDeliveryDetails", "unexpectedProblem", "warranty", "invoice", "legalDisclosure",
    ]  # fmt: skip
    delivery = actions[0]
    assert (delivery.text_limit, delivery.attachments) == (2000, (0, 0))
    (request,) = fake.requests_to(f"/messaging/v1/orders/{shipped}")
    assert request.arg("marketplaceIds") == "A1PA6795UKMFR9"


def test_a_message_round_trip_sends_exactly_the_fields_amazon_requires(fake, connector, shipped):
    text = "Ihr Paket wurde am 5. Januar an DHL übergeben: https://www.dhl.de/de/privatkunden.html"

    result = connector.send_messaging_action(shipped, "confirmDeliveryDetails", text)

    assert fake.replies == [
        {"amazonOrderId": shipped, "action": "confirmDeliveryDetails", "marketplaceIds": "A1PA6795UKMFR9", "text": text}
    ]
    assert result.external_id.startswith("amazon-request:")
    (sent,) = fake.requests_to(f"/messaging/v1/orders/{shipped}/messages/", "POST")
    assert sent.headers["content-type"] == "application/json"


@pytest.mark.parametrize(("orders_api", "orders_path"), [(ORDERS_2026, "/orders/2026-01-01/orders"),
                                                         (ORDERS_V0, "/orders/v0/orders")])  # fmt: skip
def test_the_order_marketplace_is_found_when_the_account_sells_in_several(orders_api, orders_path):
    with AmazonFake(marketplace_ids=("A1PA6795UKMFR9", "A13V1IB3VIYZZH")) as fake:
        french = fake.add_order(status="Unshipped", marketplace_id="A13V1IB3VIYZZH")
        fake.settle()
        settings, secrets = fake.account_settings(orders_api)
        connector = AmazonConnector(AccountConfig(name="eu", kind="amazon", settings=settings, secrets=secrets))
        try:
            connector.send_messaging_action(french, "unexpectedProblem", "Le colis aura deux jours de retard.")
        finally:
            connector.close()

    assert fake.replies[0]["marketplaceIds"] == "A13V1IB3VIYZZH"
    assert fake.requests_to(f"{orders_path}/{french}")  # getOrder said where it was placed


@pytest.mark.parametrize(
    ("action", "text", "reason"),
    [
        ("confirmDeliveryDetails", "Write to me at shop@example.com", "email_address"),
        ("confirmDeliveryDetails", "Call us: +49 30 1234 5678", "phone_number"),
        ("confirmDeliveryDetails", "See https://bit.ly/3xYz", "link"),
        ("confirmDeliveryDetails", "x" * 2001, "at most 2000 characters"),
        ("confirmDeliveryDetails", "   ", "needs a text"),
        ("legalDisclosure", "Here is our notice", "takes no text"),
        ("invoice", "", "Uploads API"),
    ],
)
def test_what_amazon_would_refuse_is_refused_before_it_leaves(fake, connector, shipped, action, text, reason):
    with pytest.raises(ChannelError, match=reason):
        connector.send_messaging_action(shipped, action, text)

    assert fake.requests_to("/messaging/v1/orders/", "POST") == []


def test_the_order_number_itself_is_not_a_phone_number(fake, connector, shipped):
    connector.send_messaging_action(shipped, "unexpectedProblem", f"Bestellung {shipped}: Lieferung verzögert sich.")

    assert len(fake.replies) == 1


def test_attachments_need_the_uploads_api(fake, connector, shipped):
    invoice = AttachmentData("invoice-1042.pdf", "application/pdf", b"%PDF-1.4")

    with pytest.raises(ChannelError, match="Seller Central"):
        connector.send_messaging_action(shipped, "confirmDeliveryDetails", "Anbei die Rechnung", (invoice,))


def test_an_action_the_order_does_not_allow_is_amazons_refusal(fake, connector, shipped):
    with pytest.raises(ChannelError, match="not available for this order"):
        connector.send_messaging_action(shipped, "confirmCustomizationDetails", "Welcher Name soll graviert werden?")


def test_without_the_buyer_communication_role_messaging_is_permission_missing(fake, connector, shipped):
    fake.drop_scope(Stream.MESSAGES)

    with pytest.raises(PermissionMissing):
        connector.messaging_actions(shipped)


def test_an_unknown_order_has_no_actions(fake, connector):
    with pytest.raises(ChannelError, match="no order 028-0000000-0000000"):
        connector.messaging_actions("028-0000000-0000000")


def test_the_messaging_quota_refuses_rather_than_blocks(fake, connector, shipped):
    fake.set_usage_plans({"getMessagingActionsForOrder": (0.001, 1)})
    connector.messaging_actions(shipped)

    with pytest.raises(RateLimited) as caught:  # our bucket still holds 4 of its 5; Amazon's held one
        connector.messaging_actions(shipped)

    assert caught.value.retry_after == pytest.approx(1000)  # one refill at the rate Amazon's header gave
