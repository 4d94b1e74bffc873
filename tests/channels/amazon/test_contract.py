"""The shared connector contract, run against the Amazon connector and its loopback fake, for both Orders APIs.

Amazon's connector reads orders only (buyer messages are relay mail), sends
no free replies and is pushed nothing, so the contract's message, reply and
push cases skip themselves.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import channels.amazon.connector  # noqa: F401 - registers the kind
from channels.amazon.fake import AmazonFake
from channels.amazon.settings import ORDERS_V0
from tests.channels.contract import ConnectorContract

pytestmark = pytest.mark.xdist_group("amazon-contract")


class TestAmazonContract(ConnectorContract):
    """Orders read with the default, Orders API 2026-01-01 (``searchOrders``, lines inside each order)."""

    kind = "amazon"

    @pytest.fixture
    def fake(self) -> Iterator[AmazonFake]:
        with AmazonFake() as fake:
            yield fake  # type: ignore[misc]

    def known_order_number(self, fake: AmazonFake) -> str:
        return next(reversed(fake.orders))


class TestAmazonV0Contract(TestAmazonContract):
    """The same contract with orders read through Orders API v0 (``orders_api=v0``: getOrders, getOrderItems)."""

    @pytest.fixture
    def fake(self) -> Iterator[AmazonFake]:
        with AmazonFake(orders_api=ORDERS_V0) as fake:
            yield fake  # type: ignore[misc]
