"""A small connector for testing the core's generic account machinery without any platform.

It reads orders from a list, diagnoses by its API key, and verifies pushes
with an HMAC over the raw body keyed by its secret — the shapes real
connectors have, with none of their wire formats.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import ClassVar

from channels import registry
from channels.base import (
    AccountConfig,
    Capability,
    Check,
    Connector,
    Diagnosis,
    DiagnosisCode,
    FetchResult,
    OrderRecord,
    Party,
    PushRejected,
    PushRequest,
    PushResult,
)
from channels.schema import ConfigSchema, Field, FieldType, base_url_field

GOOD_KEY = "key-that-works"


class PlainConnector(Connector):
    """Orders from ``ORDERS``; the cursor is how many were read."""

    kind = "test-plain"
    title = "Plain test platform"
    platforms = ("plainshop",)
    capabilities = frozenset({Capability.FETCH_ORDERS, Capability.FETCH_ORDER, Capability.PUSH})
    schema = ConfigSchema(
        (
            base_url_field("https://api.plainshop.example"),
            Field("shop_id", "Shop id", FieldType.TEXT, "Shown in the seller centre.", required=True),
            Field("page_limit", "Page limit", FieldType.INT, default=50, advanced=True),
            Field("api_key", "API key", FieldType.SECRET, "Settings → API.", required=True),
            Field("webhook_secret", "Webhook secret", FieldType.SECRET),
        )
    )
    ORDERS: ClassVar[list[str]] = []
    STATUS: ClassVar[str] = "paid"
    lookups: ClassVar[list[str]] = []

    def check_connection(self) -> Diagnosis:
        key = self.credentials.get().get("api_key")
        if key != GOOD_KEY:
            return Diagnosis.from_checks([Check("orders", DiagnosisCode.CREDENTIALS_REFUSED, "key refused")])
        return Diagnosis.from_checks([Check("orders", DiagnosisCode.OK, "orders readable")])

    def fetch(self, cursor: str | None, limit: int = 500) -> FetchResult:
        start = int(cursor or 0)
        numbers = self.ORDERS[start : start + limit]
        return FetchResult(
            messages=[],
            orders=[order(self.account.name, n) for n in numbers],
            cursor=str(start + len(numbers)),
            more=start + len(numbers) < len(self.ORDERS),
        )

    def fetch_order(self, order_number: str) -> OrderRecord | None:
        type(self).lookups.append(order_number)
        if order_number not in self.ORDERS:
            return None
        return replace(order(self.account.name, order_number), status=self.STATUS, updated_at=datetime.now(UTC))

    @classmethod
    def handle_push(cls, request: PushRequest, accounts: Sequence[AccountConfig]) -> PushResult:
        shop = request.headers.get("x-plain-shop")
        account = next((a for a in accounts if a.settings.get("shop_id") == shop), None)
        if account is None:
            raise PushRejected("unknown shop", status=401)
        secret = account.store().get().get("webhook_secret", "").encode()
        expected = hmac.new(secret, request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("x-plain-signature", "")):
            raise PushRejected("signature does not match", status=401)
        data = json.loads(request.body)
        return PushResult(
            dedupe_key=request.headers.get("x-plain-delivery"),
            orders=(order(account.name, data["order"]),),
            response=b"ok",
        )


def order(account: str, number: str) -> OrderRecord:
    return OrderRecord(
        platform="plainshop",
        account=account,
        order_number=number,
        status="paid",
        currency="EUR",
        total=Decimal("12.50"),
        updated_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        buyer=Party(platform_id=f"buyer-of-{number}", email=f"{number}@buyers.example", name="Ann Buyer"),
    )


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


registry.register(PlainConnector)
