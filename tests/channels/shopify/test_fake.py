"""The fake keeps Shopify's own rules: token rotation with its grace, the cost limit, the error bodies."""

from __future__ import annotations

import httpx
import pytest

from channels.shopify import queries
from channels.shopify.fake import INVALID_TOKEN, ShopifyFake


def refresh(fake: ShopifyFake, token: str) -> httpx.Response:
    body = {
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "grant_type": "refresh_token",
        "refresh_token": token,
    }
    return httpx.post(fake.url + "/admin/oauth/access_token", json=body)


def graphql(fake: ShopifyFake, token: str, document: str, variables: dict) -> httpx.Response:
    return httpx.post(
        f"{fake.url}/admin/api/2026-01/graphql.json",
        json={"query": document, "variables": variables},
        headers={"X-Shopify-Access-Token": token},
    )


def test_a_replaced_refresh_token_works_until_its_replacement_is_used(fake):
    first = fake.grant()
    second = refresh(fake, first).json()["refresh_token"]
    retry = refresh(fake, first)  # the answer was lost: the old token still works
    assert retry.status_code == 200
    third = refresh(fake, retry.json()["refresh_token"])  # the replacement is used: the old one retires
    assert third.status_code == 200
    gone = refresh(fake, first)
    assert gone.status_code == 400
    assert gone.json()["error"] == "invalid_grant"
    assert second != first


def test_without_the_grace_rule_a_refresh_token_dies_on_use():
    with ShopifyFake(refresh_grace=False) as fake:
        first = fake.grant()
        assert refresh(fake, first).status_code == 200
        assert refresh(fake, first).status_code == 400


def test_refresh_tokens_end_after_ninety_days(fake):
    token = fake.grant()
    fake.advance(91 * 86400)
    assert refresh(fake, token).json()["error"] == "invalid_grant"


def test_a_wrong_client_secret_is_refused(fake):
    body = {"client_id": fake.client_id, "client_secret": "nope", "grant_type": "refresh_token", "refresh_token": "x"}
    response = httpx.post(fake.url + "/admin/oauth/access_token", json=body)
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


def test_a_wrong_token_gets_shopifys_exact_401(fake):
    response = graphql(fake, "shpat_wrong", queries.CHECK, {})
    assert response.status_code == 401
    assert response.json() == {"errors": INVALID_TOKEN}


@pytest.mark.parametrize(("first", "refused"), [(queries.PAGE_MAX, False), (queries.PAGE_MAX + 1, True), (250, True)])
def test_a_query_over_1000_points_is_refused(fake, first, refused):
    _, secrets = fake.account_settings(auth="token")
    body = graphql(fake, secrets["access_token"], queries.ORDERS, {"first": first, "after": None, "query": None}).json()
    codes = [e["extensions"]["code"] for e in body.get("errors", [])]
    assert codes == (["MAX_COST_EXCEEDED"] if refused else [])
    assert body["extensions"]["cost"]["requestedQueryCost"] == queries.orders_cost(first)


def test_the_metered_bucket_throttles_inside_http_200(fake):
    fake.seed(orders=5)
    fake.meter(maximum=1000, restore_rate=1)
    _, secrets = fake.account_settings(auth="token")
    answers = [
        graphql(fake, secrets["access_token"], queries.ORDERS, {"first": queries.PAGE_MAX, "query": None})
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert "errors" not in answers[0].json()
    throttled = answers[1].json()
    assert throttled["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert throttled["extensions"]["cost"]["actualQueryCost"] is None
