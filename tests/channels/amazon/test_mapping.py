"""Orders API v0 and Messaging API payloads → records, from named payload files."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from channels.amazon.mapping import messaging_actions, order_lines, order_record, parse_raw_order, raw_order
from channels.base import MessagingAction, OrderLineRecord, Party


def _items(payload, *names):
    return [item for name in names for item in payload(name)["payload"]["OrderItems"]]


def test_unshipped_order_with_restricted_data(payload):
    raw = payload("get_orders_page1_with_restricted_data.json")["payload"]["Orders"][0]
    items = _items(payload, "get_order_items_page1.json", "get_order_items_page2.json")

    record = order_record(raw, items, "amazon-de")

    assert (record.platform, record.account, record.order_number) == ("amazon", "amazon-de", "028-6614302-5519340")
    assert (record.status, record.currency, record.total) == ("Unshipped", "EUR", Decimal("69.80"))
    assert record.placed_at == datetime(2026, 1, 4, 21, 7, 45, tzinfo=UTC)
    assert record.updated_at == datetime(2026, 1, 5, 8, 30, 12, tzinfo=UTC)
    assert record.site == "DE"
    # the alias, lower-cased as the relay-mail parser keys the same buyer
    assert record.buyer == Party(email="r4xk9m2tq7bz1lp@marketplace.amazon.de", name="Jonas Weber", country="DE")
    assert record.shipping_address == {"city": "Leipzig", "postal_code": "04109", "country": "DE"}  # no street
    assert record.carrier is None
    assert record.lines == (
        # ItemPrice is the whole line: 69.80 for two
        OrderLineRecord("65W USB-C Ladegerät", 2, Decimal("34.90"), "CHG-65W-EU", "51873305519202"),
        OrderLineRecord("USB-C Kabel 1 m", 3, Decimal("6.67"), "CABLE-1M", "51873305519203"),
        # no price yet, no title: the ASIN stands in
        OrderLineRecord("B0TESTASI3", 1, Decimal("0"), None, "51873305519204"),
    )


def test_pending_order_has_no_total_and_no_buyer_yet(payload):
    raw = payload("get_orders_page1_with_restricted_data.json")["payload"]["Orders"][1]
    items = [
        {"OrderItemId": "1", "Title": "Nachtlicht", "QuantityOrdered": 2,
         "ItemPrice": {"CurrencyCode": "EUR", "Amount": "19.98"}},
    ]  # fmt: skip

    record = order_record(raw, items, "amazon-de")

    assert (record.status, record.currency, record.total) == ("Pending", "EUR", Decimal("19.98"))
    assert record.buyer == Party()
    assert record.shipping_address == {}


def test_pending_order_without_prices_takes_the_stores_currency(payload):
    raw = payload("get_orders_page1_with_restricted_data.json")["payload"]["Orders"][1]

    record = order_record(raw, [{"OrderItemId": "1", "Title": "Nachtlicht", "QuantityOrdered": 1}], "amazon-de")

    assert (record.currency, record.total) == ("EUR", Decimal("0"))


def test_fba_order_times_with_offsets_and_milliseconds_become_utc(payload):
    raw = payload("get_orders_page1_with_restricted_data.json")["payload"]["Orders"][2]
    items = [{"OrderItemId": "9", "Title": "Lampe", "QuantityOrdered": 1,
              "ItemPrice": {"CurrencyCode": "EUR", "Amount": "24.50"}}]  # fmt: skip

    record = order_record(raw, items, "amazon-fr")

    assert record.placed_at == datetime(2026, 1, 5, 9, 14, 27, 123000, tzinfo=UTC)
    assert record.updated_at == datetime(2026, 1, 5, 10, 20, tzinfo=UTC)
    assert record.site == "FR"
    assert record.carrier == "Amazon (FBA)"  # fulfilled by Amazon's network: no field says so otherwise
    assert record.buyer == Party(email="k3d9w2p8q1z7x4m@marketplace.amazon.fr", country="FR")


def test_yen_lines_have_no_minor_unit(payload):
    raw = payload("get_order_jp_shipped.json")["payload"]
    items = _items(payload, "get_order_items_jpy.json")

    record = order_record(raw, items, "amazon-jp")

    assert (record.currency, record.total, record.site) == ("JPY", Decimal("10000"), "JP")
    assert record.lines[0].unit_price == Decimal("3333")
    assert record.shipping_address == {"city": "大阪市", "postal_code": "530-0001", "country": "JP"}


@pytest.mark.parametrize(
    ("index", "reason"),
    [
        (0, "OrderTotal.Amount '12,9O' is not a number"),
        (1, "PurchaseDate 'yesterday evening' is not an ISO 8601 time"),
        (2, "AmazonOrderId is missing"),
    ],
)
def test_malformed_orders_name_the_field(payload, index, reason):
    raw = payload("get_orders_page_with_malformed_order.json")["payload"]["Orders"][index]

    with pytest.raises(ValueError, match=reason):
        order_record(raw, [], "amazon-de")


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"QuantityOrdered": "2"}, r"OrderItems\[0\].QuantityOrdered '2' is not a whole number"),
        ({"QuantityOrdered": 1, "ItemPrice": {"CurrencyCode": "EUR", "Amount": "NaN"}}, "is not a number"),
        ({"QuantityOrdered": 1, "ItemPrice": {"Amount": "1.00"}}, "is not a currency code"),
    ],
)
def test_malformed_items_name_the_field(item, reason):
    with pytest.raises(ValueError, match=reason):
        order_lines([item])


def test_a_rejected_order_replays_from_its_raw_bytes(payload):
    raw = payload("get_orders_page1_with_restricted_data.json")["payload"]["Orders"][0]
    items = _items(payload, "get_order_items_page1.json")

    record = parse_raw_order(raw_order(raw, items), "amazon-de")

    assert record == order_record(raw, items, "amazon-de")


def test_a_raw_order_whose_items_were_never_read_cannot_replay(payload):
    raw = payload("get_orders_page1_with_restricted_data.json")["payload"]["Orders"][0]

    with pytest.raises(ValueError, match="OrderItems were never read"):
        parse_raw_order(raw_order(raw, None), "amazon-de")
    with pytest.raises(ValueError, match="not JSON"):
        parse_raw_order(b"\xff{", "amazon-de")


def test_messaging_actions_from_hal_links(payload):
    actions = messaging_actions(payload("get_messaging_actions_shipped.json"))

    assert actions == [
        MessagingAction("confirmDeliveryDetails", "Confirm delivery details", 2000, (0, 0)),
        MessagingAction("unexpectedProblem", "Report an unexpected problem", 2000, (0, 0)),
        MessagingAction("invoice", "Send an invoice", None, (1, 5)),
        MessagingAction("confirmCustomizationDetails", "Confirm customization details", 800, (0, 5)),
        # a message type newer than our table is still offered, by its name
        MessagingAction("sendPackageTrackingPhoto", "sendPackageTrackingPhoto", None, (0, 0)),
    ]  # "attributes" is a link, not a message


def test_empty_or_odd_hal_gives_no_actions():
    assert messaging_actions({}) == []
    assert messaging_actions({"_links": {"actions": [{"href": "/x"}, "junk", {"name": ""}]}}) == []
