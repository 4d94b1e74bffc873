"""The Shopify connector against its loopback fake: paging, cursors, tokens, faults, look-ups, health."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from channels.base import (
    AuthError,
    Capability,
    DiagnosisCode,
    NotSupported,
    OutboundReply,
    Party,
    PermissionMissing,
    RateLimited,
    Stream,
    TransientChannelError,
)
from channels.shopify import queries
from channels.shopify.connector import ShopifyConnector
from channels.shopify.mapping import parse_order

from .conftest import drain, load

GRAPHQL = "/admin/api/2026-01/graphql.json"


def numbers(orders) -> list[str]:
    return [o.order_number for o in orders]


# --- reading ---------------------------------------------------------------------------------------


def test_first_fetch_reads_every_order_with_its_customer(fake, connect):
    fake.seed(orders=30)
    page = connect().fetch(None)
    assert numbers(page.orders) == [f"#{n}" for n in range(1001, 1031)]  # oldest change first
    assert page.more is False
    assert page.messages == []  # Shopify has no buyer messages: they come by e-mail
    customers = {o.buyer.platform_id for o in page.orders if o.buyer.platform_id}
    assert {c.party.platform_id for c in page.customers} == customers
    for customer in page.customers:
        assert customer.platform == "shopify"
        assert customer.party.email
    assert all(o.updated_at and o.updated_at.tzinfo is UTC for o in page.orders)


def test_pages_are_bounded_by_the_limit_and_by_query_cost(fake, connect):
    fake.seed(orders=60)
    connector = connect()
    page = connector.fetch(None, limit=7)
    assert len(page.orders) == 7
    assert page.more is True
    orders, _ = drain(connector, page.cursor, limit=7)
    assert numbers(page.orders + orders) == [f"#{n}" for n in range(1001, 1061)]
    sent = [json.loads(r.body)["variables"] for r in fake.requests_to(GRAPHQL)]
    assert all(1 <= v["first"] <= queries.PAGE_MAX for v in sent)
    assert queries.orders_cost(queries.PAGE_MAX) <= queries.MAX_QUERY_COST < queries.orders_cost(queries.PAGE_MAX + 1)


def test_an_incremental_fetch_brings_only_what_changed(fake, connect):
    fake.seed(orders=12)
    connector = connect()
    _, cursor = drain(connector)
    assert connector.fetch(cursor).orders == []  # the overlap is re-read, but nothing is handed over twice
    fake.seed(orders=3)
    with fake.lock:
        shipped = fake.store.orders[fake.store.by_name["#1004"]]
        fake.store.fulfil(shipped)
    page = connector.fetch(cursor)
    assert sorted(numbers(page.orders)) == ["#1004", "#1013", "#1014", "#1015"]
    changed = next(o for o in page.orders if o.order_number == "#1004")
    assert changed.status == "paid, fulfilled"
    assert changed.tracking_number == shipped.fulfilments[0].number
    assert connector.fetch(page.cursor).orders == []


def test_the_same_state_fetched_three_times_gives_the_same_records(fake, connect):
    fake.seed(orders=25)
    connector = connect()
    pages = [connector.fetch(None, limit=10) for _ in range(3)]
    assert pages[0].orders == pages[1].orders == pages[2].orders
    assert pages[0].customers == pages[1].customers == pages[2].customers
    again = [connector.fetch(pages[0].cursor, limit=10) for _ in range(3)]
    assert again[0].orders == again[1].orders == again[2].orders
    assert set(numbers(again[0].orders)).isdisjoint(numbers(pages[0].orders))


def test_a_page_not_committed_is_read_again_not_skipped(fake, connect):
    fake.seed(orders=20)
    connector = connect()
    first = connector.fetch(None, limit=8)
    second = connector.fetch(first.cursor, limit=8)
    # The poller crashed before storing ``second``: it fetches again from the cursor it stored.
    assert connector.fetch(first.cursor, limit=8).orders == second.orders


def test_an_order_changed_while_paging_comes_again_on_a_later_page(fake, connect):
    fake.seed(orders=30)
    fake.repeat_across_page_boundary()
    orders, _ = drain(connect(), limit=10)
    seen = numbers(orders)
    assert set(seen) == {f"#{n}" for n in range(1001, 1031)}  # nothing lost
    repeated = {n for n in seen if seen.count(n) > 1}
    assert repeated  # the moved orders were handed over again, newer
    for number in repeated:
        versions = [o for o in orders if o.order_number == number]
        assert versions[-1].updated_at > versions[0].updated_at


def test_a_record_that_cannot_be_mapped_is_rejected_while_the_page_goes_on(fake, connect):
    fake.seed(orders=4)
    fake.add_malformed_record()
    fake.seed(orders=4)
    connector = connect()
    page = connector.fetch(None)
    assert len(page.orders) == 8
    [rejected] = page.rejected
    assert rejected.raw_format == "shopify.order"
    assert rejected.field == "totalPriceSet.shopMoney.amount"
    assert "34,90" in rejected.reason
    node = json.loads(rejected.raw)  # the node as received, enough to map it again once fixed
    assert node["name"] == "#1005"
    with pytest.raises(ValueError, match="amount"):
        parse_order(rejected.raw, "lampworks")
    assert connector.fetch(page.cursor).rejected == []  # not quarantined again at every poll


def test_a_page_cursor_shopify_no_longer_accepts_restarts_the_pass(fake, connect):
    fake.seed(orders=12)
    connector = connect()
    page = connector.fetch(None, limit=5)
    state = json.loads(page.cursor)
    state["after"] = "eyJub3QiOiJhIGN1cnNvciJ9"  # expired, or from an older API version
    orders, _ = drain(connector, json.dumps(state), limit=5)
    assert set(numbers(page.orders + orders)) == {f"#{n}" for n in range(1001, 1013)}
    assert not set(numbers(orders)) & set(numbers(page.orders))  # the restart skipped what was handed over


def test_a_cursor_can_start_at_a_time(fake, connect):
    fake.seed(orders=5)
    connector = connect()
    now = datetime.now(UTC)
    assert len(connector.fetch(connector.start_cursor(now - timedelta(hours=1))).orders) == 5
    assert connector.fetch(connector.start_cursor(now + timedelta(hours=1))).orders == []


def test_documented_answers_map_as_served(fake, connect):
    """The fixture files go over the wire unchanged, as Shopify would send them."""
    connector = connect()
    connector.check_connection()  # the token is fetched first; the canned answers below are for GraphQL
    fake.fail_next(200, path=GRAPHQL, body=load("graphql_orders_page.json"))
    page = connector.fetch(None, limit=3)
    assert numbers(page.orders) == ["#1042", "#1043", "LW-1044-EU"]
    assert page.more is True
    assert (
        json.loads(page.cursor)["after"] == load("graphql_orders_page.json")["data"]["orders"]["pageInfo"]["endCursor"]
    )
    fake.fail_next(200, path=GRAPHQL, body=load("graphql_orders_customer_denied.json"))
    page = connector.fetch(None)
    [order] = page.orders
    assert order.buyer == Party(email="jonas.mueller@example.de", name="Jonas Müller", country="DE")
    [problem] = page.problems
    assert (problem.stream, problem.code) == (Stream.ORDERS, DiagnosisCode.PERMISSION_MISSING)
    assert "read_customers" in problem.detail
    fake.fail_next(200, path=GRAPHQL, body=load("graphql_throttled.json"))
    with pytest.raises(RateLimited) as caught:
        connector.fetch(None)
    assert caught.value.retry_after == pytest.approx(6.0)  # (986 − 386) points at 100 a second


# --- quota and faults ------------------------------------------------------------------------------


def test_http_429_is_rate_limited_with_retry_after(fake, connect):
    fake.seed(orders=3)
    fake.rate_limit_next(retry_after=3)
    with pytest.raises(RateLimited) as caught:
        connect().fetch(None)
    assert caught.value.retry_after == 3


def test_throttled_inside_http_200_is_rate_limited_until_the_bucket_refills(fake, connect):
    fake.seed(orders=3)
    connector = connect()
    fake.quota_error_next()
    with pytest.raises(RateLimited) as caught:
        connector.fetch(None)
    # The fake leaves a quarter of the requested points: the rest comes back at 100 points a second.
    requested = queries.orders_cost(queries.PAGE_MAX)
    assert caught.value.retry_after == pytest.approx((requested - requested / 4) / 100, abs=0.1)
    assert len(connector.fetch(None).orders) == 3


def test_a_fetch_stops_before_the_cost_bucket_runs_dry(fake, connect):
    fake.seed(orders=300)
    fake.meter(maximum=2000, restore_rate=50)
    connector = connect()
    page = connector.fetch(None, limit=300)
    assert 0 < len(page.orders) < 300
    assert page.more is True  # the rest waits for the bucket; nothing was refused
    assert not any("THROTTLED" in r.body.decode() for r in fake.requests_to(GRAPHQL))


def test_a_server_error_is_transient(fake, connect):
    fake.seed(orders=2)
    connector = connect()
    connector.check_connection()
    fake.server_error_next(path=GRAPHQL)
    with pytest.raises(TransientChannelError) as caught:
        connector.fetch(None)
    assert not isinstance(caught.value, RateLimited)
    assert len(connector.fetch(None).orders) == 2


def test_a_slow_answer_beyond_the_timeout_is_transient(fake, connect):
    connector = connect(timeout_s=0.5)
    connector.check_connection()
    fake.slow_next(1.5, path=GRAPHQL)
    with pytest.raises(TransientChannelError, match="in time"):
        connector.fetch(None)


def test_an_error_after_some_pages_returns_what_was_read(fake, connect):
    fake.seed(orders=60)
    connector = connect()
    connector.check_connection()
    connector.fetch(None, limit=1)  # the token is in hand
    fake.clear_log()
    original = fake._orders
    calls = []

    def second_call_fails(*args):
        calls.append(1)
        if len(calls) == 2:
            return fake._answer([{"message": "boom", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}])
        return original(*args)

    fake._orders = second_call_fails
    page = connector.fetch(None, limit=60)
    assert len(page.orders) == queries.PAGE_MAX
    assert page.more is True
    assert numbers(connector.fetch(page.cursor, limit=60).orders)[0] == f"#{1001 + queries.PAGE_MAX}"


# --- tokens ----------------------------------------------------------------------------------------


def test_an_expired_token_is_renewed_once_and_the_call_repeated(fake, connect):
    fake.seed(orders=2)
    connector = connect()
    connector.fetch(None)
    refreshes = fake.token_refreshes
    fake.expire_tokens()
    fake.clear_log()
    assert len(connector.fetch(None).orders) == 2
    assert fake.token_refreshes == refreshes + 1
    assert [r.path for r in fake.requests] == [GRAPHQL, "/admin/oauth/access_token", GRAPHQL]


def test_rotated_refresh_tokens_are_written_back(fake, connect):
    connector = connect()
    store = connector.credentials
    first = store.get()["refresh_token"]
    connector.fetch(None)
    stored = store.get()
    assert stored["refresh_token"] != first  # Shopify replaced it; the new one is saved at once
    assert stored["access_token"].startswith("a-")
    assert datetime.fromisoformat(stored["access_token_expires_at"]) > datetime.now(UTC) + timedelta(minutes=50)
    assert datetime.fromisoformat(stored["refresh_token_expires_at"]) > datetime.now(UTC) + timedelta(days=89)
    token_request = json.loads(fake.requests_to("/admin/oauth/access_token")[0].body)
    assert token_request == {
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "grant_type": "refresh_token",
        "refresh_token": first,
    }
    fake.expire_tokens()
    connector.fetch(None)
    assert store.get()["refresh_token"] not in (first, stored["refresh_token"])


def test_revoked_credentials_are_an_auth_error(fake, connect):
    connector = connect()
    connector.fetch(None)
    fake.revoke_credentials()
    with pytest.raises(AuthError, match="connect the store again"):
        connector.fetch(None)


def test_a_non_expiring_token_is_sent_as_it_is(fake, connect):
    fake.seed(orders=2)
    connector = connect(auth="token")
    assert len(connector.fetch(None).orders) == 2
    fake.expire_tokens()  # expiring tokens only
    assert len(connector.fetch(None).orders) == 2
    assert fake.token_refreshes == 0
    fake.revoke_credentials()
    with pytest.raises(AuthError):
        connector.fetch(None)
    assert fake.requests_to("/admin/oauth/access_token") == []


def test_an_app_on_the_sellers_own_store_requests_its_own_tokens(fake, connect):
    fake.seed(orders=3)
    connector = connect(auth="app")
    assert len(connector.fetch(None).orders) == 3
    [grant] = fake.requests_to("/admin/oauth/access_token")
    assert grant.headers["content-type"] == "application/x-www-form-urlencoded"
    assert grant.form() == {
        "grant_type": "client_credentials",
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
    }
    stored = connector.credentials.get()
    assert "refresh_token" not in stored  # there is none; nothing stands in for one in the store
    assert datetime.fromisoformat(stored["access_token_expires_at"]) > datetime.now(UTC) + timedelta(hours=23)
    # The next worker finds the stored token and uses it rather than asking again.
    again = ShopifyConnector(connector.account)
    try:
        assert len(again.fetch(None).orders) == 3
        assert fake.token_refreshes == 1
        fake.expire_tokens()
        assert len(again.fetch(None).orders) == 3
        assert fake.token_refreshes == 2
        fake.revoke_credentials()
        with pytest.raises(AuthError, match="app credentials"):
            again.fetch(None)
    finally:
        again.close()


# --- permissions -----------------------------------------------------------------------------------


def test_without_read_orders_the_orders_stream_is_blocked(fake, connect):
    fake.seed(orders=2)
    fake.drop_scope(Stream.ORDERS)
    with pytest.raises(PermissionMissing, match="read_orders") as caught:
        connect().fetch(None)
    assert caught.value.stream is Stream.ORDERS


def test_without_read_customers_orders_flow_without_their_customer(fake, connect):
    fake.seed(orders=5)
    fake.drop_scope(Stream.MESSAGES)
    page = connect().fetch(None)
    assert len(page.orders) == 5
    assert page.customers == []
    assert all(o.buyer.platform_id is None and o.buyer.email for o in page.orders)  # mail still links by address
    [problem] = page.problems
    assert (problem.stream, problem.code) == (Stream.ORDERS, DiagnosisCode.PERMISSION_MISSING)
    assert "read_customers" in problem.detail


# --- one order -------------------------------------------------------------------------------------


def test_fetch_order_by_name_number_or_id(fake, connect):
    fake.seed(orders=8)
    connector = connect()
    order = fake.store.orders[fake.store.by_name["#1005"]]
    assert connector.fetch_order("#1005").order_number == "#1005"
    assert connector.fetch_order("1005").order_number == "#1005"
    by_id = connector.fetch_order(str(order.id))
    assert by_id.order_number == "#1005"
    assert by_id.total == sum(line.unit_price * line.quantity for line in by_id.lines)
    assert connector.fetch_order("#9999") is None
    queries_sent = [json.loads(r.body)["variables"]["query"] for r in fake.requests_to(GRAPHQL)]
    assert queries_sent == ["name:#1005", "name:#1005", f"id:{order.id}", "name:#9999"]


def test_no_replies_go_through_shopify(fake, connect):
    connector = connect()
    assert Capability.SEND_REPLY not in ShopifyConnector.capabilities
    with pytest.raises(NotSupported):
        connector.send_reply(OutboundReply(message_id=1, ticket_id=1, account="lampworks", to=Party(), body_text="Hi"))
    assert fake.replies == []


# --- health ----------------------------------------------------------------------------------------


def test_check_connection_ok(fake, connect):
    diagnosis = connect().check_connection()
    assert diagnosis.ok, diagnosis
    assert {c.name for c in diagnosis.checks} == {"store", "orders", "customers", "webhooks"}


def test_check_connection_refused_credentials(fake, connect):
    connector = connect()
    fake.revoke_credentials()
    assert connector.check_connection().code is DiagnosisCode.CREDENTIALS_REFUSED


@pytest.mark.parametrize(("stream", "scope"), [(Stream.ORDERS, "read_orders"), (Stream.MESSAGES, "read_customers")])
def test_check_connection_missing_scope(fake, connect, stream, scope):
    fake.drop_scope(stream)
    diagnosis = connect().check_connection()
    assert diagnosis.code is DiagnosisCode.PERMISSION_MISSING
    assert scope in diagnosis.detail
    assert "read_orders and read_customers" in diagnosis.hint


def test_check_connection_rate_limited(fake, connect):
    connector = connect()
    connector.check_connection()
    fake.quota_error_next()
    assert connector.check_connection().code is DiagnosisCode.RATE_LIMITED


def test_check_connection_unreachable(fake, connect):
    connector = connect()
    connector.check_connection()
    fake.server_error_next(path=GRAPHQL)
    assert connector.check_connection().code is DiagnosisCode.UNREACHABLE


def test_check_connection_token_of_another_store(fake, connect):
    diagnosis = connect(shop="another-store.myshopify.com").check_connection()
    assert diagnosis.code is DiagnosisCode.MISCONFIGURED
    assert "lampworks-test.myshopify.com" in diagnosis.detail


def test_check_connection_unknown_api(fake, connect):
    diagnosis = connect(base_url=fake.url + "/no-such-store").check_connection()
    assert diagnosis.code is DiagnosisCode.MISCONFIGURED


# --- webhook subscriptions -------------------------------------------------------------------------


def test_subscribe_push_subscribes_each_topic_once(fake, connect):
    connector = connect()
    url = "https://helpdesk.example.test/hooks/shopify"
    topics = connector.subscribe_push(url)
    assert topics == [
        "orders/cancelled",
        "orders/create",
        "orders/fulfilled",
        "orders/updated",
        "customers/create",
        "customers/update",
        "app/uninstalled",
    ]
    assert [(s["topic"], s["address"], s["format"]) for s in fake.subscriptions] == [
        (t.upper().replace("/", "_"), url, "JSON") for t in topics
    ]
    assert connector.subscribe_push(url) == topics  # already there: nothing new, no error
    assert len(fake.subscriptions) == len(topics)
