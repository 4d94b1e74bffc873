"""``POST /api/v1/webhooks/tickets`` in the OpenAPI document: the signed ticket webhook, described by hand.

The route is not under SpecTree's validation on purpose: it checks the
signature over the raw body before parsing anything, and a body that fails
its model is quarantined as received, for replay — so it is described here
from the same pydantic model (``channels.webhook.body.TicketDelivery``) the
connector parses with, and cannot disagree with it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from channels.webhook.body import TicketDelivery
from helpdesk.api.spec import UNVALIDATED_PATHS, ErrorBody


class TicketAccepted(BaseModel):
    ticket_id: int
    message_id: int


def _ref(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": _ref(ErrorBody)}


def _header(name: str, description: str, *, required: bool) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": required,
        "description": description,
        "schema": {"type": "string"},
    }


OPERATION: dict[str, Any] = {
    "summary": "Post a buyer message from your system (signed; no token).",
    "description": (
        "Creates the ticket, or adds the message to the ticket of its `thread_id`, through the same pipeline as "
        "every channel. Authenticated by the signature of a webhook channel account's secret, not by a token. "
        "A body that fails its schema is answered 422 naming the field and kept in quarantine for replay. "
        "Guide with signing examples: docs/api.md."
    ),
    "operationId": "post_api_v1_webhooks_tickets",
    "tags": ["signed ticket webhook"],
    "security": [],
    "parameters": [
        _header("X-Helpdesk-Key-Id", "the key id set on the webhook channel account", required=True),
        _header(
            "X-Helpdesk-Signature",
            '`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the account\'s secret>`; '
            "accepted within 5 minutes of `t`",
            required=True,
        ),
        _header(
            "Idempotency-Key", "up to 255 characters; a retry with the same key gets the first answer", required=False
        ),
    ],
    "requestBody": {"required": True, "content": _ref(TicketDelivery)},
    "responses": {
        "201": {"description": "stored: a new message", "content": _ref(TicketAccepted)},
        "200": {
            "description": "already stored (the same `external_id`): nothing changed",
            "content": _ref(TicketAccepted),
        },
        "400": _error("a stale signature or a bad Idempotency-Key"),
        "401": _error("the signature or the key id is wrong (`bad_signature`, `unknown_key`)"),
        "409": _error("a delivery with this Idempotency-Key is still running (`in_progress`)"),
        "413": _error("the body is over 1 MB"),
        "422": _error("the body does not fit the schema (`invalid_body`); kept in quarantine"),
    },
}

UNVALIDATED_PATHS["/api/v1/webhooks/tickets"] = {"post": (OPERATION, (TicketDelivery, TicketAccepted, ErrorBody))}

__all__ = ["OPERATION", "TicketAccepted"]
