"""What reading orders with Orders API 2026-01-01 (the default) does its own way, against the running fake.

What both Orders APIs do alike is tested with both in ``test_fetch.py`` and ``test_check.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from channels.amazon.connector import AmazonConnector
from channels.amazon.mapping import format_time
from channels.amazon.ratelimit import GET_ORDER_2026
from channels.amazon.settings import ORDERS_2026, ORDERS_V0
from tests.channels.amazon.conftest import LISTINGS, drain, pages_of

SEARCH = LISTINGS[ORDERS_2026]


@pytest.fixture
def orders_api() -> str:
    return ORDERS_2026


def _calls(fake):
    return [r.path for r in fake.requests if r.path != "/auth/o2/token"]


def test_the_default_reads_with_orders_api_2026(fake, make_connector):
    settings, _ = fake.account_settings()

    assert "orders_api" not in settings  # the benchmark's and a new account's case: the schema's default applies
    assert make_connector(orders_api=None)._settings.orders_api == ORDERS_2026


def test_first_fetch_reads_every_order_with_its_lines_and_buyer_in_one_call(fake, connector):
    fake.seed(orders=12)

    page = connector.fetch(None)

    assert not page.more
    assert sorted(o.order_number for o in page.orders) == sorted(fake.orders)
    (search,) = SEARCH.calls(fake)
    assert _calls(fake) == [SEARCH.path]  # no getOrderItems, no restricted data token
    assert search.arg("includedData") == "BUYER,RECIPIENT,FULFILLMENT,PROCEEDS,PACKAGES"
    assert search.arg("marketplaceIds") == "A1PA6795UKMFR9" and search.arg("maxResultsPerPage") == "100"
    for record in page.orders:
        order = fake.orders[record.order_number]
        items = fake.items[record.order_number]
        assert [(line.quantity, line.unit_price * line.quantity) for line in record.lines] == [
            (i["QuantityOrdered"], Decimal(i["ItemPrice"]["Amount"])) for i in items
        ]
        merchant = order.public["FulfillmentChannel"] == "MFN"
        due = merchant and order.public["OrderStatus"] in {"Unshipped", "PartiallyShipped", "Shipped"}
        assert record.buyer.email == (fake.buyer_of(record.order_number) if due else None)  # as Amazon documents
        assert record.site == "DE"
        assert (record.carrier == "Amazon (FBA)") is (not merchant)


def test_a_first_sync_of_250_orders_costs_three_calls(fake, connector):
    fake.seed(orders=250)

    orders, cursor = drain(connector)

    assert len(orders) == 250
    assert len(SEARCH.calls(fake)) == 3  # Orders v0: 3 getOrders and 250 getOrderItems calls
    assert fake.requests_to("/orders/v0/") == []
    assert json.loads(cursor)["api"] == "2026-01-01"


def test_a_next_page_repeats_the_query_with_the_pagination_token(fake, connector):
    fake.seed(orders=23)

    pages_of(connector, limit=10)

    first, *rest = SEARCH.calls(fake)
    assert len(rest) == 2 and first.arg("paginationToken") is None
    for request in rest:  # Amazon wants the rest of the query as it was
        assert request.arg("paginationToken")
        assert request.arg("lastUpdatedAfter") == first.arg("lastUpdatedAfter")
        assert request.arg("marketplaceIds") == first.arg("marketplaceIds")


def test_without_amazons_bound_the_window_ends_no_closer_than_two_minutes_to_now(connector):
    now = datetime.now(UTC)
    orders = [{"orderId": "028-1-1", "lastUpdatedTime": format_time(now - timedelta(seconds=30))}]

    end = connector._window_end(orders, format_time(now - timedelta(days=1)))

    assert end <= format_time(datetime.now(UTC) - timedelta(minutes=2))
    assert connector._window_end([], "2026-01-05T12:00:00Z") == "2026-01-05T12:00:00Z"


def test_without_buyer_data_switched_on_the_buyer_is_not_asked_for(fake, make_connector):
    fake.seed(orders=3)

    make_connector(use_restricted_data_token=False).fetch(None)

    assert SEARCH.calls(fake)[0].arg("includedData") == "RECIPIENT,FULFILLMENT,PROCEEDS,PACKAGES"


def test_fetch_order_is_one_get_order_call(fake, connector):
    fake.seed(orders=3)
    number = next(iter(fake.orders))

    record = connector.fetch_order(number)

    assert record is not None and len(record.lines) == len(fake.items[number])
    assert _calls(fake) == [f"{SEARCH.path}/{number}"]  # no getOrderItems
    assert fake.requests[-1].arg("includedData") == "BUYER,RECIPIENT,FULFILLMENT,PROCEEDS,PACKAGES"


def test_a_shipped_merchant_order_brings_its_carrier_and_tracking_number(fake, connector):
    number = fake.add_order(status="Unshipped", fulfilment="MFN", marketplace_id="A1PA6795UKMFR9")
    fake.update_order(number, "Shipped")
    fake.settle()

    record = connector.fetch_order(number)

    assert record is not None and record.status == "Shipped"
    assert record.carrier == "DHL" and record.tracking_number and record.shipped_at == record.updated_at


def test_the_2026_get_order_has_its_own_bucket(fake, connector: AmazonConnector):
    fake.seed(orders=1)
    connector.api.plans.bucket("getOrder").drain()
    connector.api.plans.bucket("getOrder").adopt(0.0001)

    assert connector.fetch_order(next(iter(fake.orders))) is not None  # v0's empty getOrder bucket is not in the way
    assert connector.api.plans.bucket(GET_ORDER_2026).rate == 0.5


def test_switching_the_api_keeps_the_window_and_drops_the_other_apis_token(fake, make_connector):
    fake.seed(orders=15)
    old = make_connector(orders_api=ORDERS_V0).fetch(None, limit=10)
    assert json.loads(old.cursor)["token"] and "api" not in json.loads(old.cursor)
    fake.clear_log()

    orders, cursor = drain(make_connector(), old.cursor)

    assert {o.order_number for o in orders} == set(fake.orders)  # the window read again, with searchOrders
    assert SEARCH.calls(fake)[0].arg("paginationToken") is None
    assert json.loads(old.cursor)["after"] == SEARCH.calls(fake)[0].arg("lastUpdatedAfter")
    assert json.loads(cursor)["api"] == "2026-01-01"


def test_check_connection_reads_buyer_data_without_a_token(fake, connector):
    fake.seed(orders=6)

    diagnosis = connector.check_connection()

    assert diagnosis.ok, diagnosis
    assert "searchOrders works" in diagnosis.detail and "e-mail aliases" in diagnosis.detail
    assert fake.requests_to("/tokens/") == []


def test_check_connection_without_a_merchant_order_cannot_judge_buyer_data_and_says_so(fake, connector):
    diagnosis = connector.check_connection()

    assert diagnosis.ok, diagnosis
    assert "no recent merchant-fulfilled order to judge buyer data by" in diagnosis.detail
