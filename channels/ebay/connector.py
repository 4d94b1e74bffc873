"""The eBay connector: member messages, orders, returns and item-not-received cases; replies; notifications.

One fetch reads one page of each stream, orders first (so the messages and
cases of the page can link to them, and the seller's own user id is learnt
from them): orders through the Fulfillment API, member messages through the
Message API (or the Trading API's ``GetMemberMessages`` when
``messages_api`` is ``trading``), then returns and item-not-received
inquiries through the Post-Order API once the first pass over orders is done.
A stream whose scope was not granted becomes a StreamProblem while the
others flow.  The cursor and its passes: :mod:`channels.ebay.cursor`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

from channels.base import (
    AccountConfig,
    Capability,
    ChannelError,
    Check,
    Connector,
    Diagnosis,
    DiagnosisCode,
    FetchResult,
    OrderRecord,
    OutboundReply,
    PermissionMissing,
    PushRequest,
    PushResult,
    SendResult,
    Stream,
    StreamProblem,
    TransientChannelError,
    diagnose,
)
from channels.ebay import cursor as cursors
from channels.ebay import mapping, push, trading
from channels.ebay.client import EbayClient
from channels.ebay.reading import CONVERSATIONS, ORDERS, RETURNS, Collected, Reader, SellerUnknown
from channels.ebay.sending import Sender
from channels.ebay.settings import (
    REST,
    SCHEMA,
    SCOPE_FULFILLMENT,
    SCOPE_MESSAGE,
    EbaySettings,
    complete_settings,
    load_settings,
)
from channels.registry import register
from channels.schema import ConfigError
from macros.policy import ReplyPolicy

log = logging.getLogger(__name__)

EBAY_HOSTS = (
    "ebay.com", "ebay.co.uk", "ebay.de", "ebay.fr", "ebay.it", "ebay.es", "ebay.at", "ebay.ch", "ebay.ie",
    "ebay.nl", "ebay.be", "ebay.pl", "ebay.ca", "ebay.com.au", "ebay.com.hk", "ebay.com.sg", "ebay.com.my",
    "ebay.ph", "ebay.in", "ebay.us", "ebay.to",
)  # fmt: skip

REPLY_POLICY = ReplyPolicy(
    platform="ebay",
    max_chars=2000,
    forbid_links=True,
    allowed_link_hosts=EBAY_HOSTS,
    forbid_email_addresses=True,
    forbid_phone_numbers=True,
    plain_text_only=True,
    max_attachments=0,
    order_number=r"\d{2}-\d{5}-\d{5}",
    forbid_off_platform=True,
    source="eBay's offers-to-buy-or-sell-outside-eBay policy; Message API messageText (2,000 characters, plain text)",
)

GRANT_HINT = (
    "Add the scope to your application's OAuth scopes (developer.ebay.com → Application Keys → User Tokens), "
    "have the seller sign in and agree again (connect the store again), and store the new refresh token."
)


@register
class EbayConnector(Connector):
    """One eBay seller account."""

    kind = "ebay"
    title = "eBay"
    platforms = ("ebay",)
    capabilities = frozenset(
        {
            Capability.FETCH_MESSAGES,
            Capability.FETCH_ORDERS,
            Capability.FETCH_ORDER,
            Capability.SEND_REPLY,
            Capability.PUSH,
        }
    )
    schema = SCHEMA
    raw_formats = {
        mapping.RAW_MESSAGE: mapping.parse_message_raw,
        mapping.RAW_MEMBER_MESSAGE: mapping.parse_member_message_raw,
        mapping.RAW_ORDER: mapping.parse_order_raw,
        mapping.RAW_RETURN: mapping.parse_return_raw,
        mapping.RAW_INQUIRY: mapping.parse_inquiry_raw,
    }
    reply_policies = {"ebay": REPLY_POLICY}
    #: eBay's call limits are per application and day, shared by every seller it serves; notifications make
    #: messages arrive at once, so the regular poll can be slower than the helpdesk's minute
    poll_interval_s = 120

    def __init__(self, account: AccountConfig) -> None:
        super().__init__(account)
        self.settings: EbaySettings = load_settings(account)
        self.client = EbayClient(self.settings, self.credentials)
        self.reader = Reader(self.client, self.settings, account.name)
        self.sender = Sender(self.client, self.settings.seller_username)

    @classmethod
    def complete_settings(cls, settings: dict[str, object], secrets: set[str]) -> dict[str, object]:
        return complete_settings(settings, secrets)

    # --- reading -------------------------------------------------------------------------------------

    def fetch(self, cursor: str | None, limit: int = 500) -> FetchResult:
        state = cursors.load(cursor)
        out = Collected()
        problems: dict[Stream, StreamProblem] = {}
        now = datetime.now(UTC)
        reader = self.reader
        messages = "messages" if self.settings.messages_api == REST else "questions"
        streams = ["orders", messages] + (["returns", "inquiries"] if self.settings.cases else [])
        in_round = any(state.stream(name).current is not None for name in streams)

        def due(name: str) -> bool:
            """A stream reads when its pass goes on, when a new round begins, or when it never finished one."""
            stream = state.stream(name)
            return stream.current is not None or not in_round or stream.hw is None

        more = False
        orders_ok = True
        if due("orders"):
            try:
                more |= reader.orders(state, out, limit, now)
            except PermissionMissing as exc:
                orders_ok = False
                state.stream("orders").current = None  # a refused stream holds no round open
                problems[Stream.ORDERS] = self._problem(Stream.ORDERS, exc, SCOPE_FULFILLMENT)
        if due(messages):
            try:
                read = reader.conversations if messages == "messages" else reader.member_messages
                more |= read(state, out, limit, now)
            except PermissionMissing as exc:
                state.stream(messages).current = None
                problems[Stream.MESSAGES] = self._problem(Stream.MESSAGES, exc, SCOPE_MESSAGE)
            except SellerUnknown as exc:
                state.stream(messages).current = None
                problems[Stream.MESSAGES] = StreamProblem(Stream.MESSAGES, DiagnosisCode.MISCONFIGURED, str(exc))
        orders_known = not orders_ok or state.stream("orders").hw is not None  # cases link to orders read first
        if self.settings.cases and orders_known:
            for name, read_cases in (("returns", reader.returns), ("inquiries", reader.inquiries)):
                if due(name):
                    more |= self._cases(name, read_cases, state, out, now, problems, orders_ok)
        if self.sender.seller is None:
            self.sender.seller = state.me
        return FetchResult(
            messages=out.messages,
            cursor=cursors.dump(state),
            more=more,
            rejected=out.rejected,
            orders=out.orders,
            problems=list(problems.values()),
        )

    def _cases(
        self,
        name: str,
        read: Callable[[cursors.Cursor, Collected, datetime], bool],
        state: cursors.Cursor,
        out: Collected,
        now: datetime,
        problems: dict[Stream, StreamProblem],
        orders_ok: bool,
    ) -> bool:
        """Returns or inquiries; they ride on the orders grant, so a refusal joins the orders problem.

        A stream that is refused drops its pass, so it holds no round open for the streams that flow.
        """
        try:
            return read(state, out, now)
        except TransientChannelError:
            raise
        except PermissionMissing as exc:
            state.stream(name).current = None
            if orders_ok:
                problems[Stream.ORDERS] = self._problem(Stream.ORDERS, exc, SCOPE_FULFILLMENT, what="return cases")
        except ChannelError as exc:  # e.g. the sandbox, which has no Post-Order API
            state.stream(name).current = None
            log.info("eBay cases of %s not read: %s", self.account.name, exc)
            problems.setdefault(
                Stream.MESSAGES,
                StreamProblem(Stream.MESSAGES, DiagnosisCode.PLATFORM_ERROR, f"returns and inquiries: {exc}"),
            )
        return False

    def start_cursor(self, since: datetime) -> str | None:
        """A cursor whose first passes read from ``since`` (every stream filters by time)."""
        return cursors.dump(cursors.Cursor(since=cursors.ms(since)))

    def _problem(self, stream: Stream, exc: ChannelError, scope: str, what: str = "") -> StreamProblem:
        subject = what or ("member messages" if stream is Stream.MESSAGES else "orders")
        return StreamProblem(stream, DiagnosisCode.PERMISSION_MISSING, f"{subject} need the scope {scope}: {exc}")

    def fetch_order(self, order_number: str) -> OrderRecord | None:
        payload = self.client.rest(
            "GET", f"{ORDERS}/{quote(order_number, safe='')}", what="order", stream=Stream.ORDERS, missing_ok=True
        )
        if payload is None:
            return None
        return mapping.order(payload, account=self.account.name)

    # --- sending -------------------------------------------------------------------------------------

    def send_reply(self, reply: OutboundReply) -> SendResult:
        return self.sender.send(reply)

    # --- push ----------------------------------------------------------------------------------------

    @classmethod
    def handle_push(cls, request: PushRequest, accounts: Sequence[AccountConfig]) -> PushResult:
        return push.handle(request, [a for a in accounts if a.kind == cls.kind])

    # --- health --------------------------------------------------------------------------------------

    def check_connection(self) -> Diagnosis:
        """Refresh the token, then try each stream with its cheapest call."""
        try:
            self.client.tokens.token()
        except ChannelError as exc:
            hint = "Connect the store again and store the new refresh token." if diagnose(exc) is (
                DiagnosisCode.CREDENTIALS_REFUSED
            ) else ""  # fmt: skip
            return Diagnosis.from_checks([Check("credentials", diagnose(exc), str(exc))], hint=hint)
        checks = [Check("credentials", DiagnosisCode.OK, "the refresh token works")]
        checks.append(self._check("messages", self._try_messages))
        checks.append(self._check("orders", self._try_orders))
        if self.settings.cases:
            checks.append(self._check("cases", self._try_cases))
        refused = self.client.refresher.refused
        hint = ""
        if any(c.code is DiagnosisCode.PERMISSION_MISSING for c in checks):
            names = " ".join(refused) or "the scope named above"
            hint = f"Missing scope: {names}. {GRANT_HINT}"
        elif any(c.code is DiagnosisCode.RATE_LIMITED for c in checks):
            hint = "eBay's call limits for this application are spent; they refill within the day."
        return Diagnosis.from_checks(checks, hint=hint)

    def _check(self, name: str, attempt: Callable[[], str]) -> Check:
        try:
            detail = attempt()
        except (ChannelError, ConfigError) as exc:
            return Check(name, diagnose(exc), str(exc))
        return Check(name, DiagnosisCode.OK, str(detail))

    def _try_messages(self) -> str:
        if self.settings.messages_api == REST:
            self.client.rest(
                "GET",
                CONVERSATIONS,
                params={"conversation_type": "FROM_MEMBERS", "limit": 1},
                what="conversation list",
                stream=Stream.MESSAGES,
            )
            return "member messages can be read (Message API)"
        now = datetime.now(UTC)
        body = trading.get_member_messages(now.replace(hour=0, minute=0), now, 1, 25)
        self.client.trading("GetMemberMessages", body, what="member message list", stream=Stream.MESSAGES)
        return "member messages can be read (Trading API)"

    def _try_orders(self) -> str:
        data = self.client.rest("GET", ORDERS, params={"limit": 1}, what="order list", stream=Stream.ORDERS)
        orders = data.get("orders") or ()
        seller = orders[0].get("sellerId") if orders else None
        if seller and not self.settings.seller_username:
            return f"orders can be read (seller {seller}; set seller_username to route notifications)"
        return "orders can be read"

    def _try_cases(self) -> str:
        self.client.rest(
            "GET",
            RETURNS,
            params={"creation_date_range_from": trading.iso(datetime.now(UTC)), "limit": 1, "offset": 1},
            what="return search",
            stream=Stream.ORDERS,
            iaf=True,
        )
        return "returns and item-not-received requests can be read"

    def close(self) -> None:
        self.reader.close()
        self.client.close()
