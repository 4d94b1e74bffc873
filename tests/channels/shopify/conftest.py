"""A running fake Shopify per test, and connectors built against it over loopback HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from channels.base import AccountConfig
from channels.credentials import MemoryCredentialStore
from channels.shopify.connector import ShopifyConnector
from channels.shopify.fake import ShopifyFake

DATA = Path(__file__).resolve().parents[2] / "data" / "shopify"


@pytest.fixture
def fake() -> Iterator[ShopifyFake]:
    with ShopifyFake() as server:
        yield server  # type: ignore[misc]


def account(fake: ShopifyFake, name: str = "lampworks", *, auth: str = "refresh", **settings: Any) -> AccountConfig:
    """An account connected to ``fake``, its secrets in a store the test can inspect."""
    base, secrets = fake.account_settings(auth=auth)
    merged = {**base, **settings}
    return AccountConfig(
        name=name,
        kind="shopify",
        settings=merged,
        secrets=secrets,
        base_url=str(merged["base_url"]),
        platform="shopify",
        credentials=MemoryCredentialStore(secrets),
    )


@pytest.fixture
def connect(fake: ShopifyFake) -> Iterator[Callable[..., ShopifyConnector]]:
    """Build connectors against the fake (``auth="token"`` or ``"app"``); all closed afterwards."""
    made: list[ShopifyConnector] = []

    def make(**kw: Any) -> ShopifyConnector:
        connector = ShopifyConnector(account(fake, **kw))
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


def load(name: str) -> Any:
    return json.loads((DATA / name).read_bytes())


def raw(name: str) -> bytes:
    return (DATA / name).read_bytes()


def drain(connector: ShopifyConnector, cursor: str | None = None, limit: int = 500) -> tuple[list[Any], str | None]:
    """Every page until ``more`` is false: the orders in order, and the last cursor."""
    orders: list[Any] = []
    for _ in range(1000):
        page = connector.fetch(cursor, limit)
        orders += page.orders
        cursor = page.cursor
        if not page.more:
            return orders, cursor
    raise AssertionError("fetch never said it was done")
