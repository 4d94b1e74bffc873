"""Step 1: check a message before it can touch the database.

Each rule names the field it guards, so a quarantined message says exactly
what to fix.  Cosmetic problems (an over-long subject, an attachment over the
size cap) are repaired and noted instead of rejecting the whole message.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

from channels.base import Direction, InboundMessage

MAX_SUBJECT = 500
MAX_KEY = 255
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


class InvalidMessage(ValueError):
    """A message failed validation; ``field`` names what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


_ONE_DAY = timedelta(days=1)


def _check_key(value: str | None, field: str, *, required: bool) -> None:
    if not value:
        if required:
            raise InvalidMessage(field, "is empty")
        return
    if len(value) > MAX_KEY:
        raise InvalidMessage(field, f"is {len(value)} characters long; at most {MAX_KEY} are allowed")
    if _CONTROL.search(value):
        raise InvalidMessage(field, "contains control characters")


def _has_text(value: str | None) -> bool:
    return bool(value) and not value.isspace()  # type: ignore[union-attr] - bool(value) excludes None


def validate(msg: InboundMessage, *, now: datetime, max_attachment_bytes: int) -> InboundMessage:
    """Return ``msg`` (possibly repaired) or raise InvalidMessage naming the field."""
    if not msg.channel:
        raise InvalidMessage("channel", "is empty")
    if not msg.account:
        raise InvalidMessage("account", "is empty")
    _check_key(msg.external_id, "external_id", required=True)
    _check_key(msg.external_thread_id, "external_thread_id", required=False)
    if not isinstance(msg.sent_at, datetime):
        raise InvalidMessage("sent_at", "is not a datetime")
    if msg.sent_at.tzinfo is None:
        raise InvalidMessage("sent_at", "has no time zone; connectors must give aware UTC datetimes")
    if msg.sent_at < _EARLIEST:
        raise InvalidMessage("sent_at", f"{msg.sent_at.isoformat()} is before 1990")
    if msg.sent_at > now + _ONE_DAY:
        raise InvalidMessage("sent_at", f"{msg.sent_at.isoformat()} is more than a day in the future")
    party_field = "sender" if msg.direction is Direction.IN else "recipient"
    party = msg.sender if msg.direction is Direction.IN else msg.recipient
    if party is None:
        raise InvalidMessage(party_field, "is missing, so no customer can be found")
    # A party without any key (mail with no usable From, say) is still a message worth answering:
    # it gets a customer record of its own instead of being refused.
    if party.email is not None and "@" not in party.email:
        raise InvalidMessage(f"{party_field}.email", f"{party.email!r} is not an e-mail address")
    _check_key(party.platform_id, f"{party_field}.platform_id", required=False)
    if not (_has_text(msg.body_text) or _has_text(msg.body_html) or msg.attachments or _has_text(msg.subject)):
        raise InvalidMessage("body_text", "is empty and there is no subject, HTML body or attachment")
    if msg.language is not None and not _LANGUAGE.match(msg.language):
        raise InvalidMessage("language", f"{msg.language!r} is not a language tag like 'de' or 'pt-BR'")
    for ref in msg.order_refs:
        if not ref or len(ref) > 64:
            raise InvalidMessage("order_refs", f"{ref!r} is not an order number (1–64 characters)")

    changes: dict[str, object] = {}
    if len(msg.subject) > MAX_SUBJECT:
        changes["subject"] = msg.subject[: MAX_SUBJECT - 1] + "…"
    if msg.attachments and any(len(a.content) > max_attachment_bytes for a in msg.attachments):
        kept = tuple(a for a in msg.attachments if len(a.content) <= max_attachment_bytes)
        dropped = [f"{a.filename} ({len(a.content)} bytes)" for a in msg.attachments if a not in kept]
        changes["attachments"] = kept
        changes["meta"] = {**msg.meta, "dropped_attachments": "; ".join(dropped)}
    return dataclasses.replace(msg, **changes) if changes else msg
