"""Keep bad input raw, with its reason, and replay it on demand.

Raw input is kept in the format it arrived in (``raw_format``); replay asks
the registry for the parser the connector declared for that format, so the
core knows no connector's raw shape.  ``json`` is the helpdesk's own
interchange format (imports, messages that failed validation).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
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


def digest(item: RawInput) -> str:
    """What makes two inputs the same input: format, account and bytes (each length-prefixed, so none can blur)."""
    h = hashlib.sha256()
    for part in (item.raw_format.encode(), (item.account or "").encode(), item.raw):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def _seen_again(row: QuarantinedInput, reason: str, field: str | None) -> QuarantinedInput:
    row.seen_count += 1
    row.last_seen_at = utcnow()
    row.reason, row.field = reason, field  # the latest refusal is the one to fix
    row.status = "pending"  # refused again after a replay: it needs attention again
    return row


def add(session: Session, item: RawInput, *, source: str, reason: str, field: str | None) -> QuarantinedInput:
    """Keep ``item`` with the reason it was refused, once: the same input again only counts as seen again.

    Inputs arrive more than once by design (a re-import, a poll retried after a
    crash, a webhook delivered twice), so a quarantine that filed each arrival
    would show one broken mail as many and replay it many times.  Only a new
    entry publishes ``input.quarantined``.
    """
    key = digest(item)
    existing = session.scalar(sa.select(QuarantinedInput).where(QuarantinedInput.digest == key))
    if existing is not None:
        return _seen_again(existing, reason, field)
    row = QuarantinedInput(
        source=source[:64],
        raw_format=item.raw_format,
        account=item.account,
        raw=item.raw,
        reason=reason,
        field=field,
        digest=key,
    )
    try:
        with session.begin_nested():  # another process may file the same input at the same moment
            session.add(row)
    except IntegrityError:
        existing = session.scalar(sa.select(QuarantinedInput).where(QuarantinedInput.digest == key))
        assert existing is not None
        return _seen_again(existing, reason, field)
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
