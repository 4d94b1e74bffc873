"""eBay payloads → the helpdesk's records: pure functions, no I/O.

* A Message API message (with its conversation) → :class:`InboundMessage`;
  the seller's own messages become ``Direction.OUT`` with the buyer as
  recipient.  Attached media stay links (``meta["media_urls"]``): they are
  files on eBay's or the sender's servers, fetched only if someone opens them.
* A Trading ``MemberMessageExchange`` → the buyer's question, plus one OUT
  message per answer it carries.  An answer has no id of its own, so it is
  keyed by the question and a digest of its text — the same key
  :func:`answer_id` gives the reply we sent, so our own answer read back is
  recognised instead of stored twice.
* A Fulfillment order → :class:`OrderRecord` (money as Decimal, buyer keyed
  by ``buyer.username`` like the messages).
* A Post-Order return or item-not-received inquiry → the first message of a
  thread of its own, with ``meta["thread_kind"]`` for the SLA engine.

Every mapper raises :class:`MappingError` (a ValueError naming the field) on
input it cannot use; the connector turns that into a RejectedInput.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from lxml import etree

from channels.base import Direction, InboundMessage, OrderLineRecord, OrderRecord, Party
from channels.ebay import trading
from channels.ebay.trading import Q

KIND = PLATFORM = "ebay"
CENT = Decimal("0.01")

# Raw formats (quarantine replay) of the records this connector reads.
RAW_MESSAGE = "ebay.message"
RAW_MEMBER_MESSAGE = "ebay.member_message"
RAW_ORDER = "ebay.order"
RAW_RETURN = "ebay.return"
RAW_INQUIRY = "ebay.inquiry"


class MappingError(ValueError):
    """A payload the helpdesk cannot use; ``field`` names the offending part."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field} {reason}")
        self.field = field
        self.reason = reason


def parse_time(value: object, field: str) -> datetime:
    """An eBay timestamp (ISO 8601, ``Z`` or an offset) as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        raise MappingError(field, "is missing")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise MappingError(field, f"is not an ISO 8601 time: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _required(payload: Mapping[str, Any], key: str, field: str | None = None) -> str:
    value = payload.get(key)
    if value is None or value == "":
        raise MappingError(field or key, "is missing")
    return str(value)


def _plain(text: str | None) -> str:
    """Body text with HTML entities undone (eBay escapes some; plain text must not show ``&amp;``)."""
    if not text:
        return ""
    return html.unescape(text) if "&" in text else text


def _money(value: object, field: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise MappingError(field, f"is not an amount: {value!r}") from None


# --- Message API -----------------------------------------------------------------------------------


def rest_message(
    conversation: Mapping[str, Any],
    message: Mapping[str, Any],
    *,
    account: str,
    seller: str | None,
    marketplace: str | None,
) -> InboundMessage:
    """One message of a FROM_MEMBERS conversation; OUT when its sender is the seller."""
    conversation_id = _required(conversation, "conversationId")
    message_id = _required(message, "messageId")
    sent_at = parse_time(message.get("createdDate"), "createdDate")
    sender = _required(message, "senderUsername")
    recipient = message.get("recipientUsername") or None
    outgoing = seller is not None and sender.casefold() == seller.casefold()
    meta = {"conversation_id": conversation_id, "thread_kind": "message", "api": "rest"}
    if conversation.get("referenceType") == "LISTING" and conversation.get("referenceId"):
        meta["item_id"] = str(conversation["referenceId"])
    media = message.get("messageMedia") or ()
    if media:
        meta["media_urls"] = " ".join(str(m.get("mediaUrl")) for m in media if m.get("mediaUrl"))
        meta["media_names"] = " | ".join(str(m.get("mediaName") or "") for m in media if m.get("mediaUrl"))
    return InboundMessage(
        channel=KIND,
        account=account,
        platform=PLATFORM,
        external_id=message_id,
        external_thread_id=conversation_id,
        sent_at=sent_at,
        sender=Party(platform_id=sender),
        recipient=Party(platform_id=str(recipient)) if outgoing and recipient else None,
        direction=Direction.OUT if outgoing else Direction.IN,
        subject=str(message.get("subject") or conversation.get("conversationTitle") or ""),
        body_text=_plain(message.get("messageBody")),
        site=marketplace,
        meta=meta,
    )


def message_raw(conversation: Mapping[str, Any], message: Mapping[str, Any], seller: str | None, site: str) -> bytes:
    """What quarantine keeps of a message: the message and the conversation facts needed to map it again."""
    context = {k: v for k, v in conversation.items() if k != "latestMessage"}
    return json.dumps(
        {"conversation": context, "message": message, "seller": seller, "marketplace": site}, ensure_ascii=False
    ).encode()


def parse_message_raw(raw: bytes, account: str | None) -> InboundMessage:
    data = _json(raw)
    return rest_message(
        data.get("conversation") or {},
        data.get("message") or {},
        account=account or "",
        seller=data.get("seller"),
        marketplace=data.get("marketplace"),
    )


# --- Trading GetMemberMessages ---------------------------------------------------------------------


def answer_id(question_id: str, body: str) -> str:
    """The external id of an answer to a question: the same for the reply we sent and for it read back."""
    digest = hashlib.sha256(" ".join(body.split()).encode()).hexdigest()[:16]
    return f"{question_id}-answer-{digest}"


def member_exchange(
    exchange: etree._Element, *, account: str, seller: str | None, marketplace: str | None
) -> list[InboundMessage]:
    """The buyer's message in a ``MemberMessageExchange`` and the seller's answers to it."""
    question = exchange.find(Q + "Question")
    if question is None:
        raise MappingError("Question", "is missing")
    message_id = trading.text(question, Q + "MessageID")
    if not message_id:
        raise MappingError("Question.MessageID", "is missing")
    buyer = trading.text(question, Q + "SenderID")
    if not buyer:
        raise MappingError("Question.SenderID", "is missing")
    sent_at = parse_time(trading.text(exchange, Q + "CreationDate"), "CreationDate")
    item_id = trading.text(exchange, Q + "Item/" + Q + "ItemID")
    thread = f"{item_id}:{buyer}" if item_id else f"member:{buyer}"
    meta = {"thread_kind": "message", "api": "trading", "parent_message_id": message_id}
    if item_id:
        meta["item_id"] = item_id
    for key, path in (("message_type", "MessageType"), ("question_type", "QuestionType")):
        value = trading.text(question, Q + path)
        if value:
            meta[key] = value
    subject = trading.text(question, Q + "Subject") or trading.text(exchange, Q + "Item/" + Q + "Title") or ""
    party = Party(platform_id=buyer, email=trading.text(question, Q + "SenderEmail"))
    out = [
        InboundMessage(
            channel=KIND,
            account=account,
            platform=PLATFORM,
            external_id=message_id,
            external_thread_id=thread,
            sent_at=sent_at,
            sender=party,
            subject=subject,
            body_text=trading.text(question, Q + "Body") or "",
            site=marketplace,
            meta=meta,
        )
    ]
    answered_at = trading.text(exchange, Q + "LastModifiedDate")
    for response in exchange.iterfind(Q + "Response"):
        body = (response.text or "").strip()
        if not body:
            continue
        out.append(
            InboundMessage(
                channel=KIND,
                account=account,
                platform=PLATFORM,
                external_id=answer_id(message_id, body),
                external_thread_id=thread,
                sent_at=parse_time(answered_at, "LastModifiedDate") if answered_at else sent_at,
                sender=Party(platform_id=seller or trading.text(question, Q + "RecipientID")),
                recipient=party,
                direction=Direction.OUT,
                subject=subject,
                body_text=body,
                site=marketplace,
                meta={**meta, "answer_to": message_id},
            )
        )
    return out


def parse_member_message_raw(raw: bytes, account: str | None) -> InboundMessage:
    try:
        exchange = trading.parse(raw)
    except ValueError as exc:
        raise MappingError("MemberMessageExchange", str(exc)) from None
    return member_exchange(exchange, account=account or "", seller=None, marketplace=None)[0]


# --- Fulfillment orders ----------------------------------------------------------------------------


def _address(container: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return (container or {}).get("contactAddress") or {}


def order(payload: Mapping[str, Any], *, account: str) -> OrderRecord:
    """A Fulfillment API order; the buyer is keyed by ``buyer.username`` like the member messages."""
    number = _required(payload, "orderId")
    total = (payload.get("pricingSummary") or {}).get("total") or {}
    if total.get("value") is None:
        raise MappingError("pricingSummary.total", "is missing")
    currency = str(total.get("currency") or "")
    buyer = payload.get("buyer") or {}
    registration = buyer.get("buyerRegistrationAddress") or {}
    instructions = payload.get("fulfillmentStartInstructions") or ()
    ship_to = ((instructions[0] or {}).get("shippingStep") or {}).get("shipTo") or {} if instructions else {}
    where = _address(ship_to) or _address(registration)
    lines = []
    for i, line in enumerate(payload.get("lineItems") or ()):
        quantity = int(line.get("quantity") or 1)
        cost = (line.get("lineItemCost") or line.get("total") or {}).get("value")
        unit = _money(cost, f"lineItems[{i}].lineItemCost") / max(quantity, 1) if cost is not None else Decimal(0)
        lines.append(
            OrderLineRecord(
                title=str(line.get("title") or ""),
                quantity=quantity,
                unit_price=unit.quantize(CENT, ROUND_HALF_UP),
                sku=line.get("sku") or None,
                external_id=str(line["lineItemId"]) if line.get("lineItemId") else None,
            )
        )
    first = (payload.get("lineItems") or [{}])[0] or {}
    cancelled = (payload.get("cancelStatus") or {}).get("cancelState") == "CANCELED"
    status = "CANCELED" if cancelled else str(payload.get("orderFulfillmentStatus") or "UNKNOWN")
    fields = (("city", "city"), ("postal_code", "postalCode"), ("country", "countryCode"))
    shipping = {key: str(where[src]) for key, src in fields if where.get(src)}
    return OrderRecord(
        platform=PLATFORM,
        account=account,
        order_number=number,
        status=status,
        currency=currency,
        total=_money(total.get("value"), "pricingSummary.total"),
        placed_at=parse_time(payload.get("creationDate"), "creationDate") if payload.get("creationDate") else None,
        updated_at=parse_time(payload.get("lastModifiedDate"), "lastModifiedDate")
        if payload.get("lastModifiedDate")
        else None,
        buyer=Party(
            platform_id=buyer.get("username") or None,
            email=registration.get("email") or ship_to.get("email") or None,
            name=registration.get("fullName") or ship_to.get("fullName") or None,
            country=_address(registration).get("countryCode") or where.get("countryCode") or None,
        ),
        lines=tuple(lines),
        site=first.get("purchaseMarketplaceId") or first.get("listingMarketplaceId") or None,
        shipping_address=shipping,
    )


def order_lines(payload: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(item id, line item id) of an order's lines: how an item-not-received inquiry finds its order."""
    return [
        (str(line.get("legacyItemId")), str(line.get("lineItemId")))
        for line in payload.get("lineItems") or ()
        if line.get("legacyItemId") and line.get("lineItemId")
    ]


def parse_order_raw(raw: bytes, account: str | None) -> OrderRecord:
    return order(_json(raw), account=account or "")


# --- Post-Order cases ------------------------------------------------------------------------------


def _date_value(container: object) -> object:
    """Post-Order wraps times as ``{"value": "…", "formattedValue": "…"}``."""
    return container.get("value") if isinstance(container, Mapping) else container


def return_case(payload: Mapping[str, Any], *, account: str, marketplace: str | None) -> InboundMessage:
    """A return request: the first message of its own thread, linked to its order, on the 3-business-day clock."""
    return_id = _required(payload, "returnId")
    buyer = _required(payload, "buyerLoginName")
    info = payload.get("creationInfo") or {}
    sent_at = parse_time(_date_value(info.get("creationDate")), "creationInfo.creationDate")
    item = info.get("item") or {}
    reason = str(info.get("reason") or "")
    comment = (info.get("comments") or {}).get("content") if isinstance(info.get("comments"), Mapping) else None
    title = item.get("itemTitle") or item.get("itemId") or "an item"
    body = _plain(comment) or f"The buyer asked to return {item.get('returnQuantity') or 1} × {title}."
    meta = _meta(
        {"thread_kind": "return", "case": "return", "return_id": return_id},
        item_id=item.get("itemId"),
        transaction_id=item.get("transactionId"),
        reason=reason,
        reason_type=info.get("reasonType"),
        state=payload.get("state"),
        respond_by=_date_value((payload.get("sellerResponseDue") or {}).get("respondByDate")),
    )
    subject = f"Return request {return_id}" + (f": {reason.replace('_', ' ').lower()}" if reason else "")
    return _case(f"return-{return_id}", f"return:{return_id}", account, marketplace, buyer, sent_at, subject, body,
                 payload.get("orderId"), meta)  # fmt: skip


def inquiry_case(
    payload: Mapping[str, Any], *, account: str, marketplace: str | None, order_number: str | None = None
) -> InboundMessage:
    """An item-not-received inquiry: a thread of its own; ``order_number`` when the caller could find the order."""
    inquiry_id = _required(payload, "inquiryId")
    buyer = _required(payload, "buyer")
    sent_at = parse_time(_date_value(payload.get("creationDate")), "creationDate")
    item_id = payload.get("itemId")
    meta = _meta(
        {"thread_kind": "item_not_received", "case": "inquiry", "inquiry_id": inquiry_id},
        item_id=item_id,
        transaction_id=payload.get("transactionId"),
        state=payload.get("inquiryStatusEnum"),
        respond_by=_date_value(payload.get("respondByDate")),
    )
    claim = payload.get("claimAmount") or {}
    amount = f" ({claim.get('value')} {claim.get('currency')})" if claim.get("value") is not None else ""
    body = f"The buyer reports that item {item_id or '?'} has not arrived{amount}."
    return _case(f"inquiry-{inquiry_id}", f"inquiry:{inquiry_id}", account, marketplace, buyer, sent_at,
                 f"Item not received {inquiry_id}", body, payload.get("orderId") or order_number, meta)  # fmt: skip


def _meta(meta: dict[str, str], **values: object) -> dict[str, str]:
    """``meta`` with each of ``values`` that is set, as text."""
    meta.update((key, str(value)) for key, value in values.items() if value)
    return meta


def _case(
    external_id: str,
    thread: str,
    account: str,
    marketplace: str | None,
    buyer: str,
    sent_at: datetime,
    subject: str,
    body: str,
    order_id: object,
    meta: dict[str, str],
) -> InboundMessage:
    """The first message of a case's own thread."""
    return InboundMessage(
        channel=KIND,
        account=account,
        platform=PLATFORM,
        external_id=external_id,
        external_thread_id=thread,
        sent_at=sent_at,
        sender=Party(platform_id=buyer),
        subject=subject,
        body_text=body,
        order_refs=(str(order_id),) if order_id else (),
        site=marketplace,
        meta=meta,
    )


def parse_return_raw(raw: bytes, account: str | None) -> InboundMessage:
    return return_case(_json(raw), account=account or "", marketplace=None)


def parse_inquiry_raw(raw: bytes, account: str | None) -> InboundMessage:
    return inquiry_case(_json(raw), account=account or "", marketplace=None)


def _json(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise MappingError("payload", f"is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MappingError("payload", "is not a JSON object")
    return data
