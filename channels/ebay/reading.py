"""Reading eBay's streams one page at a time: conversations, questions (Trading), orders, returns, inquiries.

Each reader asks for one page of its listing (see :mod:`channels.ebay.cursor`
for passes and the overlap window), maps what it can into the shared
:class:`Collected` page and rejects what it cannot, with the raw record.

Listings sorted by activity move while they are read: a conversation with a
new message, an order that changed, jumps to the head, and the records
between shift down a place — the last record of one page shows up again at
the top of the next.  Nothing is skipped by that, but the record that jumped
was passed over; so a pass that saw such a repeat ends by reading the head
of the list once more.  Should the list shrink instead, the pass steps back
a page.

A conversation's messages are read only when its newest message was not
delivered yet (``seen``, the settled mark), and not at all when the
conversation holds that one message only (created when its latest message
was): the listing already carries it.  The Message API has no batch read,
so every other conversation costs a call.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from channels.base import ChannelError, InboundMessage, OrderRecord, RejectedInput, Stream
from channels.ebay import mapping, trading
from channels.ebay.client import EbayClient
from channels.ebay.cursor import Cursor, Pass, StreamState, from_ms, ms
from channels.ebay.mapping import MappingError
from channels.ebay.settings import EbaySettings
from channels.ebay.trading import Q

OVERLAP = timedelta(minutes=5)
CONVERSATIONS = "/commerce/message/v1/conversation"
ORDERS = "/sell/fulfillment/v1/order"
RETURNS = "/post-order/v2/return/search"
INQUIRIES = "/post-order/v2/inquiry/search"
CONVERSATION_PAGE = 50  # the Message API's maximum
THREAD_PAGE = 50
ORDER_PAGE = 200  # the Fulfillment API's maximum
CASE_PAGE = 25  # Post-Order's maximum is not published; cases are few
TRADING_PAGES = (200, 100, 50, 25)  # the only page sizes GetMemberMessages accepts
LINE_INDEX_CAP = 100_000
THREAD_READERS = 6


class SellerUnknown(ChannelError):
    """The seller's own user id is not set and could not be learnt, so messages cannot be told apart."""


def _ms_of(value: object) -> int | None:
    try:
        return ms(mapping.parse_time(value, "time"))
    except MappingError:
        return None


@dataclass
class Collected:
    """What one fetch has read so far, over all streams."""

    messages: list[InboundMessage] = field(default_factory=list)
    orders: list[OrderRecord] = field(default_factory=list)
    rejected: list[RejectedInput] = field(default_factory=list)

    def reject(self, raw_format: str, raw: bytes, error: MappingError) -> None:
        self.rejected.append(RejectedInput(raw=raw, raw_format=raw_format, reason=str(error), field=error.field))


@dataclass(frozen=True, slots=True)
class Listed:
    """One page of a listing, as far as walking the listing needs it."""

    ids: list[str]
    total: int | None
    has_next: bool
    top: int  # newest activity on the page (ms)


def advance(state: StreamState, page: Listed) -> bool:
    """Move the pass past ``page``; True when another page of this pass waits."""
    p = state.current
    assert p is not None
    p.top = max(p.top, page.top)
    if p.head:
        state.finish()
        return False
    if p.offset > 0 and p.last is not None and p.last in page.ids:
        p.shifted = True
    back = 0
    if p.total is not None and page.total is not None and page.total < p.total:
        back = math.ceil((p.total - page.total) / p.size)  # records left the list: step back so none is skipped
    p.total = page.total
    if page.has_next and page.ids:
        p.offset = max(0, p.offset + p.size * (1 - back))
        p.last = page.ids[-1]
        return True
    if (p.shifted or back) and p.offset > 0:
        p.offset, p.last, p.head = 0, None, True
        return True
    state.finish()
    return False


class Reader:
    """The readers of one account; one instance per connector (it keeps an index of order lines)."""

    def __init__(self, client: EbayClient, settings: EbaySettings, account: str) -> None:
        self.client = client
        self.settings = settings
        self.account = account
        self.line_orders: dict[tuple[str, str], str] = {}
        self._pool: ThreadPoolExecutor | None = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # --- passes --------------------------------------------------------------------------------------

    def _pass(self, cursor: Cursor, state: StreamState, size: int, now: datetime) -> Pass:
        if state.current is not None:
            return state.current
        if state.hw is not None:
            start = state.hw - int(OVERLAP.total_seconds() * 1000)
        elif cursor.since is not None:
            start = cursor.since
        else:
            start = ms(now - timedelta(days=self.settings.initial_days))
        return state.begin(start, size, ms(now))

    # --- conversations (Message API) -----------------------------------------------------------------

    def conversations(self, cursor: Cursor, out: Collected, limit: int, now: datetime) -> bool:
        state = cursor.stream("messages")
        p = self._pass(cursor, state, max(1, min(CONVERSATION_PAGE, limit)), now)
        data = self.client.rest(
            "GET",
            CONVERSATIONS,
            params={
                "conversation_type": "FROM_MEMBERS",
                "start_time": trading.iso(from_ms(p.start)),
                "limit": p.size,
                "offset": p.offset,
            },
            what="conversation list",
            stream=Stream.MESSAGES,
        )
        conversations = [c for c in data.get("conversations") or () if isinstance(c, dict)]
        seller = self.seller(cursor, conversations)
        ids: list[str] = []
        top = 0
        work: list[tuple[str, int | None, dict[str, Any], list[Any] | None, int]] = []
        for conversation in conversations:
            cid = conversation.get("conversationId")
            if not cid:
                error = MappingError("conversationId", "is missing")
                out.reject(mapping.RAW_MESSAGE, mapping.message_raw(conversation, {}, seller, self.site), error)
                continue
            cid = str(cid)
            ids.append(cid)
            latest_message = conversation.get("latestMessage") or {}
            latest = _ms_of(latest_message.get("createdDate"))
            top = max(top, latest or 0)
            if state.delivered(cid, latest):
                continue
            since = max(state.seen.get(cid, p.start - 1), state.settled or -1)
            only = latest is not None and latest == _ms_of(conversation.get("createdDate")) and cid not in state.seen
            work.append((cid, latest, conversation, [latest_message] if only else None, since))
        threads = self._threads([cid for cid, _, _, listed, _ in work if listed is None])
        for cid, latest, conversation, listed, since in work:
            newest = self._deliver(conversation, listed if listed is not None else threads[cid], since, seller, out)
            if newest or latest:
                state.seen[cid] = max(newest, latest or 0)
        state.prune()
        return advance(state, Listed(ids, _int(data.get("total")), bool(data.get("next")), top))

    @property
    def site(self) -> str:
        return self.settings.marketplace_id

    def _deliver(
        self, conversation: Mapping[str, Any], messages: list[Any], since: int, seller: str | None, out: Collected
    ) -> int:
        """Deliver the messages newer than ``since``; the time of the newest one."""
        newest = 0
        for message in messages:
            try:
                record = mapping.rest_message(
                    conversation, message, account=self.account, seller=seller, marketplace=self.site
                )
            except MappingError as exc:
                out.reject(mapping.RAW_MESSAGE, mapping.message_raw(conversation, message, seller, self.site), exc)
                continue
            sent = ms(record.sent_at)
            newest = max(newest, sent)
            if sent > since:
                out.messages.append(record)
        return newest

    def _threads(self, cids: list[str]) -> dict[str, list[Any]]:
        """Every message of each conversation, read a few conversations at a time."""
        if len(cids) < 2:
            return {cid: self._thread(cid) for cid in cids}
        if self._pool is None:
            self._pool = ThreadPoolExecutor(THREAD_READERS, thread_name_prefix="ebay-threads")
        return dict(zip(cids, self._pool.map(self._thread, cids), strict=True))

    def _thread(self, cid: str) -> list[Any]:
        messages: list[Any] = []
        offset = 0
        while True:
            data = thread_page(self.client, cid, offset, Stream.MESSAGES)
            if data is None:  # deleted since it was listed
                return messages
            messages.extend(data.get("messages") or ())
            if not data.get("next"):
                return messages
            offset += THREAD_PAGE

    def seller(self, cursor: Cursor, conversations: list[dict[str, Any]]) -> str | None:
        """The seller's own user id: the setting, what an earlier page learnt, the orders, or the conversations."""
        known = self.settings.seller_username or cursor.me
        if known or not conversations:
            return known
        learnt = self._seller_from_orders() or _common_party(conversations)
        if not learnt:
            raise SellerUnknown(
                "cannot tell the seller's own messages from the buyers': set seller_username (your eBay user ID)"
            )
        cursor.me = learnt
        return learnt

    def _seller_from_orders(self) -> str | None:
        try:
            data = self.client.rest("GET", ORDERS, params={"limit": 1}, what="order list", stream=Stream.ORDERS)
        except ChannelError:
            return None
        orders = data.get("orders") or ()
        return str(orders[0].get("sellerId")) if orders and orders[0].get("sellerId") else None

    # --- member messages (Trading API) ---------------------------------------------------------------

    def member_messages(self, cursor: Cursor, out: Collected, limit: int, now: datetime) -> bool:
        state = cursor.stream("questions")
        size = next((n for n in TRADING_PAGES if n <= limit), TRADING_PAGES[-1])
        p = self._pass(cursor, state, size, now)
        if p.end is None:
            p.end = p.top = ms(now)
        body = trading.get_member_messages(from_ms(p.start), from_ms(p.end), p.offset // p.size + 1, p.size)
        root = self.client.trading("GetMemberMessages", body, what="member message list", stream=Stream.MESSAGES)
        seller = self.settings.seller_username or cursor.me
        ids: list[str] = []
        for exchange in root.iter(Q + "MemberMessageExchange"):
            key = trading.text(exchange, f"{Q}Question/{Q}MessageID") or ""
            created = _ms_of(trading.text(exchange, Q + "CreationDate"))
            ids.append(key)
            if state.delivered(key, created):
                continue
            try:
                out.messages.extend(
                    mapping.member_exchange(exchange, account=self.account, seller=seller, marketplace=self.site)
                )
            except MappingError as exc:
                out.reject(mapping.RAW_MEMBER_MESSAGE, trading.to_bytes(exchange), exc)
            if key and created:
                state.seen[key] = created
        state.prune()
        has_more = (trading.text(root, Q + "HasMoreItems") or "").lower() == "true"
        return advance(state, Listed(ids, None, has_more, p.end))

    # --- orders (Fulfillment API) --------------------------------------------------------------------

    def orders(self, cursor: Cursor, out: Collected, limit: int, now: datetime) -> bool:
        state = cursor.stream("orders")
        p = self._pass(cursor, state, max(1, min(ORDER_PAGE, limit)), now)
        data = self.client.rest(
            "GET",
            ORDERS,
            params={
                "filter": f"lastmodifieddate:[{trading.iso(from_ms(p.start))}..]",
                "limit": p.size,
                "offset": p.offset,
            },
            what="order list",
            stream=Stream.ORDERS,
        )
        ids: list[str] = []
        top = 0
        for payload in data.get("orders") or ():
            changed = _ms_of(payload.get("lastModifiedDate"))
            ids.append(str(payload.get("orderId")))
            top = max(top, changed or 0)
            if not cursor.me and payload.get("sellerId"):
                cursor.me = str(payload["sellerId"])
            self._index(payload, ids[-1])
            if state.delivered("", changed):
                continue
            try:
                record = mapping.order(payload, account=self.account)
            except MappingError as exc:
                out.reject(mapping.RAW_ORDER, json.dumps(payload, ensure_ascii=False).encode(), exc)
                continue
            out.orders.append(record)
        return advance(state, Listed(ids, _int(data.get("total")), bool(data.get("next")), top))

    def _index(self, payload: Mapping[str, Any], order_number: str) -> None:
        if len(self.line_orders) > LINE_INDEX_CAP:
            self.line_orders.clear()
        for line in mapping.order_lines(payload):
            self.line_orders[line] = order_number

    # --- cases (Post-Order API) ----------------------------------------------------------------------

    def returns(self, cursor: Cursor, out: Collected, now: datetime) -> bool:
        def one(member: Mapping[str, Any]) -> InboundMessage:
            return mapping.return_case(member, account=self.account, marketplace=self.site)

        return self._cases(cursor, "returns", RETURNS, "creation_date_range_from", "returnId",
                           mapping.RAW_RETURN, one, out, now)  # fmt: skip

    def inquiries(self, cursor: Cursor, out: Collected, now: datetime) -> bool:
        def one(member: Mapping[str, Any]) -> InboundMessage:
            line = (str(member.get("itemId")), str(member.get("transactionId")))
            return mapping.inquiry_case(
                member, account=self.account, marketplace=self.site, order_number=self.line_orders.get(line)
            )

        return self._cases(cursor, "inquiries", INQUIRIES, "inquiry_creation_date_range_from", "inquiryId",
                           mapping.RAW_INQUIRY, one, out, now)  # fmt: skip

    def _cases(
        self,
        cursor: Cursor,
        name: str,
        path: str,
        since_param: str,
        key: str,
        raw_format: str,
        one: Callable[[Mapping[str, Any]], InboundMessage],
        out: Collected,
        now: datetime,
    ) -> bool:
        state = cursor.stream(name)
        p = self._pass(cursor, state, CASE_PAGE, now)
        data = self.client.rest(
            "GET",
            path,
            params={since_param: trading.iso(from_ms(p.start)), "limit": p.size, "offset": p.offset // p.size + 1},
            what=f"{path.split('/')[3]} search",
            stream=Stream.ORDERS,
            iaf=True,
        )
        ids: list[str] = []
        top = 0
        for member in data.get("members") or ():
            ids.append(str(member.get(key)))
            try:
                record = one(member)
            except MappingError as exc:
                out.reject(raw_format, json.dumps(member, ensure_ascii=False).encode(), exc)
                continue
            sent = ms(record.sent_at)
            top = max(top, sent)
            if not state.delivered("", sent):
                out.messages.append(record)
        pages = data.get("paginationOutput") or {}
        total_pages = _int(pages.get("totalPages")) or 0
        total = _int(pages.get("totalEntries"))
        return advance(state, Listed(ids, total, p.offset // p.size + 1 < total_pages, top))


def thread_page(client: EbayClient, cid: str, offset: int, stream: Stream) -> dict[str, Any] | None:
    """One page of a conversation's messages; None when the conversation is gone."""
    data = client.rest(
        "GET",
        f"{CONVERSATIONS}/{quote(cid, safe='')}",
        params={"conversation_type": "FROM_MEMBERS", "limit": THREAD_PAGE, "offset": offset},
        what="conversation",
        stream=stream,
        missing_ok=True,
    )
    return data if isinstance(data, dict) else None


def _int(value: object) -> int | None:
    try:
        return int(value) if value is not None else None  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def _common_party(conversations: list[dict[str, Any]]) -> str | None:
    """The one user taking part in every listed conversation: the seller (needs two buyers to tell)."""
    parties: set[str] | None = None
    for conversation in conversations:
        latest = conversation.get("latestMessage") or {}
        pair = {str(latest[k]) for k in ("senderUsername", "recipientUsername") if latest.get(k)}
        parties = pair if parties is None else parties & pair
    if parties is not None and len(parties) == 1 and len(conversations) > 1:
        return next(iter(parties))
    return None
