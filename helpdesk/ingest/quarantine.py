"""Keep bad input raw, with its reason, and replay it on demand."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from channels.base import InboundMessage
from channels.jsonl import message_from_json, message_to_json
from helpdesk.db import utcnow
from helpdesk.events import publish
from helpdesk.ingest.models import QuarantinedInput

#: raw format → parser turning stored bytes back into a message.
Parser = Callable[[bytes, str | None], InboundMessage]
_parsers: dict[str, Parser] = {}


def register_format(name: str, parser: Parser) -> None:
    """Let quarantine replay raw input of ``name`` (e.g. "email") with ``parser``."""
    _parsers[name] = parser


def _parse_json(raw: bytes, account: str | None) -> InboundMessage:
    return message_from_json(json.loads(raw))


register_format("json", _parse_json)


def _parse_email(raw: bytes, account: str | None) -> InboundMessage:
    from channels.email import parse_email

    return parse_email(raw, account=account or "")


register_format("email", _parse_email)


@dataclass(frozen=True)
class RawInput:
    """Input that has not become an InboundMessage yet (or failed to)."""

    raw: bytes
    raw_format: str
    account: str | None = None


def raw_of(msg: InboundMessage) -> RawInput:
    """The raw form to keep for a message that fails validation."""
    if msg.original is not None:
        return RawInput(msg.original, "email", msg.account)
    return RawInput(json.dumps(message_to_json(msg), ensure_ascii=False).encode(), "json", msg.account)


def parse(item: RawInput) -> InboundMessage:
    """Parse raw input with its format's parser (errors propagate)."""
    try:
        parser = _parsers[item.raw_format]
    except KeyError:
        raise ValueError(f"no parser for raw format {item.raw_format!r}") from None
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
