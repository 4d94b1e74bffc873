"""The Amazon fake on loopback, accounts that reach it, and the named payload files."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from channels.amazon.connector import AmazonConnector
from channels.amazon.fake import AmazonFake
from channels.base import AccountConfig
from channels.credentials import MemoryCredentialStore

DATA = Path(__file__).resolve().parents[2] / "data" / "amazon"


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
def make_connector(fake: AmazonFake, store: MemoryCredentialStore) -> Iterator[Callable[..., AmazonConnector]]:
    """A connector for the fake's seller; keyword arguments change settings (``None`` removes one)."""
    made: list[AmazonConnector] = []

    def make(name: str = "amazon-de", **changes: Any) -> AmazonConnector:
        settings, secrets = fake.account_settings()
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


def drain(connector: AmazonConnector, cursor: str | None = None, pages: int = 50) -> tuple[list[Any], str | None]:
    """Fetch until no page is known to wait; (all orders, last cursor)."""
    orders: list[Any] = []
    for _ in range(pages):
        page = connector.fetch(cursor)
        orders.extend(page.orders)
        cursor = page.cursor
        if not page.more:
            return orders, cursor
    raise AssertionError(f"still more after {pages} pages")
