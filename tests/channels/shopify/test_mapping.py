"""GraphQL nodes and webhook bodies → orders and customers, from named fixture files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from channels.base import Party
from channels.shopify.mapping import (
    MappingError,
    customer_from_node,
    customer_from_rest,
    order_from_node,
    order_from_rest,
    parse_order,
    status_text,
)

from .conftest import load, raw


def nodes() -> list[dict]:
    return load("graphql_orders_page.json")["data"]["orders"]["nodes"]


def test_an_order_node_becomes_the_order_a_buyer_names_in_mail():
    order = order_from_node(nodes()[0], "lampworks")
    assert order.platform == "shopify"
    assert order.account == "lampworks"
    assert order.order_number == "#1042"  # the name, as buyers write it, never the numeric id
    assert order.status == "paid, fulfilled"
    assert (order.currency, order.total) == ("EUR", Decimal("41.80"))
    assert order.placed_at == datetime(2026, 1, 4, 21, 7, 45, tzinfo=UTC)
    assert order.updated_at == datetime(2026, 1, 5, 8, 30, 12, tzinfo=UTC)
    assert order.buyer == Party(
        platform_id="7011223344556",
        email="marta.kowalska@example.pl",
        name="Marta Kowalska",
        phone="+48 555 010 203",
        country="PL",
    )
    assert [(line.sku, line.title, line.quantity, line.unit_price, line.external_id) for line in order.lines] == [
        ("LAMP-BR-70", "Brass desk lamp", 1, Decimal("34.90"), "14402211997"),
        (None, "Gift wrap", 2, Decimal("3.45"), "14402211998"),
    ]
    assert order.shipping_address == {"city": "Gdańsk", "postal_code": "80-827", "country": "PL"}
    assert (order.carrier, order.tracking_number) == ("DHL", "JJD0001234567")
    assert order.shipped_at == datetime(2026, 1, 5, 8, 29, 50, tzinfo=UTC)


def test_a_guest_order_without_personal_data_still_maps():
    order = order_from_node(nodes()[1], "lampworks")
    assert order.order_number == "#1043"
    assert order.buyer == Party()
    assert order.shipping_address == {}
    assert order.status == "pending, unfulfilled"
    assert (order.carrier, order.tracking_number, order.shipped_at) == (None, None, None)
    assert customer_from_node(nodes()[1], "lampworks") is None


def test_a_cancelled_order_in_another_currency_with_a_custom_name():
    order = order_from_node(nodes()[2], "lampworks")
    assert order.order_number == "LW-1044-EU"  # the store's own prefix and suffix are kept
    assert order.status == "cancelled, partially refunded"
    assert (order.currency, order.total) == ("JPY", Decimal("5800"))
    assert order.buyer.name == "陽菜 佐藤"
    # The latest fulfilment with tracking wins; one without tracking is passed over.
    assert (order.carrier, order.tracking_number) == ("Yamato", "481200001111")


def test_the_orders_customer_carries_the_same_keys_as_the_buyer():
    node = nodes()[0]
    customer = customer_from_node(node, "lampworks")
    order = order_from_node(node, "lampworks")
    assert customer is not None
    assert (customer.party.platform_id, customer.party.email) == (order.buyer.platform_id, order.buyer.email)
    assert customer.locale == "pl-PL"
    assert customer.updated_at == datetime(2026, 1, 4, 21, 7, 46, tzinfo=UTC)
    # Without a customer locale, the order's storefront language stands in.
    assert customer_from_node(nodes()[2], "lampworks").locale == "ja"


def test_a_webhook_order_with_the_shops_offset_is_normalised_to_utc():
    order = order_from_rest(load("webhook_orders_updated.json"), "lampworks")
    assert order.order_number == "#1042"
    assert order.placed_at == datetime(2026, 1, 4, 21, 7, 45, tzinfo=UTC)  # 22:07:45+01:00
    assert order.updated_at == datetime(2026, 1, 5, 8, 30, 12, tzinfo=UTC)  # 09:30:12+01:00
    assert order.status == "paid, unfulfilled"
    assert order.buyer == Party(
        platform_id="7011223344556",  # the same id as text as the GraphQL gid gives
        email="marta.kowalska@example.pl",
        name="Marta Kowalska",
        phone="+48555010203",
        country="PL",
    )
    assert order.total == Decimal("34.90")
    assert (order.carrier, order.tracking_number) == ("DHL", "JJD0001234567")
    assert order.shipped_at == datetime(2026, 1, 5, 8, 29, 50, tzinfo=UTC)


def test_a_webhook_order_and_its_graphql_node_are_the_same_buyer():
    rest = order_from_rest(load("webhook_orders_updated.json"), "lampworks")
    graphql = order_from_node(nodes()[0], "lampworks")
    assert (rest.order_number, rest.buyer.platform_id, rest.buyer.email) == (
        graphql.order_number,
        graphql.buyer.platform_id,
        graphql.buyer.email,
    )


def test_a_webhook_order_without_protected_customer_data():
    order = order_from_rest(load("webhook_orders_create_without_customer_data.json"), "lampworks")
    assert order.buyer == Party()
    assert order.updated_at == datetime(2026, 1, 6, 0, 2, 1, tzinfo=UTC)  # 19:02:01-05:00
    assert order.status == "authorized, partially fulfilled"
    assert order.lines[0].sku is None  # an empty SKU is no SKU


def test_a_customer_webhook():
    customer = customer_from_rest(load("webhook_customers_update.json"), "lampworks")
    assert customer.party == Party(
        platform_id="7011223344556",
        email="marta.k@example.pl",
        name="Marta Kowalska-Nowak",
        phone="+48555010203",
        country="PL",
    )
    assert customer.updated_at == datetime(2026, 1, 7, 10, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("financial", "fulfilment", "cancelled", "text"),
    [
        ("PAID", "UNFULFILLED", False, "paid, unfulfilled"),
        ("paid", None, False, "paid, unfulfilled"),
        ("partially_refunded", "partial", False, "partially refunded, partially fulfilled"),
        ("PARTIALLY_REFUNDED", "PARTIALLY_FULFILLED", False, "partially refunded, partially fulfilled"),
        ("REFUNDED", "FULFILLED", True, "cancelled, refunded"),
        (None, "FULFILLED", False, "fulfilled"),
        (None, None, True, "cancelled"),
    ],
)
def test_graphql_and_rest_statuses_read_alike(financial, fulfilment, cancelled, text):
    assert status_text(financial, fulfilment, cancelled) == text
    assert len(text) <= 40


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda n: n["totalPriceSet"]["shopMoney"].update(amount="34,90"), "totalPriceSet.shopMoney.amount"),
        (lambda n: n.update(updatedAt="yesterday"), "updatedAt"),
        (lambda n: n.update(updatedAt="2026-01-05T08:30:12"), "updatedAt"),  # no offset: cannot be placed in time
        (lambda n: n.pop("name"), "name"),
        (lambda n: n.pop("id"), "id"),
        (lambda n: n["lineItems"]["nodes"][0].update(quantity="one"), "lineItems[0].quantity"),
    ],
)
def test_a_node_that_cannot_be_mapped_names_the_field(change, field):
    node = nodes()[0]
    change(node)
    with pytest.raises(MappingError) as caught:
        order_from_node(node, "lampworks")
    assert caught.value.field == field


def test_the_raw_format_replays_both_shapes():
    node_raw = json.dumps(nodes()[0]).encode()
    assert parse_order(node_raw, "lampworks").order_number == "#1042"
    replayed = parse_order(raw("webhook_orders_updated.json"), "lampworks")
    assert (replayed.order_number, replayed.account) == ("#1042", "lampworks")
    with pytest.raises(ValueError, match="body"):
        parse_order(b"<html>", "lampworks")
