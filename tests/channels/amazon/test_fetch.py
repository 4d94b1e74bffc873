"""Reading orders from the running fake over loopback HTTP: sweeps, pages, quota, faults."""

from __future__ import annotations

import json

import pytest

from channels.amazon.connector import AmazonConnector
from channels.base import (
    AuthError,
    DiagnosisCode,
    PermissionMissing,
    RateLimited,
    Stream,
    TransientChannelError,
)
from channels.registry import raw_parser
from tests.channels.amazon.conftest import drain


def test_first_fetch_reads_every_order_with_its_lines_and_buyer(fake, connector):
    fake.seed(orders=12)

    page = connector.fetch(None)

    assert not page.more
    assert page.messages == []  # buyer messages come as relay mail over the email channel
    assert sorted(o.order_number for o in page.orders) == sorted(fake.orders)
    for record in page.orders:
        assert record.lines, record.order_number
        assert sum(line.quantity for line in record.lines) == sum(
            i["QuantityOrdered"] for i in fake.items[record.order_number]
        )
        if record.status != "Pending":
            assert record.buyer.email == fake.buyer_of(record.order_number)  # the relay alias
            assert record.buyer.email.endswith("@marketplace.amazon.de")
        assert record.site == "DE"


def test_incremental_fetch_reads_only_what_changed_since_the_cursor(fake, connector):
    fake.seed(orders=5)
    first = connector.fetch(None)
    shipped = next(o.order_number for o in first.orders if o.status == "Unshipped")
    fake.seed(orders=3)
    fake.update_order(shipped, "Shipped")
    fake.settle()

    second = connector.fetch(first.cursor)

    new = set(list(fake.orders)[5:])
    assert {o.order_number for o in second.orders} == new | {shipped}
    assert next(o for o in second.orders if o.order_number == shipped).status == "Shipped"
    assert connector.fetch(second.cursor).orders == []


def test_the_window_starts_where_amazon_said_the_last_one_ended(fake, connector):
    fake.seed(orders=2)
    page = connector.fetch(None)
    fake.clear_log()

    connector.fetch(page.cursor)

    first_window = json.loads(page.cursor)["after"]
    (request,) = fake.requests_to("/orders/v0/orders", "GET")
    assert request.arg("LastUpdatedAfter") == first_window
    assert request.arg("LastUpdatedBefore") is None  # Amazon sets the bound, 2 minutes in its past


def test_three_fetches_of_the_same_state_give_the_same_records(fake, connector):
    fake.seed(orders=8)

    pages = [connector.fetch(None) for _ in range(3)]

    assert pages[0].orders == pages[1].orders == pages[2].orders
    assert pages[0].cursor == pages[1].cursor == pages[2].cursor


def test_pages_follow_next_token_and_skip_the_order_a_boundary_repeats(fake, make_connector):
    fake.seed(orders=23)
    fake.repeat_across_page_boundary()
    connector = make_connector()

    pages = []
    cursor = None
    while True:
        page = connector.fetch(cursor, limit=10)
        pages.append(page)
        cursor = page.cursor
        if not page.more:
            break

    numbers = [o.order_number for p in pages for o in p.orders]
    assert sorted(numbers) == sorted(fake.orders)  # every order once: the repeated one is not read twice
    assert len(pages) == 3
    tokens = [r.arg("NextToken") for r in fake.requests_to("/orders/v0/orders", "GET") if r.arg("NextToken")]
    assert len(tokens) == 2 and all("+" in t and "/" in t for t in tokens)  # sent URL-encoded, received intact
    item_calls = [r.path for r in fake.requests_to("/orders/v0/orders/", "GET") if r.path.endswith("/orderItems")]
    assert len(item_calls) == 23


def test_a_refused_next_token_reads_the_window_again(fake, connector):
    fake.seed(orders=15)
    first = connector.fetch(None, limit=10)
    assert first.more and json.loads(first.cursor)["token"]
    fake.expire_next_tokens()

    rest, _ = drain(connector, first.cursor)

    assert {o.order_number for o in first.orders + rest} == set(fake.orders)


def test_a_malformed_order_is_quarantined_while_the_page_goes_on(fake, connector):
    fake.seed(orders=6)
    fake.add_malformed_record()

    page = connector.fetch(None)

    assert len(page.orders) == 6
    (rejected,) = page.rejected
    assert rejected.raw_format == "amazon.order"
    assert rejected.field == "PurchaseDate"
    assert "yesterday evening" in rejected.reason
    kept = json.loads(rejected.raw)
    assert kept["Order"]["OrderTotal"] == {"CurrencyCode": "EUR", "Amount": "12,9O"}  # as Amazon sent it
    with pytest.raises(ValueError, match="PurchaseDate"):
        raw_parser("amazon.order")(rejected.raw, "amazon-de")


def test_a_page_stops_when_the_item_quota_runs_out_and_the_rest_waits_in_the_cursor(fake, make_connector):
    fake.set_usage_plans({"getOrderItems": (0.01, 4)})  # four calls, then one every 100 s
    fake.seed(orders=7)
    connector = make_connector(rate_wait_s=1)

    first = connector.fetch(None)

    assert len(first.orders) == 4
    assert first.more
    queued = json.loads(first.cursor)["queue"]
    assert [o["AmazonOrderId"] for o in queued] == [
        o for o in fake.orders if o not in {r.order_number for r in first.orders}
    ]
    fake.set_usage_plans({"getOrderItems": (100.0, 100)})  # the quota refilled (and Amazon says a new rate)
    connector.api.plans.bucket("getOrderItems").adopt(100.0)
    list_calls = len([r for r in fake.requests_to("/orders/v0/orders", "GET") if r.path == "/orders/v0/orders"])

    second = connector.fetch(first.cursor)

    assert {o.order_number for o in second.orders} == {o["AmazonOrderId"] for o in queued}
    assert not second.more
    # the queue came from the cursor, not from another getOrders call
    assert len([r for r in fake.requests_to("/orders/v0/orders", "GET") if r.path == "/orders/v0/orders"]) == list_calls


def test_amazons_429_is_rate_limited_with_its_retry_after(fake, connector):
    fake.seed(orders=1)
    fake.rate_limit_next(7, path="/orders/v0/orders")

    with pytest.raises(RateLimited) as caught:
        connector.fetch(None)

    assert caught.value.retry_after == 7
    assert "QuotaExceeded" in str(caught.value)


def test_429_without_retry_after_waits_for_one_refill_of_the_bucket(fake, connector):
    fake.seed(orders=1)
    fake.set_usage_plans({"getOrders": (0.0167, 1)})
    connector.fetch(None)  # our bucket holds 19 more of its burst of 20; Amazon's held one

    with pytest.raises(RateLimited) as caught:
        connector.fetch(None)

    assert caught.value.retry_after == pytest.approx(1 / 0.0167, rel=0.01)  # the rate Amazon's header gave


def test_an_empty_get_orders_bucket_is_a_quiet_empty_page(fake, connector):
    fake.seed(orders=1)
    connector.api.plans.bucket("getOrders").drain()
    connector.api.plans.bucket("getOrders").adopt(0.0167)

    page = connector.fetch(None)

    assert (page.orders, page.more, page.problems) == ([], False, [])
    assert fake.requests_to("/orders/v0/orders") == []


def test_server_error_is_transient(fake, connector):
    fake.seed(orders=1)
    fake.server_error_next(path="/orders/v0/orders")

    with pytest.raises(TransientChannelError, match="InternalFailure"):
        connector.fetch(None)


def test_slow_answer_beyond_the_timeout_is_transient(fake, make_connector):
    fake.seed(orders=1)
    connector = make_connector(timeout_s=0.5)
    fake.slow_next(1.5, path="/orders/v0/orders")

    with pytest.raises(TransientChannelError, match="in time"):
        connector.fetch(None)


def test_an_expired_access_token_is_renewed_once_and_the_call_repeated(fake, connector, store):
    fake.seed(orders=2)
    connector.fetch(None)
    refreshes = fake.token_refreshes
    fake.expire_tokens()  # our copy says it is valid for another hour; Amazon says 403 expired

    page = connector.fetch(None)

    assert len(page.orders) == 2
    assert fake.token_refreshes == refreshes + 1
    assert store.values["access_token"] in fake.issuer.access


def test_revoked_credentials_are_an_auth_error(fake, connector):
    fake.seed(orders=1)
    connector.fetch(None)
    fake.revoke_credentials()

    with pytest.raises(AuthError, match="authorise the app again in Seller Central"):
        connector.fetch(None)


def test_missing_orders_role_is_permission_missing(fake, connector):
    fake.drop_scope(Stream.ORDERS)

    with pytest.raises(PermissionMissing) as caught:
        connector.fetch(None)

    assert caught.value.stream is Stream.ORDERS
    assert "Access to requested resource is denied" in str(caught.value)


def test_without_restricted_roles_orders_still_flow_without_buyer_data(fake, connector):
    fake.seed(orders=4)
    fake.drop_restricted_roles()

    page = connector.fetch(None)

    assert len(page.orders) == 4
    assert all(o.buyer.email is None for o in page.orders)
    (problem,) = page.problems
    assert (problem.stream, problem.code) == (Stream.ORDERS, DiagnosisCode.PERMISSION_MISSING)
    assert "Direct-to-Consumer Delivery" in problem.detail


def test_without_restricted_data_token_orders_have_no_buyer_but_a_city(fake, make_connector):
    fake.seed(orders=6)
    connector = make_connector(use_restricted_data_token=False)

    orders, _ = drain(connector)

    assert all(o.buyer.email is None and o.buyer.name is None for o in orders)
    assert any(o.shipping_address.get("city") for o in orders)
    assert fake.requests_to("/tokens/") == []


def test_buyer_language_comes_as_customer_records(fake, make_connector):
    fake.seed(orders=6)
    connector = make_connector(buyer_language=True)

    page = connector.fetch(None)

    buyers = {o.buyer.email for o in page.orders if o.buyer.email}
    assert {c.party.email for c in page.customers} == buyers
    for customer in page.customers:
        assert (
            customer.locale
            == fake.orders[next(o.order_number for o in page.orders if o.buyer.email == customer.party.email)].locale
        )


def test_buyer_language_without_the_messaging_role_is_a_stream_problem(fake, make_connector):
    fake.seed(orders=3)
    fake.drop_scope(Stream.MESSAGES)
    connector = make_connector(buyer_language=True)

    page = connector.fetch(None)

    assert len(page.orders) == 3 and page.customers == []
    (problem,) = page.problems
    assert (problem.stream, problem.code) == (Stream.MESSAGES, DiagnosisCode.PERMISSION_MISSING)


def test_fetch_order_reads_one_order_and_none_when_amazon_has_none(fake, connector):
    fake.seed(orders=3)
    number = next(iter(fake.orders))

    record = connector.fetch_order(number)

    assert record is not None and record.order_number == number
    assert record.lines
    assert connector.fetch_order("028-0000000-0000000") is None


def test_an_unreadable_cursor_starts_a_new_sync(fake, connector):
    fake.seed(orders=2)

    page = connector.fetch('{"v": 99}')

    assert len(page.orders) == 2


def test_unusable_settings_fail_with_a_reason(fake, make_connector):
    connector: AmazonConnector = make_connector(marketplace_ids="A1PA6795UKMFR9,ATVPDKIKX0DER")

    with pytest.raises(Exception, match="one account per SP-API region"):
        connector.fetch(None)


def test_a_failure_midway_through_the_lines_keeps_what_was_read(fake, connector):
    fake.seed(orders=5)
    third = list(fake.orders)[2]
    fake.server_error_next(path=f"/orders/v0/orders/{third}/orderItems")

    first = connector.fetch(None)
    second = connector.fetch(first.cursor)

    assert [o.order_number for o in first.orders] == list(fake.orders)[:2]
    assert first.more and first.rejected == []
    assert [o.order_number for o in second.orders] == list(fake.orders)[2:]
