"""The fake answers as Amazon does where the connector depends on it."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import httpx
import pytest

from channels.amazon.fake import AmazonFake


def _access_token(fake: AmazonFake) -> str:
    _, secrets = fake.account_settings()
    form = {"grant_type": "refresh_token", "refresh_token": secrets["refresh_token"], "client_id": fake.client_id,
            "client_secret": fake.client_secret}  # fmt: skip
    return httpx.post(f"{fake.url}/auth/o2/token", data=form).json()["access_token"]


@pytest.fixture
def token(fake):
    return _access_token(fake)


def _get(fake: AmazonFake, token: str, path: str, **params: str) -> httpx.Response:
    return httpx.get(f"{fake.url}{path}", params=params, headers={"x-amz-access-token": token})


def test_the_window_must_end_two_minutes_in_the_past(fake, token):
    too_late = (fake.now() - timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")

    answer = _get(fake, token, "/orders/v0/orders", MarketplaceIds="A1PA6795UKMFR9",
                  LastUpdatedAfter="2026-01-01T00:00:00Z", LastUpdatedBefore=too_late)  # fmt: skip

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "InvalidInput"


def test_a_next_token_sent_without_url_encoding_cannot_be_decoded(fake, token):
    fake.seed(orders=3)
    first = _get(fake, token, "/orders/v0/orders", MarketplaceIds="A1PA6795UKMFR9",
                 LastUpdatedAfter="2020-01-01T00:00:00Z", MaxResultsPerPage="2").json()["payload"]  # fmt: skip
    next_token = first["NextToken"]
    assert {"+", "/", "="} <= set(next_token)

    raw = httpx.get(f"{fake.url}/orders/v0/orders?NextToken={next_token}", headers={"x-amz-access-token": token})
    encoded = httpx.get(f"{fake.url}/orders/v0/orders?NextToken={quote(next_token, safe='')}",
                        headers={"x-amz-access-token": token})  # fmt: skip

    assert raw.status_code == 400 and "could not decode your NextToken" in raw.json()["errors"][0]["message"]
    assert encoded.status_code == 200 and len(encoded.json()["payload"]["Orders"]) == 1
    assert first["LastUpdatedBefore"].endswith("Z")


def test_auth_failures_are_403_with_the_reason_in_details(fake, token):
    missing = httpx.get(f"{fake.url}/orders/v0/orders")
    bad = _get(fake, "Atza|forged", "/orders/v0/orders")
    fake.expire_tokens()
    expired = _get(fake, token, "/orders/v0/orders")

    assert [r.status_code for r in (missing, bad, expired)] == [403, 403, 403]
    assert [r.json()["errors"][0]["details"] for r in (missing, bad, expired)] == [
        "Access token is missing in the request header.",
        "The access token you provided is revoked, malformed or invalid.",
        "The access token you provided has expired.",
    ]
    assert "x-amzn-ratelimit-limit" not in expired.headers


def test_quota_is_429_quota_exceeded_without_retry_after(fake, token):
    fake.set_usage_plans({"getOrder": (0.5, 1)})
    fake.seed(orders=1)
    order_id = next(iter(fake.orders))

    first = _get(fake, token, f"/orders/v0/orders/{order_id}")
    second = _get(fake, token, f"/orders/v0/orders/{order_id}")

    assert first.status_code == 200 and first.headers["x-amzn-ratelimit-limit"] == "0.5"
    assert second.status_code == 429 and second.json()["errors"][0]["code"] == "QuotaExceeded"
    assert "retry-after" not in second.headers


def test_a_restricted_data_token_works_only_for_its_path(fake, token):
    fake.seed(orders=2)
    first, second = list(fake.orders)
    body = {"restrictedResources": [{"method": "GET", "path": "/orders/v0/orders/{orderId}",
                                     "dataElements": ["buyerInfo"]}]}  # fmt: skip
    rdt = httpx.post(f"{fake.url}/tokens/2021-03-01/restrictedDataToken", json=body,
                     headers={"x-amz-access-token": token}).json()["restrictedDataToken"]  # fmt: skip

    assert _get(fake, rdt, f"/orders/v0/orders/{first}").status_code == 200  # a generic path covers each order
    assert _get(fake, rdt, f"/orders/v0/orders/{second}").status_code == 200
    assert _get(fake, rdt, "/orders/v0/orders", MarketplaceIds="A1PA6795UKMFR9").status_code == 403


def test_lwa_refuses_an_unknown_refresh_token_and_a_wrong_secret(fake):
    form = {"grant_type": "refresh_token", "refresh_token": "Atzr|nope", "client_id": fake.client_id,
            "client_secret": fake.client_secret}  # fmt: skip

    grant = httpx.post(f"{fake.url}/auth/o2/token", data=form)
    client = httpx.post(f"{fake.url}/auth/o2/token", data={**form, "client_secret": "x"})

    assert (grant.status_code, grant.json()["error"]) == (400, "invalid_grant")
    assert (client.status_code, client.json()["error"]) == (401, "invalid_client")


def test_a_message_is_checked_against_its_request_schema(fake, token):
    order_id = fake.add_order(status="Unshipped")
    fake.settle()
    url = f"{fake.url}/messaging/v1/orders/{order_id}/messages/confirmOrderDetails?marketplaceIds=A1PA6795UKMFR9"
    headers = {"x-amz-access-token": token}

    empty = httpx.post(url, json={}, headers=headers)
    html = httpx.post(url, json={"text": "<b>Bitte bestätigen</b>"}, headers=headers)
    extra = httpx.post(url, json={"text": "Bitte bestätigen", "subject": "x"}, headers=headers)
    good = httpx.post(url, json={"text": "Bitte bestätigen Sie die Gravur."}, headers=headers)

    assert [r.status_code for r in (empty, html, extra)] == [400, 400, 400]
    assert good.status_code == 201
    assert len(fake.replies) == 1


def test_seeding_ten_thousand_orders_gives_distinct_orders(fake):
    fake.seed(orders=10_000)  # the poll benchmark seeds this many; its speed is measured there, not here

    assert len(fake.orders) == 10_000
    assert all(re.fullmatch(r"\d{3}-\d{7}-\d{7}", order_id) for order_id in fake.orders)  # Amazon's id shape


def test_live_traffic_adds_and_ships_orders_readable_after_amazons_delay(fake, connector):
    import random

    fake.seed(orders=5)
    first = connector.fetch(None)
    rng = random.Random(3)
    for _ in range(12):
        fake.tick(rng)
    assert connector.fetch(first.cursor).orders == []  # changed less than two minutes ago: not visible yet
    fake.advance(121)

    changed = connector.fetch(first.cursor).orders

    new = [o for o in changed if o.order_number not in {r.order_number for r in first.orders}]
    assert new and all(o.lines for o in new)
    assert len(fake.orders) == 5 + len(new)


# --- Orders API 2026-01-01 -----------------------------------------------------------------------------------

SEARCH = "/orders/2026-01-01/orders"


def _search(fake: AmazonFake, token: str, **params: str) -> httpx.Response:
    return _get(fake, token, SEARCH, **{"lastUpdatedAfter": "2020-01-01T00:00:00Z", **params})


def test_search_orders_answers_without_an_envelope_with_lines_inside(fake, token):
    fake.seed(orders=3)

    answer = _search(fake, token, maxResultsPerPage="2", includedData="FULFILLMENT,PROCEEDS")

    body = answer.json()
    assert answer.status_code == 200 and answer.headers["x-amzn-ratelimit-limit"] == "0.0056"
    assert set(body) == {"orders", "pagination", "lastUpdatedBefore"} and body["pagination"]["nextToken"]
    order = body["orders"][0]
    assert order["orderItems"] and {"orderId", "createdTime", "lastUpdatedTime", "salesChannel"} <= set(order)
    assert order["fulfillment"]["fulfillmentStatus"].isupper() and "buyer" not in order  # BUYER was not asked for
    last = _search(fake, token, includedData="FULFILLMENT", paginationToken=body["pagination"]["nextToken"]).json()
    assert len(last["orders"]) == 1 and "pagination" not in last  # the last page has none


def test_a_pagination_token_holds_only_with_its_own_query(fake, token):
    fake.seed(orders=3)
    next_token = _search(fake, token, maxResultsPerPage="1").json()["pagination"]["nextToken"]

    other_window = _search(fake, token, lastUpdatedAfter="2021-01-01T00:00:00Z", paginationToken=next_token)
    junk = _search(fake, token, paginationToken="bm9wZQ==")
    fake.advance(24 * 3600 + 1)  # "The token will expire after 24 hours."
    expired = _search(fake, _access_token(fake), paginationToken=next_token)

    assert [r.status_code for r in (other_window, junk, expired)] == [400, 400, 400]
    assert {r.json()["errors"][0]["code"] for r in (other_window, junk, expired)} == {"InvalidInput"}


def test_search_orders_refuses_what_the_model_forbids(fake, token):
    too_late = (fake.now() - timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")

    answers = [
        _search(fake, token, lastUpdatedBefore=too_late),
        _search(fake, token, createdAfter="2020-01-01T00:00:00Z"),  # both afters
        _search(fake, token, createdBefore="2021-01-01T00:00:00Z"),  # a created bound on an updated window
        _search(fake, token, includedData="BUYER,ORDER_ITEMS"),  # lines come always; there is no such dataset
        _search(fake, token, maxResultsPerPage="101"),
    ]

    assert [a.status_code for a in answers] == [400] * 5


def test_buyer_email_only_for_merchant_orders_that_are_open_or_shipped_and_only_with_the_role(fake, token):
    mfn = fake.add_order(status="Unshipped", fulfilment="MFN")
    afn = fake.add_order(status="Shipped", fulfilment="AFN")
    pending = fake.add_order(status="Pending", fulfilment="MFN")
    fake.settle()

    def buyers() -> dict[str, dict[str, str]]:
        orders = _search(fake, token, includedData="BUYER,RECIPIENT").json()["orders"]
        return {o["orderId"]: o["buyer"] for o in orders}

    seen = buyers()
    fake.drop_restricted_roles()
    without = buyers()

    assert seen[mfn]["buyerEmail"] == fake.buyer_of(mfn)
    assert "buyerEmail" not in seen[afn] and "buyerEmail" not in seen[pending]
    assert without == {mfn: {}, afn: {}, pending: {}}  # no restricted data token could change that
    assert _get(fake, token, f"{SEARCH}/{mfn}", includedData="BUYER").json()["order"]["buyer"] == {}


def test_a_v0_plan_given_alone_also_holds_for_its_2026_counterpart():
    with AmazonFake(usage_plans={"getOrders": (50.0, 100), "getOrder": (7.0, 7)}) as fake:
        assert fake.plans.bucket("searchOrders").rate == 50.0
        assert fake.plans.bucket("getOrder@2026-01-01").burst == 7
    with AmazonFake(usage_plans={"getOrders": (50.0, 100), "searchOrders": (0.0056, 20)}) as fake:
        assert fake.plans.bucket("searchOrders").rate == 0.0056
