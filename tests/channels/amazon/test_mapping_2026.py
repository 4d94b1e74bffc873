"""Orders API 2026-01-01 payloads → records, from named payload files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from channels.amazon.mapping import (
    buyer_email_withheld,
    order_record,
    order_record_2026,
    parse_raw_order_2026,
    raw_order_2026,
)
from channels.base import OrderLineRecord, Party


def _orders(payload, name="orders_2026_search_page1.json"):
    return payload(name)["orders"]


def test_unshipped_merchant_order_with_its_lines_and_buyer(payload):
    raw = _orders(payload)[0]

    record = order_record_2026(raw, "amazon-de")

    assert (record.platform, record.account, record.order_number) == ("amazon", "amazon-de", "028-6614302-5519340")
    # v0's word for the status; the grand total (lines and shipping) as Amazon states it
    assert (record.status, record.currency, record.total) == ("Unshipped", "EUR", Decimal("74.70"))
    assert record.placed_at == datetime(2026, 1, 4, 21, 7, 45, tzinfo=UTC)
    assert record.updated_at == datetime(2026, 1, 5, 8, 30, 12, tzinfo=UTC)
    assert record.site == "DE"
    # the relay alias lower-cased: the key the relay mail of the same buyer carries
    assert record.buyer == Party(email="r4xk9m2tq7bz1lp@marketplace.amazon.de", name="Jonas Weber", country="DE")
    assert record.shipping_address == {"city": "Leipzig", "postal_code": "04109", "country": "DE"}  # no street
    assert (record.carrier, record.tracking_number, record.shipped_at) == (None, None, None)
    assert record.lines == (
        OrderLineRecord("65W USB-C Ladegerät", 2, Decimal("34.90"), "CHG-65W-EU", "51873305519202"),  # unit price
        OrderLineRecord("B0TESTASI3", 1, Decimal("0"), None, "51873305519204"),  # no price, no title: the ASIN
    )


def test_the_same_order_maps_as_its_orders_v0_twin(payload):
    """An account that switches APIs keeps its customers: same buyer key, site, times and shipping parts."""
    v2026 = order_record_2026(_orders(payload)[0], "amazon-de")
    v0 = order_record(
        payload("get_orders_page1_with_restricted_data.json")["payload"]["Orders"][0],
        payload("get_order_items_page1.json")["payload"]["OrderItems"],
        "amazon-de",
    )

    same = ("order_number", "status", "currency", "placed_at", "updated_at", "buyer", "site", "shipping_address")
    assert {k: getattr(v2026, k) for k in same} == {k: getattr(v0, k) for k in same}


def test_pending_order_without_proceeds_totals_its_lines_and_has_no_buyer(payload):
    record = order_record_2026(_orders(payload)[1], "amazon-de")

    assert (record.status, record.currency, record.total) == ("Pending", "EUR", Decimal("19.98"))
    assert record.buyer == Party()
    assert record.shipping_address == {}


def test_pending_order_without_prices_takes_the_stores_currency(payload):
    raw = _orders(payload)[1]
    raw["orderItems"][0]["product"].pop("price")

    record = order_record_2026(raw, "amazon-de")

    assert (record.currency, record.total) == ("EUR", Decimal("0"))


def test_fba_order_times_with_offsets_become_utc_and_it_has_no_buyer_email(payload):
    record = order_record_2026(_orders(payload)[2], "amazon-fr")

    assert record.placed_at == datetime(2026, 1, 5, 9, 14, 27, 123000, tzinfo=UTC)
    assert record.updated_at == datetime(2026, 1, 5, 10, 20, tzinfo=UTC)
    assert (record.site, record.status, record.carrier) == ("FR", "Shipped", "Amazon (FBA)")
    # Amazon gives the buyer's e-mail for merchant-fulfilled orders only
    assert record.buyer == Party(name="Camille Martin", country="FR")


def test_yen_order_with_packages_takes_the_last_shipped_one(payload):
    record = order_record_2026(payload("orders_2026_get_order_jp_shipped.json")["order"], "amazon-jp")

    assert (record.currency, record.total, record.site, record.status) == ("JPY", Decimal("10000"), "JP", "Shipped")
    assert record.lines[0].unit_price == Decimal("3333") and record.lines[0].quantity == 3
    assert record.shipping_address == {"city": "大阪市", "postal_code": "530-0001", "country": "JP"}
    assert (record.carrier, record.tracking_number) == ("Japan Post", "JP0000000001")  # 09:00Z is after 17:30+09:00
    assert record.shipped_at == datetime(2026, 1, 3, 9, 0, tzinfo=UTC)


def test_a_status_amazon_adds_later_is_kept_as_amazon_spells_it(payload):
    raw = _orders(payload)[0]
    raw["fulfillment"]["fulfillmentStatus"] = "AWAITING_PICKUP"

    assert order_record_2026(raw, "amazon-de").status == "AWAITING_PICKUP"


@pytest.mark.parametrize(
    ("index", "reason"),
    [
        (0, r"proceeds.grandTotal.amount '12,9O' is not a number"),
        (1, "createdTime 'yesterday evening' is not an ISO 8601 time"),
        (2, "orderId is missing"),
        (3, "fulfillment.fulfillmentStatus is missing"),
        (4, r"orderItems\[0\].quantityOrdered '2' is not a whole number"),
    ],
)
def test_malformed_orders_name_the_field(payload, index, reason):
    raw = _orders(payload, "orders_2026_search_malformed.json")[index]

    with pytest.raises(ValueError, match=reason):
        order_record_2026(raw, "amazon-de")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda o: o.pop("orderItems"), "orderItems is missing"),
        (lambda o: o["orderItems"][0]["product"]["price"]["unitPrice"].pop("currencyCode"), "not a currency code"),
        (lambda o: o.update(packages=[{"carrier": "DHL", "shipTime": "soon"}]), r"packages\[0\].shipTime"),
    ],
)
def test_malformed_parts_name_the_field(payload, change, reason):
    raw = _orders(payload)[0]
    change(raw)

    with pytest.raises(ValueError, match=reason):
        order_record_2026(raw, "amazon-de")


def test_a_rejected_order_replays_from_its_raw_bytes(payload):
    raw = _orders(payload)[0]

    kept = raw_order_2026(raw)

    assert json.loads(kept) == raw  # as Amazon sent it
    assert parse_raw_order_2026(kept, "amazon-de") == order_record_2026(raw, "amazon-de")
    with pytest.raises(ValueError, match="not JSON"):
        parse_raw_order_2026(b"\xff{", "amazon-de")
    with pytest.raises(ValueError, match=r"not an amazon\.order2026 record"):
        parse_raw_order_2026(b'{"Order": {}}', "amazon-de")


def test_buyer_email_withheld_counts_only_when_no_order_due_one_has_it(payload):
    orders = _orders(payload)  # one merchant-fulfilled unshipped order with an e-mail, one pending, one FBA

    assert buyer_email_withheld(orders) == 0
    orders[0]["buyer"].pop("buyerEmail")
    assert buyer_email_withheld(orders) == 1  # the pending and the FBA order are not due one
    assert buyer_email_withheld(orders[1:]) == 0
