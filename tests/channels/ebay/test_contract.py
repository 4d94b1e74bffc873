"""The shared connector contract, run against the eBay connector and its loopback fake (Message API mode)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

import channels.ebay.connector  # noqa: F401 - registers the kind
from channels.ebay.fake import FakeEbay
from channels.ebay.fakedata import stamp
from tests.channels.contract import ConnectorContract

pytestmark = pytest.mark.xdist_group("ebay-contract")


class TestEbayContract(ConnectorContract):
    kind = "ebay"

    @pytest.fixture
    def fake(self) -> Iterator[FakeEbay]:
        fake = FakeEbay().start()
        try:
            yield fake
        finally:
            fake.stop()

    def assert_reply_wire(self, wire: dict[str, Any], text: str, ticket: Any) -> None:
        assert wire == {
            "conversationId": ticket.external_thread_id,
            "messageText": text,
            "messageMedia": [],
            "emailCopyToSender": False,
        }

    def known_order_number(self, fake: FakeEbay) -> str:
        return next(iter(fake.orders))

    def stale_push(self, fake: FakeEbay) -> tuple[dict[str, str], bytes]:
        return fake.signed_push(timestamp=stamp(fake.now() - timedelta(hours=2)))
