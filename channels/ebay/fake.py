"""A loopback eBay: Message, Fulfillment, Post-Order and Trading APIs, OAuth, and platform notifications.

It keeps conversations, orders, returns and inquiries, and speaks eBay's
wire format for every call the connector makes:

* ``POST /identity/v1/oauth2/token`` — Basic ``client_id:client_secret``,
  ``grant_type=refresh_token``; refresh tokens are not rotated; a scope
  beyond the grant answers ``invalid_scope``, an unknown refresh token
  ``invalid_grant``.
* Message API — listing newest activity first, ``limit`` ≤ 50 and ``offset``
  a multiple of it (355008/355009 otherwise); a conversation with new
  activity moves to the head, which repeats the boundary record of the next
  page.  ``send_message`` checks the 2,000-character limit (355013), the
  conversation (355007) and the media (355010/355012) and answers 201.
* Fulfillment API — ``filter=lastmodifieddate:[…..]``, ``limit`` ≤ 200,
  newest change first.
* Post-Order API — return and inquiry search (page-numbered ``offset``) and
  ``send_message``; the token must come as ``Authorization: IAF …``.
* Trading API — ``GetMemberMessages`` (questions in a creation window, 25/50/
  100/200 a page, ``HasMoreItems``) and ``AddMemberMessageRTQ`` (75 calls per
  60 s per seller); failures are ``Ack=Failure`` with ``Errors`` in HTTP 200.
* REST failures are ``errors[]`` with ``errorId``/``domain``/``category``/
  ``message``: 1001 refused token (401), 1100 missing scope (403), 2001 rate
  limit (429).

Times are the fake's clock (:meth:`FakeServer.now`), so tests can expire tokens.
"""

from __future__ import annotations

import base64
import random
import re
import secrets
from bisect import bisect_left, insort
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from lxml import etree

from channels.base import Stream
from channels.ebay import fakedata, trading
from channels.ebay.fakedata import Buyer, Listing, stamp
from channels.ebay.settings import (
    REST,
    SCOPE_BASE,
    SCOPE_FULFILLMENT,
    SCOPE_FULFILLMENT_READONLY,
    SCOPE_MESSAGE,
    TRADING,
)
from channels.ebay.trading import NS, Q
from channels.fake import FakeRequest, FakeResponse, FakeServer, Fault, TokenIssuer, bearer
from channels.http import Response, post

GRANTED = frozenset({SCOPE_BASE, SCOPE_MESSAGE, SCOPE_FULFILLMENT})
FULFILLMENT_SCOPES = frozenset({SCOPE_FULFILLMENT, SCOPE_FULFILLMENT_READONLY})
_FILTER = re.compile(r"^lastmodifieddate:\[(?P<start>[^.\]]*(?:\.\d+Z?)?)\.\.(?P<end>[^\]]*)\]$")


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def rest_errors(status: int, error_id: int, domain: str, message: str, long: str = "") -> FakeResponse:
    error = {"errorId": error_id, "domain": domain, "category": "REQUEST", "message": message}
    if long:
        error["longMessage"] = long
    return FakeResponse.json({"errors": [error]}, status=status)


class ActivityIndex:
    """Records listed newest activity first; new activity moves a record to the head. O(log n + page)."""

    def __init__(self) -> None:
        self.keys: list[tuple[int, str]] = []
        self.at: dict[str, int] = {}

    def touch(self, rid: str, when: int) -> None:
        old = self.at.get(rid)
        if old is not None:
            del self.keys[bisect_left(self.keys, (old, rid))]
        key = (when, rid)
        if not self.keys or key >= self.keys[-1]:
            self.keys.append(key)
        else:
            insort(self.keys, key)
        self.at[rid] = when

    def window(self, since: int) -> tuple[int, int]:
        """(index of the oldest record at or after ``since``, number of records from there)."""
        lo = bisect_left(self.keys, (since, ""))
        return lo, len(self.keys) - lo

    def page(self, since: int, offset: int, limit: int) -> tuple[list[str], int]:
        lo, total = self.window(since)
        hi = len(self.keys) - offset
        if hi <= lo:
            return [], total
        start = max(lo, hi - limit)
        return [rid for _, rid in reversed(self.keys[start:hi])], total

    def beyond(self, since: int, offset: int, limit: int) -> str | None:
        """The record right after the page at ``offset`` (the one that will jump ahead), if any."""
        lo, _ = self.window(since)
        index = len(self.keys) - offset - limit - 1
        return self.keys[index][1] if index >= lo else None

    def newest(self) -> int:
        return self.keys[-1][0] if self.keys else 0


class FakeEbay(FakeServer):
    """eBay for one seller (and one application keyset), on 127.0.0.1."""

    platform = "ebay"

    def __init__(
        self, *, seller: str = "lampworks_uk", marketplace: str = "EBAY_GB", messages_api: str = REST, port: int = 0
    ) -> None:
        super().__init__(port=port)
        self.seller = seller
        self.marketplace = marketplace
        self.currency = "GBP" if marketplace == "EBAY_GB" else "EUR" if marketplace != "EBAY_US" else "USD"
        self.messages_api = messages_api
        self.client_id = "Lampwork-helpdesk-PRD-" + secrets.token_hex(6)
        self.client_secret = "PRD-" + secrets.token_hex(12)
        self.dev_id = secrets.token_hex(8)
        self.issuer = TokenIssuer(self.now, access_lifetime_s=7200, rotate=False, scopes=GRANTED)
        self.conversations: dict[str, dict[str, Any]] = {}
        self.threads: dict[str, list[dict[str, Any]]] = {}
        self.message_home: dict[str, str] = {}  # message id → conversation id
        self.conversation_index = ActivityIndex()
        self.questions: list[tuple[int, str, int]] = []  # (created ms, conversation, position): Trading's view
        self.orders: dict[str, dict[str, Any]] = {}
        self.order_index = ActivityIndex()
        self.returns: list[dict[str, Any]] = []
        self.inquiries: list[dict[str, Any]] = []
        self.replies: list[dict[str, Any]] = []
        self.notifications_sent = 0
        self.repeat = False
        self.refresh_token_expires_in: int | None = None  # sent with each grant when set (eBay: 47304000 at consent)
        self._bumped_walk: set[str] = set()
        self._rtq_calls: dict[str, deque[float]] = {}
        self._ids = {"conversation": 4419027700, "message": 9920381100, "order": 0, "return": 5000000000}
        self._buyers = 0
        self._rng = random.Random(20260105)
        self._last_ms = 0
        self._recent: deque[str] = deque(maxlen=64)  # conversations a seeded follow-up may continue
        self._routes()

    # --- routes --------------------------------------------------------------------------------------

    def _routes(self) -> None:
        self.add_route("POST", r"/identity/v1/oauth2/token", self._token)
        self.add_route("GET", r"/commerce/message/v1/conversation", self._conversation_list)
        self.add_route("GET", r"/commerce/message/v1/conversation/(?P<cid>[^/]+)", self._conversation)
        self.add_route("POST", r"/commerce/message/v1/send_message", self._send_message)
        self.add_route("GET", r"/sell/fulfillment/v1/order", self._order_list)
        self.add_route("GET", r"/sell/fulfillment/v1/order/(?P<oid>[^/]+)", self._order)
        self.add_route("GET", r"/post-order/v2/(?P<case>return|inquiry)/search", self._case_search)
        self.add_route(
            "POST", r"/post-order/v2/(?P<case>return|inquiry)/(?P<cid>[^/]+)/send_message", self._case_message
        )
        self.add_route("POST", r"/ws/api.dll", self._trading)

    # --- clock and ids -------------------------------------------------------------------------------

    def _next(self, kind: str) -> str:
        self._ids[kind] += 1
        return str(self._ids[kind])

    def _tick_ms(self) -> int:
        """Now on the fake's clock, strictly after every timestamp handed out so far."""
        self._last_ms = max(_ms(self.now()), self._last_ms + 1)
        return self._last_ms

    def _at(self, when_ms: int) -> datetime:
        return datetime.fromtimestamp(when_ms / 1000, tz=self.now().tzinfo)

    # --- OAuth ---------------------------------------------------------------------------------------

    def _token(self, request: FakeRequest) -> FakeResponse:
        auth = request.headers.get("authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if auth != expected:
            body = {"error": "invalid_client", "error_description": "client authentication failed"}
            return FakeResponse.json(body, status=401)
        form = request.form()
        if form.get("grant_type") != "refresh_token":
            return FakeResponse.json({"error": "unsupported_grant_type"}, status=400)
        granted = self.issuer.refresh.get(form.get("refresh_token", ""))
        if granted is None:
            body = {
                "error": "invalid_grant",
                "error_description": "the provided authorization refresh token is invalid or was issued to "
                "another client",
            }
            return FakeResponse.json(body, status=400)
        asked = frozenset(form.get("scope", "").split()) or granted
        if not asked <= granted:
            body = {
                "error": "invalid_scope",
                "error_description": "The requested scope is invalid, unknown, malformed, or exceeds the scope "
                "granted to the client",
            }
            return FakeResponse.json(body, status=400)
        self.issuer.refreshes += 1
        token = self.issuer.issue_access(asked)
        grant: dict[str, Any] = {
            "access_token": token.value,
            "expires_in": self.issuer.access_lifetime_s,
            "token_type": "User Access Token",
        }
        if self.refresh_token_expires_in is not None:
            grant["refresh_token_expires_in"] = self.refresh_token_expires_in
        return FakeResponse.json(grant)

    def _refused(self, request: FakeRequest, scopes: frozenset[str], *, iaf: bool = False) -> FakeResponse | None:
        """eBay's answer when the call's token is refused or lacks every one of ``scopes``; None when it may pass."""
        header = request.headers.get("authorization", "")
        if iaf:
            if not header.startswith("IAF "):
                return rest_errors(401, 1001, "OAuth", "Invalid access token", f"Bad scheme: {header.split(' ')[0]}")
            token: str | None = header[4:]
        else:
            token = bearer(request)
        if self.issuer.check(token) != "ok":
            return rest_errors(
                401, 1001, "OAuth", "Invalid access token",
                "Invalid access token. Check the value of the Authorization HTTP request header.",
            )  # fmt: skip
        if not self.issuer.scopes_of(token) & scopes:
            return rest_errors(403, 1100, "ACCESS", "Access denied", "Insufficient permissions to fulfill the request.")
        return None

    # --- Message API ---------------------------------------------------------------------------------

    def _paging(self, request: FakeRequest, maximum: int, default: int) -> tuple[int, int] | FakeResponse:
        try:
            limit = int(request.arg("limit") or default)
            offset = int(request.arg("offset") or 0)
        except ValueError:
            return rest_errors(400, 355009, "API_MESSAGE", "Invalid limit.")
        if not 0 < limit <= maximum:
            return rest_errors(400, 355009, "API_MESSAGE", f"Invalid limit. It must not exceed {maximum}.")
        if offset < 0 or offset % limit:
            return rest_errors(400, 355008, "API_MESSAGE", "Invalid offset. It must be a multiple of the limit.")
        return limit, offset

    def _conversation_list(self, request: FakeRequest) -> FakeResponse:
        refused = self._refused(request, frozenset({SCOPE_MESSAGE}))
        if refused:
            return refused
        if request.arg("conversation_type") not in ("FROM_MEMBERS", "FROM_EBAY"):
            return rest_errors(400, 355017, "API_MESSAGE", "The required conversation_type query parameter is missing.")
        paging = self._paging(request, 50, 25)
        if isinstance(paging, FakeResponse):
            return paging
        limit, offset = paging
        since = 0
        if request.arg("start_time"):
            start = _time(request.arg("start_time"))
            if start is None:
                return rest_errors(400, 355005, "API_MESSAGE", "Invalid date format used for one or both date filters.")
            since = _ms(start)
        if request.arg("conversation_type") == "FROM_EBAY":
            return FakeResponse.json({"conversations": [], "limit": limit, "offset": offset, "total": 0})
        return self._listing_page(
            request, self.conversation_index, "conversations", since, limit, offset, "conversation_type=FROM_MEMBERS&",
            lambda c: {**self.conversations[c], "latestMessage": self.threads[c][-1]},
        )  # fmt: skip

    def _listing_page(
        self,
        request: FakeRequest,
        index: ActivityIndex,
        walk: str,
        since: int,
        limit: int,
        offset: int,
        query: str,
        record: Any,
    ) -> FakeResponse:
        """One page of a listing, newest activity first, with eBay's ``href``/``next``/``prev`` links."""
        self._maybe_jump(index, walk, since, offset, limit)
        ids, total = index.page(since, offset, limit)

        def link(at: int) -> str:
            return f"{self.url}{request.path}?{query}limit={limit}&offset={at}"

        body: dict[str, Any] = {"href": link(offset), "limit": limit, "offset": offset, "total": total,
                                walk: [record(i) for i in ids]}  # fmt: skip
        if offset + limit < total:
            body["next"] = link(offset + limit)
        if offset:
            body["prev"] = link(offset - limit)
        return FakeResponse.json(body)

    def _maybe_jump(self, index: ActivityIndex, walk: str, since: int, offset: int, limit: int) -> None:
        """With repeats on, once per walk a record below the page gets new activity and jumps to the head."""
        if not self.repeat:
            return
        if offset == 0:
            self._bumped_walk.discard(walk)
            return
        if walk in self._bumped_walk:
            return
        jumper = index.beyond(since, offset, limit)
        if jumper is None:
            return
        self._bumped_walk.add(walk)
        when = self._tick_ms()
        index.touch(jumper, when)
        if walk == "orders":
            self.orders[jumper]["lastModifiedDate"] = stamp(self._at(when))
            self.orders[jumper]["orderFulfillmentStatus"] = "IN_PROGRESS"

    def _conversation(self, request: FakeRequest) -> FakeResponse:
        refused = self._refused(request, frozenset({SCOPE_MESSAGE}))
        if refused:
            return refused
        cid = request.params["cid"]
        if cid not in self.conversations:
            return rest_errors(404, 355007, "API_MESSAGE", "Invalid or unrecognized conversation_id value.")
        paging = self._paging(request, 50, 25)
        if isinstance(paging, FakeResponse):
            return paging
        limit, offset = paging
        thread = self.threads[cid]
        meta = self.conversations[cid]
        body: dict[str, Any] = {
            "conversationStatus": meta["conversationStatus"],
            "conversationTitle": meta["conversationTitle"],
            "conversationType": "FROM_MEMBERS",
            "href": f"{self.url}{request.path}?conversation_type=FROM_MEMBERS&limit={limit}&offset={offset}",
            "limit": limit,
            "offset": offset,
            "total": len(thread),
            "messages": thread[offset : offset + limit],
        }
        if offset + limit < len(thread):
            body["next"] = (
                f"{self.url}{request.path}?conversation_type=FROM_MEMBERS&limit={limit}&offset={offset + limit}"
            )
        return FakeResponse.json(body)

    def _send_message(self, request: FakeRequest) -> FakeResponse:
        refused = self._refused(request, frozenset({SCOPE_MESSAGE}))
        if refused:
            return refused
        try:
            body = request.json()
        except ValueError:
            return rest_errors(400, 2004, "API_MESSAGE", "Could not serialize the request body.")
        if not isinstance(body, dict):
            return rest_errors(400, 2004, "API_MESSAGE", "Could not serialize the request body.")
        cid, text = body.get("conversationId"), body.get("messageText")
        media = body.get("messageMedia") or []
        if not cid and not body.get("otherPartyUsername"):
            return rest_errors(
                400, 355018, "API_MESSAGE", "conversationId and otherPartyUsername cannot both be empty."
            )
        if cid not in self.conversations:
            return rest_errors(400, 355007, "API_MESSAGE", "Invalid or unrecognized conversation_id value.")
        if not text and not media:
            return rest_errors(400, 355015, "API_MESSAGE", "Please pass message text or upload media.")
        if text and len(text) > 2000:
            return rest_errors(400, 355013, "API_MESSAGE", "The messageText string exceeds the maximum of 2000.")
        if len(media) > 5:
            return rest_errors(400, 355010, "API_MESSAGE", "The maximum amount of media that may be sent is 5.")
        if any(not all(m.get(k) for k in ("mediaName", "mediaType", "mediaUrl")) for m in media):
            return rest_errors(400, 355012, "API_MESSAGE", "All fields under messageMedia are required.")
        self.replies.append(body)
        message = self._seller_message(str(cid), str(text or ""), media)
        answer = {k: v for k, v in message.items() if k not in ("senderUsername", "recipientUsername")}
        answer["senderUserName"] = message["senderUsername"]
        answer["recipientUserName"] = message["recipientUsername"]
        return FakeResponse.json(answer, status=201)

    def _seller_message(self, cid: str, text: str, media: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        meta = self.conversations[cid]
        when = self._tick_ms()
        message = {
            "messageId": self._next("message"),
            "createdDate": stamp(self._at(when)),
            "senderUsername": self.seller,
            "recipientUsername": meta["_buyer"],
            "subject": "Re: " + meta["conversationTitle"],
            "messageBody": text,
            "readStatus": False,
            "messageMedia": media or [],
        }
        self.threads[cid].append(message)
        self.message_home[message["messageId"]] = cid
        self.conversation_index.touch(cid, when)
        return message

    # --- Fulfillment API -----------------------------------------------------------------------------

    def _order_list(self, request: FakeRequest) -> FakeResponse:
        refused = self._refused(request, FULFILLMENT_SCOPES)
        if refused:
            return refused
        try:
            limit = int(request.arg("limit") or 50)
            offset = int(request.arg("offset") or 0)
        except ValueError:
            return rest_errors(400, 30700, "API_FULFILLMENT", "Invalid limit or offset")
        if not 0 < limit <= 200 or offset < 0:
            return rest_errors(400, 30700, "API_FULFILLMENT", "The limit must be 1 to 200 and offset not negative")
        since = 0
        raw_filter = request.arg("filter")
        if raw_filter:
            match = _FILTER.match(raw_filter)
            start = _time(match.group("start")) if match else None
            if start is None:
                return rest_errors(400, 30800, "API_FULFILLMENT", f"Invalid filter: {raw_filter}")
            since = _ms(start)
        return self._listing_page(
            request, self.order_index, "orders", since, limit, offset, "", self.orders.__getitem__
        )

    def _order(self, request: FakeRequest) -> FakeResponse:
        refused = self._refused(request, FULFILLMENT_SCOPES)
        if refused:
            return refused
        found = self.orders.get(request.params["oid"])
        if found is None:
            return rest_errors(404, 32100, "API_FULFILLMENT", "Order not found")
        return FakeResponse.json(found)

    # --- Post-Order API ------------------------------------------------------------------------------

    def _case_search(self, request: FakeRequest) -> FakeResponse:
        refused = self._refused(request, FULFILLMENT_SCOPES, iaf=True)
        if refused:
            return refused
        case = request.params["case"]
        prefix = "inquiry_" if case == "inquiry" else ""
        start = _time(request.arg(f"{prefix}creation_date_range_from"))
        end = _time(request.arg(f"{prefix}creation_date_range_to"))
        if request.arg(f"{prefix}creation_date_range_from") and start is None:
            return rest_errors(400, 1701, "postOrder", "Invalid date range")
        limit = int(request.arg("limit") or 25)
        page = int(request.arg("offset") or 1)
        members = self.returns if case == "return" else self.inquiries

        def created(member: dict[str, Any]) -> datetime:
            container = member["creationInfo"]["creationDate"] if case == "return" else member["creationDate"]
            return datetime.fromisoformat(container["value"])

        low = start or datetime.min.replace(tzinfo=self.now().tzinfo)
        high = end or low + timedelta(days=90)
        found = [m for m in members if low <= created(m) <= high]
        total_pages = max(1, -(-len(found) // limit))
        body: dict[str, Any] = {
            "members": found[(page - 1) * limit : page * limit],
            "paginationOutput": {"offset": page, "limit": limit, "totalPages": total_pages, "totalEntries": len(found)},
        }
        body["totalNumberOfInquiries" if case == "inquiry" else "total"] = len(found)
        return FakeResponse.json(body)

    def _case_message(self, request: FakeRequest) -> FakeResponse:
        refused = self._refused(request, FULFILLMENT_SCOPES, iaf=True)
        if refused:
            return refused
        case, cid = request.params["case"], request.params["cid"]
        known = self.returns if case == "return" else self.inquiries
        if not any(m[f"{case}Id"] == cid for m in known):
            return rest_errors(404, 1702, "postOrder", f"The {case} id {cid} is invalid")
        try:
            body = request.json()
        except ValueError:
            body = None
        content = (body or {}).get("message", {}).get("content") if isinstance(body, dict) else None
        if not content:
            return rest_errors(400, 1703, "postOrder", "message.content is required")
        self.replies.append(body)
        return FakeResponse.empty(200)

    # --- Trading API ---------------------------------------------------------------------------------

    def _trading(self, request: FakeRequest) -> FakeResponse:
        call = request.headers.get("x-ebay-api-call-name", "")
        if not request.headers.get("x-ebay-api-siteid") or not request.headers.get("x-ebay-api-compatibility-level"):
            return self._failure(call or "Unknown", "10012", "Missing site id or compatibility level headers.")
        if self.issuer.check(request.headers.get("x-ebay-api-iaf-token")) != "ok":
            return self._failure(call, "931", "Auth token is invalid.",
                                 "Validation of the authentication token in API request failed.")  # fmt: skip
        try:
            root = trading.parse(request.body)
        except ValueError:
            return self._failure(call, "5", "XML Parse error.")
        if call == "GetMemberMessages" and root.tag == Q + "GetMemberMessagesRequest":
            return self._get_member_messages(root)
        if call == "AddMemberMessageRTQ" and root.tag == Q + "AddMemberMessageRTQRequest":
            return self._add_member_message_rtq(root)
        return self._failure(call or "Unknown", "2", "Unsupported API call.")

    def _failure(self, call: str, code: str, short: str, long: str = "") -> FakeResponse:
        return FakeResponse.xml(
            f'<?xml version="1.0" encoding="UTF-8"?><{call}Response xmlns="{NS}">'
            f"<Timestamp>{stamp(self.now())}</Timestamp><Ack>Failure</Ack><Errors><ShortMessage>{short}</ShortMessage>"
            f"<LongMessage>{long or short}</LongMessage><ErrorCode>{code}</ErrorCode><SeverityCode>Error</SeverityCode>"
            f"<ErrorClassification>RequestError</ErrorClassification></Errors><Version>1415</Version>"
            f"</{call}Response>"
        )

    def _get_member_messages(self, root: Any) -> FakeResponse:
        start = _time(trading.text(root, Q + "StartCreationTime"))
        end = _time(trading.text(root, Q + "EndCreationTime"))
        if start is None or end is None:
            return self._failure("GetMemberMessages", "37", "StartCreationTime and EndCreationTime are required.")
        per_page = int(trading.text(root, f"{Q}Pagination/{Q}EntriesPerPage") or 25)
        page = int(trading.text(root, f"{Q}Pagination/{Q}PageNumber") or 1)
        if per_page not in (25, 50, 100, 200):
            return self._failure("GetMemberMessages", "37", "EntriesPerPage must be 25, 50, 100 or 200.")
        lo = bisect_left(self.questions, (_ms(start), "", -1))
        hi = bisect_left(self.questions, (_ms(end) + 1, "", -1))
        window = self.questions[lo:hi]
        chunk = window[(page - 1) * per_page : page * per_page]
        response = etree.Element(Q + "GetMemberMessagesResponse", nsmap={None: NS})
        for name, value in (("Timestamp", stamp(self.now())), ("Ack", "Success"), ("Version", "1415")):
            etree.SubElement(response, Q + name).text = value
        holder = etree.SubElement(response, Q + "MemberMessage")
        for _, cid, position in chunk:
            holder.append(self._exchange(cid, position))
        result = etree.SubElement(response, Q + "PaginationResult")
        etree.SubElement(result, Q + "TotalNumberOfPages").text = str(max(1, -(-len(window) // per_page)))
        etree.SubElement(result, Q + "TotalNumberOfEntries").text = str(len(window))
        etree.SubElement(response, Q + "HasMoreItems").text = "true" if page * per_page < len(window) else "false"
        return FakeResponse(200, etree.tostring(response, xml_declaration=True, encoding="utf-8"), {}, "text/xml")

    def _exchange(self, cid: str, position: int) -> Any:
        meta, thread = self.conversations[cid], self.threads[cid]
        question = thread[position]
        exchange = etree.Element(Q + "MemberMessageExchange")
        item = etree.SubElement(exchange, Q + "Item")
        etree.SubElement(item, Q + "ItemID").text = meta["referenceId"]
        etree.SubElement(item, Q + "Title").text = meta["conversationTitle"]
        q = etree.SubElement(exchange, Q + "Question")
        fields = (
            ("MessageType", "AskSellerQuestion"),
            ("QuestionType", "General"),
            ("DisplayToPublic", "false"),
            ("SenderID", question["senderUsername"]),
            ("SenderEmail", meta["_relay"]),
            ("RecipientID", self.seller),
            ("Subject", question["subject"]),
            ("Body", question["messageBody"]),
            ("MessageID", question.get("messageId")),
        )
        for name, value in fields:
            if value is not None:
                etree.SubElement(q, Q + name).text = value
        answers = []
        for later in thread[position + 1 :]:
            if later["senderUsername"] != self.seller:
                break
            answers.append(later)
        for answer in answers:
            etree.SubElement(exchange, Q + "Response").text = answer["messageBody"]
        etree.SubElement(exchange, Q + "MessageStatus").text = "Answered" if answers else "Unanswered"
        etree.SubElement(exchange, Q + "CreationDate").text = question["createdDate"]
        modified = answers[-1]["createdDate"] if answers else question["createdDate"]
        etree.SubElement(exchange, Q + "LastModifiedDate").text = modified
        return exchange

    def _add_member_message_rtq(self, root: Any) -> FakeResponse:
        call = "AddMemberMessageRTQ"
        now = self.now().timestamp()
        calls = self._rtq_calls.setdefault(self.seller, deque())
        while calls and now - calls[0] >= 60:
            calls.popleft()
        if len(calls) >= 75:
            return self._failure(call, "518", "Your application has exceeded usage limit on this call.")
        message = root.find(Q + "MemberMessage")
        fields = {"ItemID": trading.text(root, Q + "ItemID")}
        for name in ("Body", "DisplayToPublic", "EmailCopyToSender", "ParentMessageID", "RecipientID"):
            fields[name] = trading.text(message, Q + name)
        missing = [k for k in ("ItemID", "Body", "ParentMessageID", "RecipientID") if not fields.get(k)]
        if missing:
            return self._failure(call, "37", f"Input data for tag <{missing[0]}> is invalid or missing.")
        if len(fields["Body"] or "") > 2000:
            return self._failure(call, "37", "Input data for tag <Body> is too long (2000 characters at most).")
        parent = self.message_home.get(str(fields["ParentMessageID"]))
        if parent is None:
            return self._failure(call, "20139", "The parent message could not be found.")
        calls.append(now)
        self.replies.append(fields)
        self._seller_message(parent, str(fields["Body"]))
        return FakeResponse.xml(
            f'<?xml version="1.0" encoding="UTF-8"?><{call}Response xmlns="{NS}"><Timestamp>{stamp(self.now())}'
            f"</Timestamp><Ack>Success</Ack><Version>1415</Version></{call}Response>"
        )

    # --- data ----------------------------------------------------------------------------------------

    def add_conversation(
        self, buyer: Buyer, listing: Listing, subject: str, body: str, *, when: int | None = None
    ) -> dict[str, Any]:
        """A new conversation opened by ``buyer`` about ``listing``; its first message."""
        with self.lock:
            when = when or self._tick_ms()
            cid = self._next("conversation")
            self.conversations[cid] = {
                "conversationId": cid,
                "conversationStatus": "UNREAD",
                "conversationTitle": listing.title,
                "conversationType": "FROM_MEMBERS",
                "createdDate": stamp(self._at(when)),
                "referenceId": listing.item_id,
                "referenceType": "LISTING",
                "unreadCount": 0,
                "_buyer": buyer.username,
                "_relay": buyer.relay,
            }
            self.threads[cid] = []
            return self.add_buyer_message(cid, subject, body, when=when)

    def add_buyer_message(self, cid: str, subject: str, body: str, *, when: int | None = None) -> dict[str, Any]:
        with self.lock:
            meta = self.conversations[cid]
            when = when or self._tick_ms()
            message = {
                "messageId": self._next("message"),
                "createdDate": stamp(self._at(when)),
                "senderUsername": meta["_buyer"],
                "recipientUsername": self.seller,
                "subject": subject,
                "messageBody": body,
                "readStatus": False,
                "messageMedia": [],
            }
            thread = self.threads[cid]
            thread.append(message)
            self.message_home[message["messageId"]] = cid
            meta["unreadCount"] += 1
            meta["conversationStatus"] = "UNREAD"
            self.conversation_index.touch(cid, when)
            entry = (when, cid, len(thread) - 1)
            if not self.questions or entry >= self.questions[-1]:
                self.questions.append(entry)
            else:
                insort(self.questions, entry)
            return message

    def add_order(
        self, buyer: Buyer | None = None, listing: Listing | None = None, *, when: int | None = None
    ) -> dict[str, Any]:
        with self.lock:
            n = self._ids["order"] = self._ids["order"] + 1
            buyer = buyer or fakedata.generated_buyer(n % 97)
            listing = listing or fakedata.LISTINGS[n % len(fakedata.LISTINGS)]
            when = when or self._tick_ms()
            number = fakedata.order_id(n)
            placed = fakedata.order(
                number, n, buyer, listing, self.seller, self.marketplace, self._at(when), self.currency
            )
            self.orders[number] = placed
            self.order_index.touch(number, when)
            return placed

    def add_return(self, order_number: str | None = None, reason: int = 0) -> dict[str, Any]:
        with self.lock:
            placed = self.orders[order_number] if order_number else self.orders[self.order_index.keys[-1][1]]
            member = fakedata.return_request(
                self._next("return"),
                placed,
                self.seller,
                fakedata.RETURN_REASONS[reason % 4],
                self._at(self._tick_ms()),
            )
            self.returns.append(member)
            return member

    def add_inquiry(self, order_number: str | None = None) -> dict[str, Any]:
        with self.lock:
            placed = self.orders[order_number] if order_number else self.orders[self.order_index.keys[-1][1]]
            member = fakedata.inquiry(self._next("return"), placed, self.seller, self._at(self._tick_ms()))
            self.inquiries.append(member)
            return member

    # --- contract hooks ------------------------------------------------------------------------------

    def seed(self, messages: int = 0, orders: int = 0) -> None:
        """``messages`` new buyer messages (a quarter follow up recent conversations) and ``orders`` new orders."""
        rng = self._rng
        with self.lock:
            start = max(_ms(self.now()) - messages - orders, self._last_ms + 1)
            self._last_ms = start + messages + orders
            recent = self._recent
            for i in range(messages):
                when = start + i
                if recent and i % 4 == 3:
                    cid = recent[rng.randrange(len(recent))]
                    meta = self.conversations[cid]
                    subject, body = fakedata.buyer_text(rng, self._buyer_named(meta["_buyer"]), self._listing(meta))
                    self.add_buyer_message(cid, subject, body, when=when)
                    continue
                self._buyers += 1
                buyer = fakedata.generated_buyer(self._buyers)
                listing = fakedata.LISTINGS[i % len(fakedata.LISTINGS)]
                subject, body = fakedata.buyer_text(rng, buyer, listing)
                self.add_conversation(buyer, listing, subject, body, when=when)
                recent.append(str(self._ids["conversation"]))
            for j in range(orders):
                self.add_order(when=start + messages + j)

    def _buyer_named(self, username: str) -> Buyer:
        return next((b for b in fakedata.BUYERS if b.username == username), fakedata.BUYERS[len(username) % 8])

    def _listing(self, meta: dict[str, Any]) -> Listing:
        return next((item for item in fakedata.LISTINGS if item.item_id == meta["referenceId"]), fakedata.LISTINGS[0])

    def tick(self, rng: Any) -> None:
        """A burst of live traffic: a new question, a follow-up, an order, a shipment, now and then a case."""
        roll = rng.random()
        buyer = rng.choice(fakedata.BUYERS)
        listing = rng.choice(fakedata.LISTINGS)
        if roll < 0.4 or not self.conversations:
            subject, body = fakedata.buyer_text(rng, buyer, listing)
            self.add_conversation(buyer, listing, subject, body)
        elif roll < 0.65:
            cid = rng.choice(list(self.conversations)[-50:])
            meta = self.conversations[cid]
            subject, body = fakedata.buyer_text(rng, self._buyer_named(meta["_buyer"]), listing)
            self.add_buyer_message(cid, subject, body)
        elif roll < 0.85 or not self.orders:
            self.add_order(buyer, listing)
        elif roll < 0.95:
            number = rng.choice(list(self.orders)[-50:])
            self.orders[number]["orderFulfillmentStatus"] = "FULFILLED"
            when = self._tick_ms()
            self.orders[number]["lastModifiedDate"] = stamp(self._at(when))
            self.order_index.touch(number, when)
        elif roll < 0.98:
            self.add_return(rng.choice(list(self.orders)[-50:]), reason=rng.randrange(4))
        else:
            self.add_inquiry(rng.choice(list(self.orders)[-50:]))

    def rate_limit_next(self, retry_after: float = 2.0, *, path: str | None = None) -> None:
        self.fail_next(
            429,
            path=path,
            headers={"Retry-After": str(int(retry_after))},
            body={"errors": [{"errorId": 2001, "domain": "ACCESS", "category": "REQUEST",
                              "message": "Too many requests.",
                              "longMessage": "The request limit has been reached for the resource."}]},
        )  # fmt: skip

    def server_error_next(self, *, path: str | None = None) -> None:
        self.fail_next(
            500,
            path=path,
            body={"errors": [{"errorId": 10001, "domain": "API_MESSAGE", "category": "APPLICATION",
                              "message": "System error. Please try again later."}]},
        )  # fmt: skip

    def quota_error_next(self) -> None:
        """Trading reports a spent call limit inside HTTP 200 (error 518); REST answers 429 instead."""
        if self.messages_api != TRADING:
            raise NotImplementedError("the Message API reports its limit with HTTP 429 (rate_limit_next)")
        with self.lock:
            self.faults.append(Fault("/ws/api.dll", 1, self._failure(
                "GetMemberMessages", "518", "Your application has exceeded usage limit on this call."
            )))  # fmt: skip

    def drop_scope(self, stream: Stream) -> None:
        """The grant loses messages (commerce.message) or orders (sell.fulfillment, also the Post-Order calls)."""
        lost = frozenset({SCOPE_MESSAGE}) if stream is Stream.MESSAGES else FULFILLMENT_SCOPES
        with self.lock:
            for token in self.issuer.refresh:
                self.issuer.refresh[token] = self.issuer.refresh[token] - lost
            for access in self.issuer.access.values():
                access.scopes = access.scopes - lost

    def repeat_across_page_boundary(self, enabled: bool = True) -> None:
        """While on, once per walk through a listing a record from a later page jumps to the head."""
        with self.lock:
            self.repeat = enabled
            self._bumped_walk.clear()

    def add_malformed_record(self) -> None:
        """A new conversation whose message has no messageId (the connector must quarantine it)."""
        with self.lock:
            buyer, listing = fakedata.BUYERS[6], fakedata.LISTINGS[1]
            message = self.add_conversation(buyer, listing, "Broken", "This message lost its id on the way.")
            del message["messageId"]

    def account_settings(self) -> tuple[dict[str, object], dict[str, str]]:
        settings: dict[str, object] = {
            "base_url": self.url,
            "client_id": self.client_id,
            "marketplace_id": self.marketplace,
            "seller_username": self.seller,
            "messages_api": self.messages_api,
            "dev_id": self.dev_id,
        }
        with self.lock:
            refresh = self.issuer.grant()
        return settings, {"client_secret": self.client_secret, "refresh_token": refresh}

    # --- notifications -------------------------------------------------------------------------------

    def signed_push(
        self,
        event: str = "AskSellerQuestion",
        *,
        timestamp: str | None = None,
        recipient: str | None = None,
        message_id: str | None = None,
        signature: str | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """(headers, raw body) of a platform notification about a message (the newest buyer message by default)."""
        with self.lock:
            message, listing_id = self._message_for_push(message_id)
            body = fakedata.notification(
                event,
                timestamp=timestamp or stamp(self.now()),
                recipient=recipient or self.seller,
                keys=(self.dev_id, self.client_id, self.client_secret),
                message=message,
                listing_id=listing_id,
                signature=signature,
            )
        headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"http://developer.ebay.com/notification/{event}"',
        }
        return headers, body

    def _message_for_push(self, message_id: str | None) -> tuple[dict[str, Any] | None, str | None]:
        for cid in reversed(list(self.threads)):
            for message in reversed(self.threads[cid]):
                wanted = (
                    message.get("messageId") == message_id if message_id else message["senderUsername"] != self.seller
                )
                if wanted:
                    return message, self.conversations[cid]["referenceId"]
        return None, None

    def push_to(self, url: str, **what: Any) -> Response:
        headers, body = self.signed_push(**what)
        self.notifications_sent += 1
        return post(url, body, headers)
