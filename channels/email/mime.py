"""Raw RFC 5322 bytes → :class:`~channels.base.InboundMessage`.

The stdlib parser runs with the ``compat32`` policy (through
:mod:`channels.email.msgparse`): it is several times faster than
``email.policy.default`` and never raises on the malformed headers real
mail carries.  Everything the typed policy would decode is done
here instead, tolerantly (:mod:`channels.email.headers`,
:mod:`channels.email.charsets`).

After the MIME layer, the message passes through auto-reply detection,
reply splitting, marketplace relay recognition and a language guess, so a
connector gets a finished :class:`InboundMessage` from one call.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import Message

from channels.base import AutoKind, InboundMessage, Party
from channels.email.autodetect import bounce_details, classify
from channels.email.headerblock import repair_header_block
from channels.email.headers import (
    content_hash,
    decode_header_value,
    message_ids,
    normalise_space,
    parse_address,
    parse_address_list,
    parse_date,
    received_dates,
)
from channels.email.language import guess_language
from channels.email.msgparse import message_from_bytes
from channels.email.parts import MailContent, collect_content
from channels.email.quotes import split_reply
from channels.email.relay import apply_relay
from channels.email.tree import mime_tree

__all__ = ["DEFAULT_MAX_ATTACHMENT_BYTES", "MailParseError", "parse_email"]

DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
CHANNEL = "email"

_FUTURE_SLACK = timedelta(days=1)
_HEADER_LINE = re.compile(rb"^(?:From |[!-9;-~]+[ \t]*:)")


class MailParseError(ValueError):
    """The bytes hold no usable mail; ``reason`` says exactly what is missing."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_email(
    raw: bytes,
    *,
    account: str,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    received_at: datetime | None = None,
) -> InboundMessage:
    """Parse one raw mail into an :class:`InboundMessage`.

    ``received_at`` is the time the mailbox got the mail (IMAP INTERNALDATE);
    it dates mail whose own Date and Received headers are unusable, and
    defaults to now.  Raises :class:`MailParseError` only when the bytes are
    not mail at all, or carry no sender address, no text and no attachment.
    """
    if not raw or raw.isspace():
        raise MailParseError("empty input")
    source = repair_header_block(raw.lstrip(b" \t\r\n"))
    if not _HEADER_LINE.match(source):
        raise MailParseError("not an e-mail message: no header fields (the first line is not a header)")
    msg = message_from_bytes(source)
    headers, first_values = _header_maps(msg)
    tree = mime_tree(msg, first_values)
    content = collect_content(tree, max_attachment_bytes=max_attachment_bytes, crlf=b"\r\n" in source[:4096])
    hint = content.charset
    body_text = content.body_text()
    body_html = "\n".join(content.htmls) if content.htmls else None

    name, address = _sender(headers, hint)
    subject = normalise_space(decode_header_value(_first(headers, "subject"), hint))
    if address is None and not body_text and not content.attachments:
        raise MailParseError("no sender address, no body text and no attachments")

    reply_name, reply_address = parse_address(_first(headers, "reply-to"), hint)
    meta = _meta(headers, content, hint, address, reply_address)
    auto = classify(tree, sender=address, subject=subject, text=body_text[:4000])
    if auto is AutoKind.BOUNCE:
        meta.update(bounce_details(tree))

    new_text, _ = split_reply(body_text)
    message = InboundMessage(
        channel=CHANNEL,
        account=account,
        external_id=_external_id(headers, body_text),
        sent_at=_sent_at(headers, received_at),
        sender=Party(email=address, name=name),
        body_text=body_text,
        subject=subject,
        body_html=body_html,
        stripped_text=new_text if new_text != body_text else None,
        in_reply_to=next(iter(message_ids(_first(headers, "in-reply-to"))), None),
        references=tuple(message_ids(" ".join(headers.get("references", [])))),
        attachments=tuple(content.attachments),
        auto=auto,
        original=raw,
        meta=meta,
    )
    reply_to = Party(email=reply_address, name=reply_name) if reply_address else None
    message = apply_relay(message, reply_to=reply_to)
    if message.language is None and message.auto is None:
        language = guess_language(message.stripped_text or message.body_text or message.subject)
        if language is not None:
            message = replace(message, language=language)
    return message


def _header_maps(msg: Message) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Header values by lowercased name, undecoded: all in order of appearance, and the first.

    The parser never puts white space in a field name, so the keys are the
    names ``Message.get`` compares with.
    """
    found: dict[str, list[str]] = {}
    first: dict[str, str] = {}
    for name, value in msg.raw_items():
        key = name.lower()
        text = value if isinstance(value, str) else str(value)
        values = found.get(key)
        if values is None:
            found[key] = [text]
            first[key] = text
        else:
            values.append(text)
    return found, first


def _first(headers: dict[str, list[str]], name: str) -> str:
    values = headers.get(name)
    return values[0] if values else ""


def _sender(headers: dict[str, list[str]], hint: str | None) -> tuple[str | None, str | None]:
    """The author: From, else Sender, Reply-To or a non-null Return-Path."""
    fallback_name = None
    for header in ("from", "sender", "reply-to", "return-path"):
        for value in headers.get(header, []):
            name, address = parse_address(value, hint)
            if address:
                return (name or fallback_name), address
            fallback_name = fallback_name or name
    return fallback_name, None


def _sent_at(headers: dict[str, list[str]], received_at: datetime | None) -> datetime:
    """Date header, unless missing, absurd or later than the relays saw the mail."""
    sent = parse_date(_first(headers, "date"))
    latest = None
    for stamped in received_dates(headers.get("received", [])):
        if sent is not None and sent <= stamped + _FUTURE_SLACK:
            return sent  # no need to read the other stamps: the latest is no earlier
        if latest is None or stamped > latest:
            latest = stamped
    if sent is not None and latest is None:
        return sent
    if latest is not None:
        return latest
    fallback = received_at or datetime.now(UTC)
    if fallback.tzinfo is None:
        fallback = fallback.replace(tzinfo=UTC)
    return fallback.astimezone(UTC)


def _external_id(headers: dict[str, list[str]], body_text: str) -> str:
    ids = message_ids(_first(headers, "message-id"))
    if ids:
        return ids[0]
    return content_hash(_first(headers, "from"), _first(headers, "date"), _first(headers, "subject"), body_text)


def _meta(
    headers: dict[str, list[str]],
    content: MailContent,
    hint: str | None,
    sender: str | None,
    reply_to: str | None,
) -> dict[str, str]:
    meta: dict[str, str] = {}
    for name in ("to", "cc"):
        addresses = parse_address_list(headers.get(name, []), hint)
        if addresses:
            meta[name] = ", ".join(addresses)
    if reply_to and reply_to != sender:
        meta["reply_to"] = reply_to
    if content.dropped:
        meta["dropped_attachments"] = "\n".join(content.dropped)
    return meta
