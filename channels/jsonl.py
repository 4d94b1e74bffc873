"""InboundMessage ⇄ JSON: the interchange format for imports, replays and dry runs (orders too).

One message per JSON object (one object per line in a ``.jsonl`` file).
Datetimes are ISO 8601 with an offset; attachment content is base64.  The
reader checks types and names the first field that is wrong, so a bad line
can be quarantined with a reason an admin can act on.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from channels.base import AttachmentData, AutoKind, CustomerRecord, Direction, InboundMessage, OrderRecord, Party

E = TypeVar("E", Direction, AutoKind)


class MessageFormatError(ValueError):
    """A JSON message is malformed; ``field`` names the offending key."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _str(obj: Mapping[str, Any], key: str, *, required: bool = False, path: str = "") -> str | None:
    value = obj.get(key)
    name = f"{path}{key}"
    if value is None:
        if required:
            raise MessageFormatError(name, "is required")
        return None
    if not isinstance(value, str):
        raise MessageFormatError(name, f"must be a string, not {type(value).__name__}")
    return value


def _str_list(obj: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = obj.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MessageFormatError(key, "must be a list of strings")
    return tuple(value)


def _datetime(obj: Mapping[str, Any], key: str) -> datetime:
    raw = _str(obj, key, required=True)
    assert raw is not None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise MessageFormatError(key, f"{raw!r} is not an ISO 8601 datetime") from None
    if value.tzinfo is None:
        raise MessageFormatError(key, f"{raw!r} has no UTC offset; add Z or +hh:mm")
    return value


def _party(obj: Mapping[str, Any], key: str) -> Party | None:
    raw = obj.get(key)
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise MessageFormatError(key, "must be an object")
    path = f"{key}."
    return Party(
        platform_id=_str(raw, "platform_id", path=path),
        email=_str(raw, "email", path=path),
        name=_str(raw, "name", path=path),
        phone=_str(raw, "phone", path=path),
        country=_str(raw, "country", path=path),
    )


def _attachments(obj: Mapping[str, Any]) -> tuple[AttachmentData, ...]:
    raw = obj.get("attachments")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise MessageFormatError("attachments", "must be a list")
    out = []
    for i, item in enumerate(raw):
        path = f"attachments[{i}]."
        if not isinstance(item, Mapping):
            raise MessageFormatError(f"attachments[{i}]", "must be an object")
        try:
            content = base64.b64decode(_str(item, "content_base64", required=True, path=path) or "", validate=True)
        except binascii.Error:
            raise MessageFormatError(f"{path}content_base64", "is not valid base64") from None
        out.append(
            AttachmentData(
                filename=_str(item, "filename", required=True, path=path) or "",
                content_type=_str(item, "content_type", path=path) or "application/octet-stream",
                content=content,
                content_id=_str(item, "content_id", path=path),
                inline=bool(item.get("inline", False)),
            )
        )
    return tuple(out)


def _enum(obj: Mapping[str, Any], key: str, enum: type[E]) -> E | None:
    raw = _str(obj, key)
    if raw is None:
        return None
    try:
        return enum(raw)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise MessageFormatError(key, f"{raw!r} is not one of {allowed}") from None


def message_from_json(obj: object) -> InboundMessage:
    """Build an InboundMessage from decoded JSON; MessageFormatError names the bad field."""
    if not isinstance(obj, Mapping):
        raise MessageFormatError("(message)", f"must be a JSON object, not {type(obj).__name__}")
    sender = _party(obj, "sender")
    if sender is None:
        raise MessageFormatError("sender", "is required")
    meta = obj.get("meta") or {}
    if not isinstance(meta, Mapping) or not all(isinstance(v, str) for v in meta.values()):
        raise MessageFormatError("meta", "must be an object of strings")
    return InboundMessage(
        channel=_str(obj, "channel", required=True) or "",
        account=_str(obj, "account", required=True) or "",
        external_id=_str(obj, "external_id", required=True) or "",
        sent_at=_datetime(obj, "sent_at"),
        sender=sender,
        recipient=_party(obj, "recipient"),
        body_text=_str(obj, "body_text") or "",
        platform=_str(obj, "platform"),
        external_thread_id=_str(obj, "external_thread_id"),
        subject=_str(obj, "subject") or "",
        body_html=_str(obj, "body_html"),
        stripped_text=_str(obj, "stripped_text"),
        language=_str(obj, "language"),
        site=_str(obj, "site"),
        order_refs=_str_list(obj, "order_refs"),
        in_reply_to=_str(obj, "in_reply_to"),
        references=_str_list(obj, "references"),
        attachments=_attachments(obj),
        direction=_enum(obj, "direction", Direction) or Direction.IN,
        auto=_enum(obj, "auto", AutoKind),
        meta=dict(meta),
    )


def _party_json(party: Party) -> dict[str, str]:
    return {k: v for k in Party.__slots__ if (v := getattr(party, k)) is not None}


def message_to_json(msg: InboundMessage) -> dict[str, Any]:
    """The JSON form of ``msg`` (``original`` bytes are not carried)."""
    out: dict[str, Any] = {
        "channel": msg.channel,
        "account": msg.account,
        "external_id": msg.external_id,
        "sent_at": msg.sent_at.isoformat(),
        "sender": _party_json(msg.sender),
        "body_text": msg.body_text,
        "direction": msg.direction.value,
    }
    for key in (
        "platform",
        "external_thread_id",
        "subject",
        "body_html",
        "stripped_text",
        "language",
        "site",
        "in_reply_to",
    ):
        value = getattr(msg, key)
        if value:
            out[key] = value
    if msg.recipient is not None:
        out["recipient"] = _party_json(msg.recipient)
    if msg.order_refs:
        out["order_refs"] = list(msg.order_refs)
    if msg.references:
        out["references"] = list(msg.references)
    if msg.auto is not None:
        out["auto"] = msg.auto.value
    if msg.meta:
        out["meta"] = dict(msg.meta)
    if msg.attachments:
        out["attachments"] = [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "content_base64": base64.b64encode(a.content).decode("ascii"),
                **({"content_id": a.content_id} if a.content_id else {}),
                **({"inline": True} if a.inline else {}),
            }
            for a in msg.attachments
        ]
    return out


def order_to_json(order: OrderRecord) -> dict[str, Any]:
    """The JSON form of an order (a ``"record": "order"`` line; money as decimal strings)."""
    out: dict[str, Any] = {
        "record": "order",
        "platform": order.platform,
        "account": order.account,
        "order_number": order.order_number,
        "status": order.status,
        "currency": order.currency,
        "total": str(order.total),
        "buyer": _party_json(order.buyer),
        "lines": [
            {
                "title": line.title,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
                **({"sku": line.sku} if line.sku else {}),
                **({"external_id": line.external_id} if line.external_id else {}),
            }
            for line in order.lines
        ],
    }
    for key in ("placed_at", "updated_at", "shipped_at"):
        value = getattr(order, key)
        if value is not None:
            out[key] = value.isoformat()
    for key in ("site", "carrier", "tracking_number"):
        value = getattr(order, key)
        if value:
            out[key] = value
    if order.shipping_address:
        out["shipping_address"] = dict(order.shipping_address)
    return out


def customer_to_json(customer: CustomerRecord) -> dict[str, Any]:
    """The JSON form of a platform's customer record (a ``"record": "customer"`` line)."""
    out: dict[str, Any] = {
        "record": "customer",
        "platform": customer.platform,
        "account": customer.account,
        "party": _party_json(customer.party),
    }
    if customer.locale:
        out["locale"] = customer.locale
    if customer.updated_at is not None:
        out["updated_at"] = customer.updated_at.isoformat()
    return out
