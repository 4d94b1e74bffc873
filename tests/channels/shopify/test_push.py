"""Webhooks: signed deliveries become records; tampered, foreign and stale ones are refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from channels.base import AccountConfig, PushRejected, PushRequest, PushResult
from channels.fake import FakeRequest, FakeResponse, FakeServer
from channels.shopify.connector import ShopifyConnector
from channels.shopify.fake import ShopifyFake
from channels.shopify.signing import sign

from .conftest import account, load, raw


def request(headers: dict[str, str], body: bytes) -> PushRequest:
    return PushRequest(
        headers={k.lower(): v for k, v in headers.items()}, body=body, url="https://helpdesk.example.test/hooks/shopify"
    )


def deliver(fake: ShopifyFake, accounts: list[AccountConfig], **what: Any) -> PushResult:
    return ShopifyConnector.handle_push(request(*fake.signed_push(**what)), accounts)


@pytest.fixture
def accounts(fake: ShopifyFake) -> list[AccountConfig]:
    other = AccountConfig(
        name="other-store",
        kind="shopify",
        settings={"shop": "other-store.myshopify.com"},
        secrets={"client_secret": "shpss_other"},
    )
    return [other, account(fake, "lampworks")]


# --- accepted --------------------------------------------------------------------------------------


def test_an_order_webhook_carries_the_order_and_its_customer(fake, accounts):
    fake.seed(orders=3)
    headers, body = fake.signed_push("orders/updated", order="#1002")
    result = ShopifyConnector.handle_push(request(headers, body), accounts)
    [order] = result.orders
    assert (order.account, order.order_number) == ("lampworks", "#1002")
    stored = fake.store.orders[fake.store.by_name["#1002"]]
    assert order.updated_at == datetime.fromtimestamp(stored.updated, UTC)
    [customer] = result.customers
    assert customer.party.platform_id == order.buyer.platform_id == str(stored.customer.id)
    assert result.dedupe_key == headers["X-Shopify-Event-Id"]
    assert (result.poll, result.disable, result.rejected) == ((), (), ())


def test_a_documented_order_body_with_its_offsets(fake, accounts):
    result = deliver(fake, accounts, topic="orders/create", payload=load("webhook_orders_updated.json"))
    [order] = result.orders
    assert order.updated_at == datetime(2026, 1, 5, 8, 30, 12, tzinfo=UTC)


def test_the_body_is_verified_as_received_not_re_serialised(fake, accounts):
    body = raw("webhook_orders_updated.json")  # pretty-printed, non-ASCII, as it arrived
    headers, _ = fake.signed_push("orders/updated", payload={})
    headers["X-Shopify-Hmac-Sha256"] = sign(body, fake.client_secret)
    [order] = ShopifyConnector.handle_push(request(headers, body), accounts).orders
    assert order.shipping_address["city"] == "Gdańsk"


def test_a_customer_webhook(fake, accounts):
    result = deliver(fake, accounts, topic="customers/update", payload=load("webhook_customers_update.json"))
    [customer] = result.customers
    assert (customer.account, customer.party.email, customer.party.name) == (
        "lampworks",
        "marta.k@example.pl",
        "Marta Kowalska-Nowak",
    )
    assert result.orders == ()


def test_uninstalling_the_app_disables_the_account(fake, accounts):
    result = deliver(fake, accounts, topic="app/uninstalled", payload=load("webhook_app_uninstalled.json"))
    assert result.disable == ("lampworks",)
    assert (result.orders, result.customers, result.poll) == ((), (), ())


@pytest.mark.parametrize("topic", ["customers/data_request", "customers/redact", "shop/redact", "products/update"])
def test_privacy_and_other_topics_are_acknowledged_and_carry_nothing(fake, accounts, topic):
    payload = load("webhook_customers_redact.json") if topic == "customers/redact" else None
    result = deliver(fake, accounts, topic=topic, payload=payload)
    assert result.dedupe_key
    assert (result.orders, result.customers, result.disable, result.rejected) == ((), (), (), ())


def test_the_dedupe_key_falls_back_to_the_webhook_id(fake, accounts):
    fake.seed(orders=1)
    headers, body = fake.signed_push()
    del headers["X-Shopify-Event-Id"]
    result = ShopifyConnector.handle_push(request(headers, body), accounts)
    assert result.dedupe_key == headers["X-Shopify-Webhook-Id"]


def test_the_previous_secret_still_verifies_during_a_rotation(fake):
    fake.seed(orders=1)
    rotated = account(fake)
    rotated.store().update({"client_secret": "shpss_brand_new", "previous_client_secret": fake.client_secret})
    assert len(deliver(fake, [rotated]).orders) == 1


def test_a_retry_within_shopifys_window_is_accepted(fake, accounts):
    fake.seed(orders=1)
    four_hours_ago = datetime.now(UTC) - timedelta(hours=4)
    assert len(deliver(fake, accounts, triggered_at=four_hours_ago).orders) == 1


def test_an_order_body_that_cannot_be_mapped_is_kept_for_quarantine(fake, accounts):
    fake.seed(orders=1)
    fake.add_malformed_record()
    headers, body = fake.signed_push("orders/create")
    result = ShopifyConnector.handle_push(request(headers, body), accounts)
    [rejected] = result.rejected
    assert (rejected.raw, rejected.raw_format, rejected.field) == (body, "shopify.order", "total_price")
    assert result.orders == ()


# --- refused ---------------------------------------------------------------------------------------


def test_a_tampered_body_is_refused(fake, accounts):
    fake.seed(orders=1)
    headers, body = fake.signed_push()
    tampered = body.replace(b'"financial_status":"paid"', b'"financial_status":"refunded"')
    assert tampered != body
    with pytest.raises(PushRejected) as caught:
        ShopifyConnector.handle_push(request(headers, tampered), accounts)
    assert caught.value.status == 401


@pytest.mark.parametrize(
    "change",
    [
        lambda h: h.update({"X-Shopify-Hmac-Sha256": sign(b"{}", "shpss_guess")}),  # another secret
        lambda h: h.pop("X-Shopify-Hmac-Sha256"),
        lambda h: h.update({"X-Shopify-Shop-Domain": "unknown-store.myshopify.com"}),
        lambda h: h.update({"X-Shopify-Shop-Domain": "other-store.myshopify.com"}),  # signed for another store
        lambda h: h.pop("X-Shopify-Shop-Domain"),
    ],
)
def test_a_delivery_that_does_not_verify_for_its_store_is_refused(fake, accounts, change):
    fake.seed(orders=1)
    headers, body = fake.signed_push()
    change(headers)
    with pytest.raises(PushRejected) as caught:
        ShopifyConnector.handle_push(request(headers, body), accounts)
    assert caught.value.status == 401


@pytest.mark.parametrize("age", [timedelta(hours=6), timedelta(days=3), -timedelta(hours=1)])
def test_a_delivery_outside_the_retry_window_is_stale(fake, accounts, age):
    fake.seed(orders=1)
    with pytest.raises(PushRejected) as caught:
        deliver(fake, accounts, triggered_at=datetime.now(UTC) - age)
    assert caught.value.status == 400


def test_a_stale_delivery_with_a_bad_signature_is_refused_as_tampered(fake, accounts):
    fake.seed(orders=1)
    headers, body = fake.signed_push(triggered_at=datetime.now(UTC) - timedelta(days=2), secret="shpss_guess")
    with pytest.raises(PushRejected) as caught:
        ShopifyConnector.handle_push(request(headers, body), accounts)
    assert caught.value.status == 401


# --- over HTTP -------------------------------------------------------------------------------------


@pytest.fixture
def receiver(accounts: list[AccountConfig]) -> Iterator[tuple[FakeServer, list[PushResult]]]:
    """A loopback endpoint standing in for the helpdesk's ``POST /hooks/shopify``."""
    results: list[PushResult] = []

    def hook(req: FakeRequest) -> FakeResponse:
        try:
            result = ShopifyConnector.handle_push(request(req.headers, req.body), accounts)
        except PushRejected as exc:
            return FakeResponse(exc.status, str(exc).encode(), content_type="text/plain")
        results.append(result)
        return FakeResponse(200, result.response, content_type=result.content_type)

    server = FakeServer()
    server.add_route("POST", "/hooks/shopify", hook)
    with server:
        yield server, results


def test_push_to_delivers_a_signed_webhook_over_http(fake, receiver):
    server, results = receiver
    fake.seed(orders=2)
    response = fake.push_to(server.url + "/hooks/shopify", topic="orders/fulfilled", order="#1001")
    assert response.status_code == 200
    [result] = results
    assert [o.order_number for o in result.orders] == ["#1001"]
    [received] = server.requests
    assert {"x-shopify-topic", "x-shopify-api-version", "x-shopify-webhook-id", "x-shopify-triggered-at"} <= set(
        received.headers
    )
    assert json.loads(received.body)["name"] == "#1001"
    stale = fake.push_to(server.url + "/hooks/shopify", triggered_at=datetime.now(UTC) - timedelta(hours=8))
    assert stale.status_code == 400
