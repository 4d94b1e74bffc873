"""The shared connector contract, run against the eBay connector and its loopback fake (Message API mode)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

import channels.ebay.connector  # noqa: F401 - registers the kind
from channels.ebay.fake import FakeEbay
from channels.ebay.fakedata import stamp
from channels.ebay.settings import TRADING
from tests.channels.contract import ConnectorContract


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


class TestEbayTradingContract(TestEbayContract):
    """The same contract with member messages read through the Trading API (``messages_api=trading``)."""

    @pytest.fixture
    def fake(self) -> Iterator[FakeEbay]:
        fake = FakeEbay(messages_api=TRADING).start()
        try:
            yield fake
        finally:
            fake.stop()

    def assert_reply_wire(self, wire: dict[str, Any], text: str, ticket: Any) -> None:
        item_id, buyer = (ticket.external_thread_id or "").split(":", 1)
        assert wire["Body"] == text and wire["ItemID"] == item_id and wire["RecipientID"] == buyer
        assert wire["ParentMessageID"] and wire["DisplayToPublic"] == "false"

    def test_check_connection_names_a_missing_permission(self, session, fake, account) -> None:
        pytest.skip("Trading calls take no OAuth scope in the fake; whether eBay checks one for them is not known")

    def test_a_missing_permission_blocks_one_stream_and_the_others_flow(self, session, fake, account) -> None:
        pytest.skip("Trading calls take no OAuth scope in the fake; whether eBay checks one for them is not known")
