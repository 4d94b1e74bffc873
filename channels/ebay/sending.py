"""Replies to eBay buyers, by the path the thread came in on.

* Message API threads: ``POST /commerce/message/v1/send_message`` with
  ``{conversationId, messageText, messageMedia: [], emailCopyToSender: false}``
  → 201 with the stored message (``messageId``; the response spells
  ``senderUserName`` with a capital N).  The API takes no idempotency key, so
  before sending, the thread is checked for the same text already sent by the
  seller in the last day: a retry after a lost answer returns that message
  instead of sending it twice.
* Trading questions: ``AddMemberMessageRTQ`` (ItemID, ParentMessageID,
  RecipientID, never public).  Member-message calls are limited to 75 per 60 s
  per seller (over it eBay blocks the seller for 100 s), so the sender counts
  them in-process and waits its turn as :class:`RateLimited`.
* Return and item-not-received threads: the Post-Order ``send_message`` of
  the case, so the answer counts as the seller's response to the case.

Bodies are plain text of at most 2,000 characters; attachments cannot be
sent (eBay takes only links to files the seller hosts).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from channels.base import ChannelError, OutboundReply, RateLimited, SendResult, Stream
from channels.ebay import mapping, trading
from channels.ebay.client import EbayClient
from channels.ebay.reading import THREAD_PAGE, thread_page

MAX_CHARS = 2000
MEMBER_MESSAGES_PER_WINDOW = 75
WINDOW_S = 60.0
RESEND_WINDOW = timedelta(days=1)


class MemberMessageLimit:
    """Trading member-message calls per seller in the last minute, shared by every connector in this process."""

    _lock = threading.Lock()
    _calls: dict[str, deque[float]] = {}

    @classmethod
    def take(cls, seller: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with cls._lock:
            calls = cls._calls.setdefault(seller.casefold(), deque())
            while calls and now - calls[0] >= WINDOW_S:
                calls.popleft()
            if len(calls) >= MEMBER_MESSAGES_PER_WINDOW:
                wait = WINDOW_S - (now - calls[0])
                raise RateLimited(f"75 eBay member messages in the last minute for {seller}", retry_after=wait)
            calls.append(now)


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


class Sender:
    def __init__(self, client: EbayClient, seller: str | None) -> None:
        self.client = client
        self.seller = seller

    def send(self, reply: OutboundReply) -> SendResult:
        text = reply.body_text.strip()
        if not text:
            raise ChannelError("the reply is empty")
        if len(text) > MAX_CHARS:
            raise ChannelError(f"eBay takes at most {MAX_CHARS} characters in a message; this reply has {len(text)}")
        if reply.attachments:
            raise ChannelError(
                "eBay messages cannot carry uploaded files (only links to files you host); send the reply without them"
            )
        meta = reply.thread_meta
        case = meta.get("case")
        if case in ("return", "inquiry"):
            return self._case(case, meta.get(f"{case}_id") or "", text, reply)
        if meta.get("api") == "trading":
            return self._answer(reply, text)
        return self._message(reply, text)

    def _message(self, reply: OutboundReply, text: str) -> SendResult:
        conversation = reply.thread_meta.get("conversation_id") or reply.external_thread_id
        if not conversation:
            raise ChannelError("the ticket has no eBay conversation to answer in")
        earlier = self._already_sent(conversation, text, reply.to.platform_id)
        if earlier is not None:
            return earlier
        body = {"conversationId": conversation, "messageText": text, "messageMedia": [], "emailCopyToSender": False}
        answer = self.client.rest(
            "POST", "/commerce/message/v1/send_message", json=body, what="message", stream=Stream.REPLIES
        )
        message_id = answer.get("messageId") if isinstance(answer, dict) else None
        if not message_id:
            raise ChannelError(f"eBay accepted the message but gave no messageId: {str(answer)[:200]}")
        if answer.get("senderUserName") and not self.seller:
            self.seller = str(answer["senderUserName"])
        try:
            sent_at = mapping.parse_time(answer.get("createdDate"), "createdDate")
        except mapping.MappingError:
            sent_at = datetime.now(UTC)
        return SendResult(external_id=str(message_id), sent_at=sent_at)

    def _already_sent(self, conversation: str, text: str, buyer: str | None) -> SendResult | None:
        """The seller's message with this text in the last day, if a previous attempt did go through.

        The first page of the thread is read, and its last page too when the thread is longer (the order
        of messages is not documented, so the newest may be at either end).
        """
        first = thread_page(self.client, conversation, 0, Stream.REPLIES)
        if first is None:
            raise ChannelError(f"eBay has no conversation {conversation} (it may have been deleted)")
        messages = list(first.get("messages") or ())
        total = first.get("total")
        if isinstance(total, int) and total > THREAD_PAGE:
            last = thread_page(self.client, conversation, (total - 1) // THREAD_PAGE * THREAD_PAGE, Stream.REPLIES)
            messages.extend((last or {}).get("messages") or ())
        recent = datetime.now(UTC) - RESEND_WINDOW
        for message in messages:
            sender = str(message.get("senderUsername") or "")
            if buyer and sender.casefold() == buyer.casefold():
                continue
            if self.seller and sender.casefold() != self.seller.casefold():
                continue
            try:
                sent_at = mapping.parse_time(message.get("createdDate"), "createdDate")
            except mapping.MappingError:
                continue
            if sent_at >= recent and message.get("messageId") and _same(str(message.get("messageBody") or ""), text):
                return SendResult(external_id=str(message["messageId"]), sent_at=sent_at)
        return None

    def _answer(self, reply: OutboundReply, text: str) -> SendResult:
        meta = reply.thread_meta
        item_id, parent = meta.get("item_id"), meta.get("parent_message_id") or reply.in_reply_to
        buyer = reply.to.platform_id
        if not (item_id and parent and buyer):
            raise ChannelError("an answer through the Trading API needs the item, the question's id and the buyer")
        MemberMessageLimit.take(self.seller or self.client.settings.client_id)
        body = trading.add_member_message_rtq(item_id, parent, buyer, text)
        self.client.trading("AddMemberMessageRTQ", body, what="answer", stream=Stream.REPLIES)
        return SendResult(external_id=mapping.answer_id(parent, text), sent_at=datetime.now(UTC))

    def _case(self, case: str, case_id: str, text: str, reply: OutboundReply) -> SendResult:
        if not case_id:
            raise ChannelError(f"the ticket's {case} has no id to answer")
        self.client.rest(
            "POST",
            f"/post-order/v2/{case}/{quote(case_id, safe='')}/send_message",
            json={"message": {"content": text}},
            what=f"{case} message",
            stream=Stream.REPLIES,
            iaf=True,
        )
        return SendResult(external_id=f"{case}-{case_id}-reply-{reply.message_id}", sent_at=datetime.now(UTC))
