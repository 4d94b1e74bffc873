"""The shared connector contract, run against the Shopify connector and its loopback fake."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

import channels.shopify.connector  # noqa: F401 - registers the kind
from channels.shopify.fake import ShopifyFake
from tests.channels.contract import ConnectorContract

pytestmark = pytest.mark.xdist_group("shopify-contract")


class TestShopifyContract(ConnectorContract):
    kind = "shopify"

    @pytest.fixture
    def fake(self) -> Iterator[ShopifyFake]:
        with ShopifyFake() as fake:
            yield fake  # type: ignore[misc]

    def known_order_number(self, fake: ShopifyFake) -> str:
        newest = fake.store.newest()
        assert newest is not None
        return newest.name

    def push_kwargs(self, fake: ShopifyFake) -> dict[str, str]:
        return {"topic": "orders/updated"}

    def stale_push(self, fake: ShopifyFake) -> tuple[dict[str, str], bytes]:
        fake.seed(orders=1)
        return fake.signed_push("orders/updated", triggered_at=fake.now() - timedelta(hours=6))
