"""The Amazon fake on loopback, accounts that reach it, and the named payload files."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from channels.amazon.connector import AmazonConnector
from channels.amazon.fake import AmazonFake
from channels.amazon.settings import ORDERS_2026, ORDERS_V0
from channels.base import AccountConfig, FetchResult
from channels.credentials import MemoryCredentialStore
from channels.fake import FakeRequest

DATA = Path(__file__).resolve().parents[2] / "data" / "amazon"


@dataclass(frozen=True)
class Listing:
    """How one Orders API version lists orders: what a test looks for in the fake's request log."""

    path: str
    after: str
    token: str
    operation: str
    rate: float  # Amazon's default plan for the operation, requests per second

    def calls(self, fake: AmazonFake) -> list[FakeRequest]:
        return [r for r in fake.requests_to(self.path, "GET") if r.path == self.path]


LISTINGS = {
    ORDERS_V0: Listing("/orders/v0/orders", "LastUpdatedAfter", "NextToken", "getOrders", 0.0167),
    ORDERS_2026: Listing("/orders/2026-01-01/orders", "lastUpdatedAfter", "paginationToken", "searchOrders", 0.0056),
}


@pytest.fixture
def payload() -> Callable[[str], Any]:
    """A named file of ``tests/data/amazon``, parsed."""

    def load(name: str) -> Any:
        return json.loads((DATA / name).read_text(encoding="utf-8"))

    return load


@pytest.fixture
def fake() -> Iterator[AmazonFake]:
    with AmazonFake() as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def store() -> MemoryCredentialStore:
    return MemoryCredentialStore()


@pytest.fixture
def orders_api() -> str | None:
    """The Orders API the connectors of a test read with; None: the connector's default (a module overrides it)."""
    return None


@pytest.fixture
def make_connector(
    fake: AmazonFake, store: MemoryCredentialStore, orders_api: str | None
) -> Iterator[Callable[..., AmazonConnector]]:
    """A connector for the fake's seller; keyword arguments change settings (``None`` removes one)."""
    made: list[AmazonConnector] = []

    def make(name: str = "amazon-de", **changes: Any) -> AmazonConnector:
        settings, secrets = fake.account_settings(orders_api)
        settings.update(changes)
        settings = {k: v for k, v in settings.items() if v is not None}
        store.values.update({k: v for k, v in secrets.items() if k not in store.values})
        account = AccountConfig(
            name=name, kind="amazon", settings=settings, secrets=secrets, base_url=fake.url, platform="amazon",
            credentials=store,
        )  # fmt: skip
        connector = AmazonConnector(account)
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


@pytest.fixture
def connector(make_connector: Callable[..., AmazonConnector]) -> AmazonConnector:
    return make_connector()


def pages_of(connector: AmazonConnector, cursor: str | None = None, limit: int = 500) -> list[FetchResult]:
    """Fetch until no page is known to wait; every page."""
    pages: list[FetchResult] = []
    while len(pages) < 50:
        pages.append(connector.fetch(cursor, limit))
        cursor = pages[-1].cursor
        if not pages[-1].more:
            return pages
    raise AssertionError(f"still more after {len(pages)} pages")


def drain(connector: AmazonConnector, cursor: str | None = None) -> tuple[list[Any], str | None]:
    """Fetch until no page is known to wait; (all orders, last cursor)."""
    pages = pages_of(connector, cursor)
    return [o for page in pages for o in page.orders], pages[-1].cursor
