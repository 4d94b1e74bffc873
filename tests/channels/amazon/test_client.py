"""The SP-API client's reading of Amazon's answers: tokens, roles, quota, and LWA's refusals."""

from __future__ import annotations

import pytest

from channels.amazon.client import SpApiClient
from channels.amazon.fake import AmazonFake
from channels.amazon.settings import load_settings
from channels.base import AccountConfig, AuthError, PermissionMissing, Stream
from channels.credentials import MemoryCredentialStore


def _client(fake: AmazonFake, store: MemoryCredentialStore, **changes) -> SpApiClient:
    settings, secrets = fake.account_settings()
    store.values.update(secrets)
    account = AccountConfig(name="amazon-de", kind="amazon", settings={**settings, **changes}, base_url=fake.url)
    return SpApiClient(load_settings(account), store, "amazon-de")


@pytest.fixture
def client(fake, store):
    made = _client(fake, store)
    yield made
    made.close()


def test_the_access_token_goes_in_its_own_header_and_is_kept_with_the_secrets(fake, client, store):
    client.get_orders(after="2026-01-01T00:00:00Z", max_wait=1, pii=False)

    (refresh,) = fake.requests_to("/auth/o2/token")
    form = refresh.form()
    assert form["grant_type"] == "refresh_token"
    assert (form["client_id"], form["client_secret"]) == (fake.client_id, fake.client_secret)  # in the body
    assert "authorization" not in refresh.headers
    (call,) = fake.requests_to("/orders/v0/orders")
    assert call.headers["x-amz-access-token"] == store.values["access_token"]
    assert "authorization" not in call.headers  # no AWS signature since 2023
    assert store.values["access_token_expires_at"]


def test_a_refresh_token_amazon_did_not_rotate_is_left_alone(fake, client, store):
    before = dict(store.values)

    client.tokens.token()

    assert store.values["refresh_token"] == before["refresh_token"]
    assert store.updates == 1  # the access token and its expiry, once


def test_a_rotated_refresh_token_is_written_back(store):
    with AmazonFake(rotate_refresh_tokens=True) as fake:
        client = _client(fake, store)
        old = store.values["refresh_token"]
        try:
            client.tokens.token()
            assert store.values["refresh_token"] != old
            assert store.values["refresh_token"] in fake.issuer.refresh
            fake.expire_tokens()
            client.get_orders(after="2026-01-01T00:00:00Z", max_wait=1, pii=False)  # renews with the new one
            assert fake.token_refreshes == 2
        finally:
            client.close()


@pytest.mark.parametrize(
    ("fixture", "renewed", "error"),
    [
        ("error_expired_access_token.json", True, None),
        ("error_role_missing.json", False, PermissionMissing),
    ],
)
def test_a_403_is_an_expired_token_or_a_missing_role_by_its_details(fake, client, payload, fixture, renewed, error):
    client.tokens.token()
    refreshes = fake.token_refreshes
    fake.fail_next(403, path="/orders/v0/orders", body=payload(fixture))

    if error is None:
        client.get_orders(after="2026-01-01T00:00:00Z", max_wait=1, pii=False)
    else:
        with pytest.raises(error) as caught:
            client.get_orders(after="2026-01-01T00:00:00Z", max_wait=1, pii=False)
        assert caught.value.stream is Stream.ORDERS

    assert (fake.token_refreshes == refreshes + 1) is renewed


def test_a_token_refused_again_after_renewing_is_an_auth_error(fake, client, payload):
    client.tokens.token()
    fake.fail_next(403, path="/orders/v0/orders", body=payload("error_expired_access_token.json"), times=2)

    with pytest.raises(AuthError, match="refused again after renewing"):
        client.get_orders(after="2026-01-01T00:00:00Z", max_wait=1, pii=False)


@pytest.mark.parametrize(
    ("fixture", "status", "says"),
    [
        ("lwa_invalid_grant.json", 400, "authorise the app again in Seller Central"),
        ("lwa_invalid_client.json", 401, "check the app's LWA credentials"),
    ],
)
def test_lwa_refusals_say_what_to_do(fake, client, payload, fixture, status, says):
    fake.fail_next(status, path="/auth/o2/token", body=payload(fixture))

    with pytest.raises(AuthError, match=says):
        client.tokens.token()


def test_a_wrong_client_secret_is_refused_by_lwa(fake, store):
    client = _client(fake, store)
    store.values["client_secret"] = "amzn1.oa2-cs.v1.not-it"
    try:
        with pytest.raises(AuthError, match="Client authentication failed"):
            client.tokens.token()
    finally:
        client.close()


def test_the_bucket_takes_the_rate_amazon_says(fake, client):
    fake.set_usage_plans({"getOrders": (0.25, 20)})

    client.get_orders(after="2026-01-01T00:00:00Z", max_wait=1, pii=False)

    assert client.plans.bucket("getOrders").rate == 0.25


def test_buyer_data_comes_only_with_a_restricted_data_token_for_the_path(fake, client):
    order_id = fake.add_order(status="Unshipped")
    fake.settle()
    client.use_rdt = False

    plain = client.get_order(order_id, max_wait=1)
    client.use_rdt = True
    restricted = client.get_order(order_id, max_wait=1)

    assert plain["BuyerInfo"] == {}
    assert set(plain["ShippingAddress"]) <= {"City", "StateOrRegion", "PostalCode", "CountryCode"}
    assert restricted["BuyerInfo"]["BuyerEmail"] == fake.orders[order_id].email
    assert restricted["ShippingAddress"]["AddressLine1"]
    (rdt,) = fake.requests_to("/tokens/2021-03-01/restrictedDataToken")
    assert rdt.json() == {
        "restrictedResources": [
            {"method": "GET", "path": f"/orders/v0/orders/{order_id}", "dataElements": ["buyerInfo", "shippingAddress"]}
        ]
    }
