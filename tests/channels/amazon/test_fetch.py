"""Reading orders from the running fake over loopback HTTP: sweeps, pages, quota, faults.

Each test runs with both Orders APIs where they behave alike (2026-01-01, the
default, and v0); ``v0_only`` marks what only v0 does (lines read order by
order, the Restricted Data Token).  What 2026-01-01 does its own way is in
``test_fetch_2026.py``.
"""

from __future__ import annotations

import json

import pytest

from channels.amazon.connector import AmazonConnector
from channels.amazon.settings import ORDERS_2026, ORDERS_V0
from channels.base import (
    AuthError,
    DiagnosisCode,
    PermissionMissing,
    RateLimited,
    Stream,
    TransientChannelError,
)
from channels.registry import raw_parser
from tests.channels.amazon.conftest import LISTINGS, Listing, drain, pages_of

v0_only = pytest.mark.parametrize("orders_api", [ORDERS_V0])


@pytest.fixture(params=[ORDERS_2026, ORDERS_V0])
def orders_api(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def listing(orders_api: str) -> Listing:
    return LISTINGS[orders_api]


@v0_only
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


def test_the_window_starts_where_amazon_said_the_last_one_ended(fake, connector, listing):
    fake.seed(orders=2)
    page = connector.fetch(None)
    fake.clear_log()

    connector.fetch(page.cursor)

    first_window = json.loads(page.cursor)["after"]
    (request,) = listing.calls(fake)
    assert request.arg(listing.after) == first_window
    assert not {"LastUpdatedBefore", "lastUpdatedBefore"} & set(request.query)  # Amazon sets the bound, 2 min back


def test_three_fetches_of_the_same_state_give_the_same_records(fake, connector):
    fake.seed(orders=8)

    pages = [connector.fetch(None) for _ in range(3)]

    assert pages[0].orders == pages[1].orders == pages[2].orders
    # the same cursor, but for where Amazon's window ended: two minutes before each call, on a running clock
    cursors = [{**json.loads(p.cursor), "after": None} for p in pages]
    assert cursors[0] == cursors[1] == cursors[2]


def test_pages_follow_the_token_and_skip_the_order_a_boundary_repeats(fake, make_connector, listing, orders_api):
    fake.seed(orders=23)
    fake.repeat_across_page_boundary()

    pages = pages_of(make_connector(), limit=10)

    numbers = [o.order_number for p in pages for o in p.orders]
    assert sorted(numbers) == sorted(fake.orders)  # every order once: the repeated one is not read twice
    assert len(pages) == 3
    tokens = [r.arg(listing.token) for r in listing.calls(fake) if r.arg(listing.token)]
    assert len(tokens) == 2 and all("+" in t and "/" in t for t in tokens)  # sent URL-encoded, received intact
    item_calls = [r.path for r in fake.requests_to("/orders/v0/orders/", "GET") if r.path.endswith("/orderItems")]
    assert len(item_calls) == (23 if orders_api == ORDERS_V0 else 0)


def test_a_refused_page_token_reads_the_window_again(fake, connector, listing):
    fake.seed(orders=15)
    first = connector.fetch(None, limit=10)
    assert first.more and json.loads(first.cursor)["token"]
    fake.expire_next_tokens()

    rest, _ = drain(connector, first.cursor)

    assert {o.order_number for o in first.orders + rest} == set(fake.orders)
    refused, again = listing.calls(fake)[1:3]
    assert refused.arg(listing.token) and again.arg(listing.token) is None


@pytest.mark.parametrize(
    ("orders_api", "raw_format", "field"),
    [(ORDERS_2026, "amazon.order2026", "createdTime"), (ORDERS_V0, "amazon.order", "PurchaseDate")],
)
def test_a_malformed_order_is_quarantined_while_the_page_goes_on(fake, connector, raw_format, field):
    fake.seed(orders=6)
    fake.add_malformed_record()

    page = connector.fetch(None)

    assert len(page.orders) == 6
    (rejected,) = page.rejected
    assert (rejected.raw_format, rejected.field) == (raw_format, field) and len(raw_format) <= 40
    assert "yesterday evening" in rejected.reason
    assert '"12,9O"' in rejected.raw.decode()  # the total as Amazon sent it
    with pytest.raises(ValueError, match=field):
        raw_parser(raw_format)(rejected.raw, "amazon-de")


@v0_only
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


def test_amazons_429_is_rate_limited_with_its_retry_after(fake, connector, listing):
    fake.seed(orders=1)
    fake.rate_limit_next(7, path=listing.path)

    with pytest.raises(RateLimited) as caught:
        connector.fetch(None)

    assert caught.value.retry_after == 7
    assert "QuotaExceeded" in str(caught.value)


def test_429_without_retry_after_waits_for_one_refill_of_the_bucket(fake, connector, listing):
    fake.seed(orders=1)
    fake.set_usage_plans({listing.operation: (listing.rate, 1)})
    connector.fetch(None)  # our bucket holds 19 more of its burst of 20; Amazon's held one

    with pytest.raises(RateLimited) as caught:
        connector.fetch(None)

    # the rate Amazon's header gave: a minute for getOrders, three for searchOrders
    assert caught.value.retry_after == pytest.approx(1 / listing.rate, rel=0.01)


def test_an_empty_listing_bucket_is_a_quiet_empty_page(fake, connector, listing):
    fake.seed(orders=1)
    connector.api.plans.bucket(listing.operation).drain()
    connector.api.plans.bucket(listing.operation).adopt(listing.rate)

    page = connector.fetch(None)

    assert (page.orders, page.more, page.problems) == ([], False, [])
    assert listing.calls(fake) == []


def test_server_error_is_transient(fake, connector, listing):
    fake.seed(orders=1)
    fake.server_error_next(path=listing.path)

    with pytest.raises(TransientChannelError, match="InternalFailure"):
        connector.fetch(None)


def test_slow_answer_beyond_the_timeout_is_transient(fake, make_connector, listing):
    fake.seed(orders=1)
    connector = make_connector(timeout_s=0.5)
    fake.slow_next(1.5, path=listing.path)

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
    fake.seed(orders=8)  # v0 is refused its restricted data token; 2026-01-01 reads merchant orders without e-mail
    fake.drop_restricted_roles()

    page = connector.fetch(None)

    assert len(page.orders) == 8
    assert all(o.buyer.email is None and o.buyer.name is None for o in page.orders)
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


@v0_only
def test_a_failure_midway_through_the_lines_keeps_what_was_read(fake, connector):
    fake.seed(orders=5)
    third = list(fake.orders)[2]
    fake.server_error_next(path=f"/orders/v0/orders/{third}/orderItems")

    first = connector.fetch(None)
    second = connector.fetch(first.cursor)

    assert [o.order_number for o in first.orders] == list(fake.orders)[:2]
    assert first.more and first.rejected == []
    assert [o.order_number for o in second.orders] == list(fake.orders)[2:]
