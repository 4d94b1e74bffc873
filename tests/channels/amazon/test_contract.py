"""The shared connector contract, run against the Amazon connector and its loopback fake.

Amazon's connector reads orders only (buyer messages are relay mail), sends
no free replies and is pushed nothing, so the contract's message, reply and
push cases skip themselves.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import channels.amazon.connector  # noqa: F401 - registers the kind
from channels.amazon.fake import AmazonFake
from tests.channels.contract import ConnectorContract

pytestmark = pytest.mark.xdist_group("amazon-contract")


class TestAmazonContract(ConnectorContract):
    kind = "amazon"

    @pytest.fixture
    def fake(self) -> Iterator[AmazonFake]:
        with AmazonFake() as fake:
            yield fake  # type: ignore[misc]

    def known_order_number(self, fake: AmazonFake) -> str:
        return next(reversed(fake.orders))
