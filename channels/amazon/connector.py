"""The Amazon SP-API connector: orders for a marketplace whose buyer messages arrive as relay mail.

No SP-API operation reads or answers buyer messages: they reach the
helpdesk over the email channel (``channels.email.relay`` recognises them,
with the buyer's relay alias as identity and the 3-7-7 order number).  This
connector supplies the other half: the orders, so a relay mail links to its
order and its customer, and Amazon's order-scoped Messaging API
(:attr:`Capability.MESSAGING_ACTIONS`).

Orders are read in sweeps by ``LastUpdatedAfter`` (:mod:`channels.amazon.cursor`),
with one of two versions of Amazon's Orders API (setting ``orders_api``):

* **2026-01-01** (the default): ``searchOrders`` returns each order with its
  lines and, by role, its buyer, so a page of 100 orders is one call;
  ``getOrder`` looks one order up.
* **v0**: ``getOrders`` has no lines, so every order the window holds also
  costs a ``getOrderItems`` call (each one is new or changed, and the
  helpdesk replaces an order's lines with the record's, so a record never
  goes out without them).

Amazon's quotas are tight — ``searchOrders`` refills once every three
minutes, ``getOrders`` once a minute, ``getOrderItems`` every two seconds —
so a page waits for them at most ``rate_wait_s`` and otherwise ends early
with the rest queued in the cursor.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from channels.amazon.client import (
    ORDERS_PATH,
    PII_ELEMENTS,
    InvalidInput,
    NotFound,
    RestrictedDataRefused,
    SpApiClient,
    Throttled,
)
from channels.amazon.cursor import SweepCursor, load_cursor
from channels.amazon.mapping import (
    ACTIONS,
    PLATFORM,
    RAW_ORDER,
    RAW_ORDER_2026,
    buyer_email_withheld,
    check_order,
    format_time,
    marketplace_2026,
    messaging_actions,
    order_record,
    order_record_2026,
    parse_raw_order,
    parse_raw_order_2026,
    parse_time,
    raw_order,
    raw_order_2026,
)
from channels.amazon.policy import AMAZON_POLICY
from channels.amazon.settings import ORDERS_2026, SCHEMA, AmazonSettings, complete_settings, load_settings
from channels.base import (
    AccountConfig,
    AttachmentData,
    Capability,
    ChannelError,
    Check,
    Connector,
    CustomerRecord,
    Diagnosis,
    DiagnosisCode,
    FetchResult,
    MessagingAction,
    OrderRecord,
    Party,
    PermissionMissing,
    RejectedInput,
    SendResult,
    Stream,
    StreamProblem,
    TransientChannelError,
    diagnose,
)
from channels.registry import register
from channels.schema import ConfigError
from macros.policy import check_reply

ITEMS_AT_ONCE = 4  # getOrderItems calls in flight at once (each still takes a token from the quota)
SETTLE = timedelta(minutes=2)  # Amazon's orders may be indexed up to two minutes after they change
log = logging.getLogger(__name__)

#: a Messaging API call made for a person waits at most this long for the bucket
_INTERACTIVE_WAIT_S = 3.0
#: orders the connection check reads with Orders 2026-01-01 (one call) to judge buyer data by
_CHECK_ORDERS = 20
ROLE_ORDERS = "Inventory and Order Tracking"
ROLE_MESSAGING = "Buyer Communication"
ROLES_PII = "Direct-to-Consumer Delivery (Restricted) and Tax Invoicing (Restricted)"
_REAUTHORISE_HINT = (
    "Authorise the app again in Seller Central (Apps and Services → Manage Your Apps) and store the new refresh "
    "token; check the LWA client id and secret under Develop Apps."
)
_ROLE_HINT = "Seller Central → Apps and Services → Develop Apps → edit the app → add the role, then authorise it again"


def _unusable(exc: ConfigError) -> ChannelError:
    return ChannelError(f"the account's settings cannot work: {exc}")


@dataclass(frozen=True, slots=True)
class _Shape:
    """Where one Orders API version keeps what a sweep reads."""

    list_operation: str
    orders: str
    order_id: str
    updated: str
    before: str


V0 = _Shape("getOrders", "Orders", "AmazonOrderId", "LastUpdateDate", "LastUpdatedBefore")
V2026 = _Shape("searchOrders", "orders", "orderId", "lastUpdatedTime", "lastUpdatedBefore")


@register
class AmazonConnector(Connector):
    """One Amazon seller account in one SP-API region."""

    kind = "amazon"
    title = "Amazon (Selling Partner API)"
    platforms = ("amazon",)
    capabilities = frozenset({Capability.FETCH_ORDERS, Capability.FETCH_ORDER, Capability.MESSAGING_ACTIONS})
    schema = SCHEMA
    raw_formats = {RAW_ORDER: parse_raw_order, RAW_ORDER_2026: parse_raw_order_2026}
    reply_policies = {"amazon": AMAZON_POLICY}
    #: getOrders refills one call a minute, searchOrders one every three (a poll then reads from the burst of 20
    #: and an empty bucket makes a quiet poll); leave room for `channels test`, fetch_order and a second process
    poll_interval_s = 120

    def __init__(self, account: AccountConfig) -> None:
        super().__init__(account)
        self.settings_error: ConfigError | None = None
        self._api: SpApiClient | None = None
        try:
            self.settings: AmazonSettings | None = load_settings(account)
        except ConfigError as exc:
            self.settings, self.settings_error = None, exc
        self._markets_of: dict[str, str] = {}
        self._locales_asked: set[str] = set()
        self._locale_refused = False
        self._items_pool: ThreadPoolExecutor | None = None

    @classmethod
    def complete_settings(cls, settings: dict[str, object], secrets: set[str]) -> dict[str, object]:
        return complete_settings(settings)

    @property
    def api(self) -> SpApiClient:
        if self._api is None:
            if self.settings is None:
                assert self.settings_error is not None
                raise _unusable(self.settings_error)
            self._api = SpApiClient(self.settings, self.credentials, self.account.name)
        return self._api

    @property
    def _settings(self) -> AmazonSettings:
        return self.api.settings

    @property
    def _v2026(self) -> bool:
        """Orders are read with the Orders API 2026-01-01 (else v0)."""
        return self._settings.orders_api == ORDERS_2026

    @property
    def _shape(self) -> _Shape:
        return V2026 if self._v2026 else V0

    def close(self) -> None:
        if self._items_pool is not None:
            self._items_pool.shutdown(wait=True, cancel_futures=True)
            self._items_pool = None
        if self._api is not None:
            self._api.close()
            self._api = None

    def _items_reader(self) -> ThreadPoolExecutor:
        if self._items_pool is None:
            self._items_pool = ThreadPoolExecutor(max_workers=ITEMS_AT_ONCE, thread_name_prefix="amazon-items")
        return self._items_pool

    # --- reading orders ---------------------------------------------------------------------------------

    def fetch(self, cursor: str | None, limit: int = 500) -> FetchResult:
        """One page of orders; see the module docstring for how quota shapes it."""
        api, s = self.api, self._settings
        start = format_time(datetime.now(UTC) - timedelta(days=s.initial_days))
        state = load_cursor(cursor, start=start, api=ORDERS_2026 if self._v2026 else None)
        deadline = time.monotonic() + s.rate_wait_s
        problems: list[StreamProblem] = []
        if not state.queue:
            try:
                self._read_page(state, min(limit, 100), problems)
            except Throttled as exc:  # the listing call is spent: nothing to do until the next poll
                log.info("%s: %s", self.account.name, exc)
                return FetchResult(messages=[], cursor=state.dump(), more=False, problems=problems)
        if self._v2026:
            orders, rejected = self._map_queue(state, limit, problems)
        else:
            orders, rejected = self._read_queue(state, limit, deadline)
        state.finish_if_done()
        customers = self._buyer_locales(orders, problems) if s.buyer_language and api.use_rdt else []
        return FetchResult(
            messages=[],
            cursor=state.dump(),
            more=state.more,
            rejected=rejected,
            orders=orders,
            problems=problems,
            customers=customers,
        )

    def _get_orders(self, state: SweepCursor, page_size: int, problems: list[StreamProblem]) -> dict[str, Any]:
        """getOrders, falling back to no buyer data (and saying so) when Amazon refuses the restricted token."""
        wait = min(1.0, self._settings.rate_wait_s)
        try:
            if state.token:
                return self.api.get_orders(next_token=state.token, max_wait=wait)
            return self.api.get_orders(after=state.after, max_results=page_size, max_wait=wait)
        except RestrictedDataRefused as exc:
            self.api.use_rdt = False
            problems.append(
                StreamProblem(
                    Stream.ORDERS,
                    DiagnosisCode.PERMISSION_MISSING,
                    f"orders are read without buyer e-mail and address: {exc} (the app needs the restricted roles "
                    f"{ROLES_PII}, or switch off use_restricted_data_token)",
                )
            )
            return self._get_orders(state, page_size, problems)

    def _list_orders(self, state: SweepCursor, page_size: int, problems: list[StreamProblem]) -> dict[str, Any]:
        if self._v2026:
            wait = min(1.0, self._settings.rate_wait_s)
            return self.api.search_orders(after=state.after, token=state.token, max_results=page_size, max_wait=wait)
        return self._get_orders(state, page_size, problems)

    def _read_page(self, state: SweepCursor, page_size: int, problems: list[StreamProblem]) -> None:
        """The next page of orders into the queue; a refused page token starts the window again."""
        shape = self._shape
        try:
            body = self._list_orders(state, page_size, problems)
        except InvalidInput as exc:
            if not state.token:
                raise
            log.warning("%s: Amazon refused the page token (%s); reading the window again", self.account.name, exc)
            state.restart()
            body = self._list_orders(state, page_size, problems)
        orders = body.get(shape.orders)
        if not isinstance(orders, list):
            raise ChannelError(f"Amazon answered {shape.list_operation} without an {shape.orders} list")
        if state.before is None:
            before = body.get(shape.before)
            state.before = before if isinstance(before, str) and before else self._window_end(orders, state.after)
        state.queue = [order for order in orders if isinstance(order, dict)]
        pagination = body.get("pagination") if isinstance(body.get("pagination"), Mapping) else {}
        token = pagination.get("nextToken") if self._v2026 else body.get("NextToken")
        state.token = token if isinstance(token, str) and token else None

    def _window_end(self, orders: list[Any], after: str) -> str:
        """Where a sweep ends when Amazon did not say: its newest order (2026-01-01: at most two minutes ago)."""
        if not self._v2026:
            return _latest(orders, after)
        start = parse_time(after, "after")
        times = []
        for order in orders:
            with contextlib.suppress(ValueError, AttributeError):  # an order that does not map is quarantined
                times.append(parse_time(order.get(V2026.updated), V2026.updated))
        settled = datetime.now(UTC) - SETTLE
        return format_time(max(start, min(max(times, default=start), settled)))

    def _map_queue(
        self, state: SweepCursor, limit: int, problems: list[StreamProblem]
    ) -> tuple[list[OrderRecord], list[RejectedInput]]:
        """Orders 2026-01-01: the queue's orders (lines inside, no call) up to ``limit``."""
        orders: list[OrderRecord] = []
        rejected: list[RejectedInput] = []
        emitted: dict[str, str] = {}
        taken = 0
        for raw in state.queue:
            if len(orders) + len(rejected) >= limit:
                break
            taken += 1
            order_id, updated = str(raw.get("orderId") or ""), str(raw.get("lastUpdatedTime") or "")
            if order_id and state.recent.get(order_id) == updated:
                continue  # the order a page boundary (or the window's inclusive edge) repeats
            try:
                orders.append(order_record_2026(raw, self.account.name))
            except ValueError as exc:
                rejected.append(RejectedInput(raw_order_2026(raw), RAW_ORDER_2026, str(exc), _field(exc)))
            emitted[order_id] = updated
        withheld = buyer_email_withheld(state.queue[:taken]) if self.api.use_rdt else 0
        if withheld:
            problems.append(StreamProblem(Stream.ORDERS, DiagnosisCode.PERMISSION_MISSING, _no_buyer_email(withheld)))
        state.queue = state.queue[taken:]
        if emitted:
            state.recent = emitted
        return orders, rejected

    def _read_queue(
        self, state: SweepCursor, limit: int, deadline: float
    ) -> tuple[list[OrderRecord], list[RejectedInput]]:
        """Orders of the queue with their lines, until ``limit`` or the quota's wait budget runs out.

        The lines of the next few orders are asked for at once (``ITEMS_AT_ONCE``,
        within the operation's quota, which every request still takes a token
        from): on a real network each call waits on Amazon far longer than it
        costs here.  Results are used in queue order, so what a page holds and
        where it stops are as if they had been read one by one.
        """
        orders: list[OrderRecord] = []
        rejected: list[RejectedInput] = []
        emitted: dict[str, str] = {}
        queue = state.queue
        pending: dict[int, Future[list[dict[str, Any]]]] = {}
        done = 0
        try:
            while done < len(queue) and len(orders) + len(rejected) < limit:
                self._ask_ahead(queue, done, limit - len(orders) - len(rejected), deadline, state, pending)
                raw = queue[done]
                order_id, updated = str(raw.get("AmazonOrderId") or ""), str(raw.get("LastUpdateDate") or "")
                if order_id and state.recent.get(order_id) == updated:
                    done += 1  # the order a page boundary (or the window's inclusive edge) repeats
                    continue
                error: ValueError | None = None
                try:
                    check_order(raw)
                except ValueError as exc:
                    error = exc
                items = None
                if order_id:  # read even for a bad header, so the quarantined record can be replayed whole
                    try:
                        items = pending.pop(done).result()
                    except TransientChannelError as exc:
                        if not (orders or rejected or isinstance(exc, Throttled)):
                            raise  # the first call failed: the poll backs off (for Amazon's retry-after, if any)
                        break  # what was read is kept; the rest waits in the queue for the next page
                    except (NotFound, InvalidInput, ValueError) as exc:
                        error = error or ValueError(f"OrderItems could not be read: {exc}")
                if error is None and items is not None:
                    try:
                        orders.append(order_record(raw, items, self.account.name))
                    except ValueError as exc:
                        error = exc
                if error is not None:
                    rejected.append(RejectedInput(raw_order(raw, items), RAW_ORDER, str(error), _field(error)))
                emitted[order_id] = updated
                done += 1
        finally:
            for future in pending.values():  # asked for but not used: those orders stay in the queue
                future.cancel()
                with contextlib.suppress(Exception):
                    future.result()
        state.queue = queue[done:]
        if emitted:
            state.recent = emitted
        return orders, rejected

    def _ask_ahead(
        self,
        queue: list[dict[str, Any]],
        start: int,
        room: int,
        deadline: float,
        state: SweepCursor,
        pending: dict[int, Future[list[dict[str, Any]]]],
    ) -> None:
        """When the last batch is used up, ask for the lines of the next ``ITEMS_AT_ONCE`` orders at once.

        In batches rather than a sliding window: a later order's call must not
        take the quota's last token before an earlier one's.
        """
        if pending:
            return
        reader = self._items_reader()
        for index in range(start, min(len(queue), start + min(room, ITEMS_AT_ONCE))):
            raw = queue[index]
            order_id, updated = str(raw.get("AmazonOrderId") or ""), str(raw.get("LastUpdateDate") or "")
            if index in pending or not order_id or state.recent.get(order_id) == updated:
                continue
            wait = max(0.0, deadline - time.monotonic())
            pending[index] = reader.submit(self.api.get_order_items, order_id, max_wait=wait)

    def _buyer_locales(self, orders: list[OrderRecord], problems: list[StreamProblem]) -> list[CustomerRecord]:
        """Each new buyer's preferred language (Messaging API ``getAttributes``), as far as the quota allows now."""
        found: list[CustomerRecord] = []
        for order in orders:
            email = order.buyer.email
            if not email or email in self._locales_asked or self._locale_refused:
                continue
            market = self._market_of_record(order)
            try:
                body = self.api.buyer_attributes(order.order_number, market)
            except PermissionMissing as exc:
                self._locale_refused = True
                problems.append(
                    StreamProblem(
                        Stream.MESSAGES,
                        DiagnosisCode.PERMISSION_MISSING,
                        f"buyers' languages cannot be read: {exc} (add the {ROLE_MESSAGING} role)",
                    )
                )
                break
            except (NotFound, InvalidInput):
                continue
            except ChannelError as exc:  # quota or a passing failure: the orders matter, the language can wait
                log.info("%s: buyer languages wait for the next poll: %s", self.account.name, exc)
                break
            self._locales_asked.add(email)
            buyer = body.get("buyer") if isinstance(body.get("buyer"), Mapping) else {}
            locale = buyer.get("locale")
            if isinstance(locale, str) and locale:
                party = Party(email=email, name=order.buyer.name, country=order.buyer.country)
                found.append(CustomerRecord(PLATFORM, self.account.name, party, locale, order.updated_at))
        return found

    def _market_of_record(self, order: OrderRecord) -> str:
        for market in self._settings.marketplaces:
            if market.country == order.site:
                self._markets_of[order.order_number] = market.id
                return market.id
        return self._settings.marketplace_ids[0]

    # --- one order ----------------------------------------------------------------------------------------

    def fetch_order(self, order_number: str) -> OrderRecord | None:
        """getOrder (v0: and getOrderItems), buyer data as the account reads it; None when Amazon has no such order."""
        wait = min(_INTERACTIVE_WAIT_S, self._settings.rate_wait_s)
        if self._v2026:
            return self._fetch_order_2026(order_number, wait)
        try:
            raw = self.api.get_order(order_number, max_wait=wait)
            items = self.api.get_order_items(order_number, max_wait=wait)
        except (NotFound, InvalidInput):
            return None
        except RestrictedDataRefused:
            self.api.use_rdt = False
            return self.fetch_order(order_number)
        try:
            record = order_record(raw, items, self.account.name)
        except ValueError as exc:
            raise ChannelError(f"Amazon's order {order_number} does not map: {exc}") from None
        if raw.get("MarketplaceId"):
            self._markets_of[order_number] = str(raw["MarketplaceId"])
        return record

    def _fetch_order_2026(self, order_number: str, wait: float) -> OrderRecord | None:
        try:
            raw = self.api.get_order_2026(order_number, max_wait=wait)
        except (NotFound, InvalidInput):
            return None
        try:
            record = order_record_2026(raw, self.account.name)
        except ValueError as exc:
            raise ChannelError(f"Amazon's order {order_number} does not map: {exc}") from None
        market = marketplace_2026(raw)
        if market:
            self._markets_of[order_number] = market
        return record

    # --- Messaging API ----------------------------------------------------------------------------------------

    def _marketplace_for(self, order_number: str) -> str:
        """The marketplace an order was placed in: the only one, one seen, or getOrder's answer."""
        ids = self._settings.marketplace_ids
        if len(ids) == 1:
            return ids[0]
        known = self._markets_of.get(order_number)
        if known:
            return known
        try:
            if self._v2026:
                raw = self.api.get_order_2026(order_number, max_wait=_INTERACTIVE_WAIT_S)
            else:
                raw = self.api.get_order(order_number, max_wait=_INTERACTIVE_WAIT_S)
        except (NotFound, InvalidInput):
            raise ChannelError(f"Amazon knows no order {order_number} for this seller account") from None
        market = (marketplace_2026(raw) if self._v2026 else str(raw.get("MarketplaceId") or "")) or ids[0]
        self._markets_of[order_number] = market
        return market

    def messaging_actions(self, order_number: str) -> list[MessagingAction]:
        """The message types Amazon allows for this order now (``getMessagingActionsForOrder``)."""
        market = self._marketplace_for(order_number)
        try:
            hal = self.api.messaging_actions(order_number, market, max_wait=_INTERACTIVE_WAIT_S)
        except NotFound:
            raise ChannelError(f"Amazon knows no order {order_number} for this seller account") from None
        return messaging_actions(hal)

    def send_messaging_action(
        self, order_number: str, action: str, text: str, attachments: tuple[AttachmentData, ...] = ()
    ) -> SendResult:
        """Send one templated message; plain text, checked against Amazon's rules before it leaves."""
        spec = ACTIONS.get(action)
        if attachments or (spec is not None and spec.attachments[0] > 0):
            raise ChannelError(
                f"{action} needs files sent through Amazon's Uploads API, which this helpdesk does not use yet; "
                "send it from Seller Central"
            )
        body: dict[str, Any] = {}
        if spec is None or spec.text_limit is not None:
            limit = spec.text_limit if spec is not None else None
            if not text.strip():
                raise ChannelError(f"{action} needs a text")
            if limit is not None and len(text) > limit:
                raise ChannelError(f"{action} takes at most {limit} characters; this text has {len(text)}")
            blocking = [v for v in check_reply(AMAZON_POLICY, text) if v.blocking]
            if blocking:
                found = ", ".join(f"{v.code} ({v.detail})" for v in blocking)
                raise ChannelError(f"Amazon does not allow this in a message to a buyer: {found}")
            body["text"] = text
        elif text.strip():
            raise ChannelError(f"{action} takes no text; Amazon sends its own template")
        market = self._marketplace_for(order_number)
        reply = self.api.send_message(order_number, market, action, body, max_wait=_INTERACTIVE_WAIT_S)
        request_id = reply.headers.get("x-amzn-requestid")
        if request_id:
            external_id = f"amazon-request:{request_id}"
        else:
            digest = hashlib.sha256(f"{order_number}\n{action}\n{text}".encode()).hexdigest()[:20]
            external_id = f"amazon-message:{order_number}:{action}:{digest}"
        return SendResult(external_id=external_id, sent_at=datetime.now(UTC))

    # --- health ----------------------------------------------------------------------------------------------

    def check_connection(self) -> Diagnosis:
        """Refresh the token, then the cheapest call of each capability: orders, messaging, buyer data."""
        if self.settings is None:
            assert self.settings_error is not None
            check = Check("settings", DiagnosisCode.MISCONFIGURED, str(self.settings_error))
            return Diagnosis.from_checks([check])
        try:
            self.api.tokens.token()
        except ChannelError as exc:
            code = diagnose(exc)
            hint = _REAUTHORISE_HINT if code is DiagnosisCode.CREDENTIALS_REFUSED else ""
            return Diagnosis.from_checks([Check("credentials", code, str(exc))], hint=hint)
        checks = [Check("credentials", DiagnosisCode.OK, "Login with Amazon issued an access token")]
        hints: list[str] = []
        order_id, orders = self._check_orders(checks, hints)
        self._check_messaging(order_id, checks, hints)
        if self.api.use_rdt and not self._v2026:
            self._check_buyer_data(checks, hints)
        elif self.api.use_rdt and orders is not None:
            self._check_buyer_email(orders, checks, hints)
        return Diagnosis.from_checks(checks, hint=" ".join(hints))

    @staticmethod
    def _failed(name: str, exc: ChannelError, needs: str, checks: list[Check], hints: list[str]) -> None:
        checks.append(Check(name, diagnose(exc), str(exc)))
        if isinstance(exc, PermissionMissing):
            hints.append(f"{needs} ({_ROLE_HINT}).")

    def _check_orders(self, checks: list[Check], hints: list[str]) -> tuple[str | None, list[Any] | None]:
        """One listing call for the last 30 days: the first order found serves the messaging check, and
        (2026-01-01, which reads the buyer in the same call) the orders the buyer-data check.
        """
        after = format_time(datetime.now(UTC) - timedelta(days=30))
        shape = self._shape
        try:
            if self._v2026:
                body = self.api.search_orders(after=after, max_results=_CHECK_ORDERS, max_wait=2.0)
            else:
                body = self.api.get_orders(after=after, max_results=1, max_wait=2.0, pii=False)
        except InvalidInput as exc:
            checks.append(Check("orders", DiagnosisCode.MISCONFIGURED, str(exc)))
            return None, None
        except ChannelError as exc:
            self._failed("orders", exc, f"Orders need the {ROLE_ORDERS} role", checks, hints)
            return None, None
        orders = body.get(shape.orders) if isinstance(body.get(shape.orders), list) else []
        first = orders[0] if orders and isinstance(orders[0], dict) else {}
        order_id = str(first[shape.order_id]) if first.get(shape.order_id) else None
        found = f"order {order_id} is the first of the last 30 days" if order_id else "no order in the last 30 days"
        checks.append(Check("orders", DiagnosisCode.OK, f"{shape.list_operation} works ({found})"))
        return order_id, orders

    def _check_buyer_email(self, orders: list[Any], checks: list[Check], hints: list[str]) -> None:
        """Orders 2026-01-01 needs no token for buyer data, only the roles: judge them by recent orders."""
        withheld = buyer_email_withheld(orders)
        if withheld:
            checks.append(Check("buyer_data", DiagnosisCode.PERMISSION_MISSING, _no_buyer_email(withheld)))
            hints.append(f"Buyer e-mail and address need the roles {ROLES_PII} ({_ROLE_HINT}).")
        elif any(
            isinstance(o, dict) and isinstance(o.get("buyer"), dict) and o["buyer"].get("buyerEmail") for o in orders
        ):
            checks.append(Check("buyer_data", DiagnosisCode.OK, "Amazon returns the buyers' e-mail aliases"))
        else:
            checks.append(
                Check(
                    "buyer_data",
                    DiagnosisCode.OK,
                    "no recent merchant-fulfilled order to judge buyer data by; it needs no token with Orders "
                    "API 2026-01-01, only the restricted roles",
                )
            )

    def _check_messaging(self, order_id: str | None, checks: list[Check], hints: list[str]) -> None:
        """Messaging actions of a recent order; without one, of a placeholder order (the role is checked first)."""
        market = self._settings.marketplace_ids[0]
        try:
            self.api.messaging_actions(order_id or "000-0000000-0000000", market, max_wait=2.0)
        except (NotFound, InvalidInput):
            pass  # the role was accepted; only the placeholder order is unknown
        except ChannelError as exc:
            self._failed("messaging", exc, f"Messaging actions need the {ROLE_MESSAGING} role", checks, hints)
            return
        checks.append(Check("messaging", DiagnosisCode.OK, "the Messaging API answers"))

    def _check_buyer_data(self, checks: list[Check], hints: list[str]) -> None:
        try:
            self.api.restricted_token(ORDERS_PATH, PII_ELEMENTS)
        except ChannelError as exc:
            self._failed("buyer_data", exc, f"Buyer e-mail and address need the roles {ROLES_PII}", checks, hints)
            return
        checks.append(Check("buyer_data", DiagnosisCode.OK, "a restricted data token for buyer data was issued"))


def _no_buyer_email(withheld: int) -> str:
    return (
        f"Amazon returned no buyer e-mail for {withheld} merchant-fulfilled order(s) that should carry one: the app "
        f"probably lacks the restricted roles {ROLES_PII} (or switch off use_restricted_data_token)"
    )


def _latest(orders: Iterable[Any], fallback: str) -> str:
    """The newest LastUpdateDate of a page, when Amazon did not say where its window ended."""
    dates = [o["LastUpdateDate"] for o in orders if isinstance(o, dict) and isinstance(o.get("LastUpdateDate"), str)]
    return max(dates, default=fallback)


def _field(error: ValueError) -> str | None:
    """The field a mapping error names (its first word, when it looks like one: ``PurchaseDate``, ``orderItems[0]``)."""
    first = str(error).split(" ", 1)[0]
    return first if not first.islower() and first.replace(".", "").replace("[", "").replace("]", "").isalnum() else None
