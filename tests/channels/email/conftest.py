"""A running fake mail server per test, and e-mail connectors built against it over loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from channels.base import AccountConfig
from channels.credentials import MemoryCredentialStore
from channels.email.connector import EmailConnector
from channels.email.fake import EmailFake


@pytest.fixture
def fake() -> Iterator[EmailFake]:
    with EmailFake() as server:
        yield server
        assert server.errors == [], "the fake IMAP server failed on its own"


def account(fake: EmailFake, **settings: Any) -> AccountConfig:
    """An account on ``fake``; ``settings`` override the fake's own (``timeout_s`` is 5 unless given)."""
    base, secrets = fake.account_settings()
    return AccountConfig(
        name="m",
        kind="email",
        settings={**base, "timeout_s": 5, **settings},
        secrets=secrets,
        credentials=MemoryCredentialStore(secrets),
    )


@pytest.fixture
def connect(fake: EmailFake) -> Iterator[Callable[..., EmailConnector]]:
    """Build connectors against the fake; every one is closed after the test."""
    made: list[EmailConnector] = []

    def make(**settings: Any) -> EmailConnector:
        connector = EmailConnector(account(fake, **settings))
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()
