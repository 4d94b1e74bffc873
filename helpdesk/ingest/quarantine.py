"""Keep bad input raw, with its reason, and replay it on demand.

Raw input is kept in the format it arrived in (``raw_format``); replay asks
the registry for the parser the connector declared for that format, so the
core knows no connector's raw shape.  ``json`` is the helpdesk's own
interchange format (imports, messages that failed validation).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from channels import registry
from channels.base import InboundMessage, OrderRecord
from channels.jsonl import message_from_json, message_to_json
from helpdesk.db import utcnow
from helpdesk.events import publish
from helpdesk.ingest.models import QuarantinedInput


def _parse_json(raw: bytes, account: str | None) -> InboundMessage:
    return message_from_json(json.loads(raw))


@dataclass(frozen=True)
class RawInput:
    """Input that has not become an InboundMessage yet (or failed to)."""

    raw: bytes
    raw_format: str
    account: str | None = None


def raw_of(msg: InboundMessage) -> RawInput:
    """The raw form to keep for a message that fails validation."""
    if msg.original is not None:
        return RawInput(msg.original, msg.original_format, msg.account)
    return RawInput(json.dumps(message_to_json(msg), ensure_ascii=False).encode(), "json", msg.account)


def parse(item: RawInput) -> InboundMessage | OrderRecord:
    """Parse raw input with its format's parser (errors propagate)."""
    parser = _parse_json if item.raw_format == "json" else registry.raw_parser(item.raw_format)
    if parser is None:
        raise ValueError(f"no parser for raw format {item.raw_format!r}")
    return parser(item.raw, item.account)


def add(session: Session, item: RawInput, *, source: str, reason: str, field: str | None) -> QuarantinedInput:
    """Store ``item`` with the reason it was refused; publish input.quarantined."""
    row = QuarantinedInput(
        source=source[:64],
        raw_format=item.raw_format,
        account=item.account,
        raw=item.raw,
        reason=reason,
        field=field,
    )
    session.add(row)
    session.flush()
    publish(session, "input.quarantined", {"quarantine_id": row.id, "source": row.source, "reason": reason})
    return row


def mark_tried(rows: Iterable[QuarantinedInput], replayed_ids: set[int]) -> None:
    """Record one more attempt; replayed entries leave the pending list."""
    now = utcnow()
    for row in rows:
        row.attempts += 1
        row.last_tried_at = now
        if row.id in replayed_ids:
            row.status = "replayed"
