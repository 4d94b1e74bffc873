"""Signed deliveries for the webhook channel's tests: the recipe an integration follows."""

from __future__ import annotations

import json
from typing import Any

from channels.webhook.signing import sign

SECRET = "erp-signing-secret-0123456789"
URL = "/api/v1/webhooks/tickets"


def delivery(**overrides: Any) -> bytes:
    data: dict[str, Any] = {
        "external_id": "ERP-1001",
        "buyer": {"email": "jonas@example.test", "name": "Jonas Weber", "country": "DE"},
        "subject": "Wo bleibt meine Lampe?",
        "body": "Bestellung 4711 ist noch nicht da.",
        "order_number": "4711",
        "language": "de",
    }
    data.update(overrides)
    return json.dumps(data).encode()


def post(
    client: Any,
    body: bytes,
    *,
    secret: str = SECRET,
    key_id: str = "erp-main",
    t: int | None = None,
    idem: str | None = None,
    signature: str | None = None,
) -> Any:
    headers = {"X-Helpdesk-Key-Id": key_id, "X-Helpdesk-Signature": signature or sign(secret, body, t)}
    if idem:
        headers["Idempotency-Key"] = idem
    return client.post(URL, data=body, headers=headers, content_type="application/json")
