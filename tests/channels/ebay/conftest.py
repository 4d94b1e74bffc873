"""Fixtures for the eBay connector's tests: a running fake and connectors built against it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from channels.base import AccountConfig
from channels.credentials import MemoryCredentialStore
from channels.ebay.connector import EbayConnector
from channels.ebay.fake import FakeEbay
from channels.ebay.settings import REST


@pytest.fixture
def fake() -> Iterator[FakeEbay]:
    server = FakeEbay().start()
    try:
        yield server
    finally:
        server.stop()


Connect = Callable[..., tuple[EbayConnector, MemoryCredentialStore]]


@pytest.fixture
def connect(fake: FakeEbay) -> Iterator[Connect]:
    """Build a connector for the fake; keyword arguments override settings (``None`` removes one)."""
    opened: list[EbayConnector] = []

    def build(messages_api: str = REST, secrets: dict[str, str] | None = None, **overrides: Any):
        fake.messages_api = messages_api
        settings, fake_secrets = fake.account_settings()
        settings.update(overrides)
        settings = {k: v for k, v in settings.items() if v is not None}
        store = MemoryCredentialStore({**fake_secrets, **(secrets or {})})
        account = AccountConfig(
            name="lampworks", kind="ebay", settings=settings, base_url=fake.url, platform="ebay", credentials=store
        )
        connector = EbayConnector(account)
        opened.append(connector)
        return connector, store

    yield build
    for connector in opened:
        connector.close()
