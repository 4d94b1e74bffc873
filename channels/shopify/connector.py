"""The Shopify connector: a store's orders and customers polled over GraphQL, its webhooks pushed.

There are no buyer messages to read (they arrive as mail through the
e-mail channel).  ``fetch`` reads orders changed since the cursor, newest
last, and hands over each order with its customer, so mail from a buyer —
which names the order ``#1042`` and comes from the buyer's address — lands
on the same customer and order.  One ``fetch`` runs several GraphQL pages
(each as large as Shopify's per-query cost limit allows) until about
``limit`` orders are read, and stops early when the cost bucket runs low;
the cursor after the last page covers exactly what was returned.

Webhooks (:meth:`handle_push`, :mod:`channels.shopify.push`) deliver changes
within seconds; polling is the backstop that catches what a missed webhook
lost.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from channels.base import (
    AccountConfig,
    Capability,
    ChannelError,
    Check,
    Connector,
    CustomerRecord,
    Diagnosis,
    DiagnosisCode,
    FetchResult,
    OrderRecord,
    PushRequest,
    PushResult,
    RejectedInput,
    Stream,
    StreamProblem,
    diagnose,
)
from channels.registry import register
from channels.shopify import push, queries
from channels.shopify.client import Result, ShopifyClient, StoreUnavailable, permission_error, required_scope
from channels.shopify.cursor import OrderCursor
from channels.shopify.mapping import (
    PLATFORM,
    MappingError,
    customer_from_node,
    gid_number,
    order_from_node,
    parse_order,
)
from channels.shopify.settings import SCHEMA, ShopifySettings, complete_settings, load_settings

log = logging.getLogger(__name__)

ID_DIGITS = 10  # order ids are long numbers; a shorter number is an order name without its "#"
SCOPE_HINT = (
    "Grant the app the read_orders and read_customers scopes: for a Dev Dashboard app, the app's version → "
    "Access (release it and approve it in the store); for an app made in the store admin, Settings → Apps and "
    "sales channels → Develop apps → the app → Configuration. Then test again."
)


@register
class ShopifyConnector(Connector):
    """One Shopify store: orders and customers in, webhooks verified; replies go by e-mail."""

    kind = "shopify"
    title = "Shopify"
    platforms = (PLATFORM,)
    capabilities = frozenset({Capability.FETCH_ORDERS, Capability.FETCH_ORDER, Capability.PUSH})
    schema = SCHEMA
    raw_formats = {push.RAW_ORDER: parse_order}

    def __init__(self, account: AccountConfig) -> None:
        super().__init__(account)
        self.settings: ShopifySettings = load_settings(account)
        self.client = ShopifyClient(self.settings, self.credentials)

    @classmethod
    def complete_settings(cls, settings: dict[str, object], secrets: set[str]) -> dict[str, object]:
        return complete_settings(settings, secrets)

    def close(self) -> None:
        self.client.close()

    # --- reading ---------------------------------------------------------------------------------

    def start_cursor(self, since: datetime) -> str | None:
        return OrderCursor(since=int(since.timestamp())).dump()

    def fetch(self, cursor: str | None, limit: int = 500) -> FetchResult:
        state = OrderCursor.load(cursor)
        now = datetime.now(UTC)
        if state.since is None and state.after is None:
            state.since = int((now - timedelta(days=self.settings.history_days)).timestamp())
        page = _Page(self.account.name)
        more, calls = False, 0
        while True:
            first = max(1, min(queries.PAGE_MAX, limit - page.read))
            try:
                result = self._orders(state, first)
            except ChannelError:
                if not calls:
                    raise
                more = True  # what was read stands; the next call meets the error again
                break
            calls += 1
            connection = result.data.get("orders") if result.data else None
            if not isinstance(connection, dict):
                raise ChannelError(f"Shopify's orders answer has no orders: {_messages(result)}")
            nodes = connection.get("nodes") or []
            page.add(nodes, state)
            if result.denied("orders") is not None:
                page.customers_denied(result)
            info = connection.get("pageInfo") or {}
            stamp = int(now.timestamp())
            if info.get("hasNextPage") and info.get("endCursor"):
                state.next_page(str(info["endCursor"]), len(nodes))
                more = True
            else:
                state.end_pass(stamp, self.settings.overlap_s)
                more = False
            state.prune(stamp, self.settings.overlap_s)
            if not more or page.read >= limit or self._bucket_low():
                break
        return page.result(state.dump(), more)

    def _orders(self, state: OrderCursor, first: int) -> Result:
        """One orders page; an expired page cursor restarts the pass (re-reads are skipped or harmless)."""
        since = datetime.fromtimestamp(state.since or 0, UTC)
        variables = {"first": first, "after": state.after, "query": queries.updated_since(since)}
        result = self.client.graphql(queries.ORDERS, variables, what="orders page")
        denied = result.denied("orders")
        if denied is not None and not _path_below(denied):
            raise permission_error(denied, Stream.ORDERS, "read_orders")
        if result.data is None and state.after is not None and result.other_errors():
            log.warning("Shopify refused the page cursor (%s); restarting the pass", _messages(result))
            state.after, state.read = None, 0
            result = self.client.graphql(queries.ORDERS, {**variables, "after": None}, what="orders page")
        if result.data is None:
            raise ChannelError(f"Shopify answered the orders page with errors: {_messages(result)}")
        return result

    def _bucket_low(self) -> bool:
        """Whether the next full page would be throttled: stop here rather than be refused."""
        cost = self.client.last_cost
        return cost is not None and cost.maximum > 0 and cost.available < queries.orders_cost(queries.PAGE_MAX)

    def fetch_order(self, order_number: str) -> OrderRecord | None:
        """One order by its name (``#1042``, or ``1042``) or its numeric id."""
        text = order_number.strip()
        by_id = text.isdigit() and len(text) >= ID_DIGITS
        name = text if by_id or not text.isdigit() else f"#{text}"
        query = f"id:{text}" if by_id else f"name:{queries.search_value(name)}"
        result = self.client.graphql(queries.ORDERS, {"first": 5, "after": None, "query": query}, what="order lookup")
        denied = result.denied("orders")
        if denied is not None and not _path_below(denied):
            raise permission_error(denied, Stream.ORDERS, "read_orders")
        nodes = ((result.data or {}).get("orders") or {}).get("nodes") or []
        for node in nodes:
            if (by_id and gid_number(node.get("id")) == text) or (
                not by_id and str(node.get("name") or "").casefold() == name.casefold()
            ):
                try:
                    return order_from_node(node, self.account.name)
                except MappingError as exc:
                    raise ChannelError(f"Shopify's order {name} cannot be read: {exc}") from None
        return None

    # --- health ----------------------------------------------------------------------------------

    def check_connection(self) -> Diagnosis:
        """The token (renewed if it expires), the store it belongs to, and both read scopes, in one call."""
        try:
            result = self.client.graphql(queries.CHECK, what="connection test")
        except ChannelError as exc:
            code = diagnose(exc)
            if isinstance(exc, StoreUnavailable) and exc.misconfigured:
                code = DiagnosisCode.MISCONFIGURED
            return Diagnosis.from_checks([Check("credentials", code, str(exc))])
        data = result.data or {}
        shop = data.get("shop") or {}
        checks = [self._store_check(shop)]
        for name, root, scope in (("orders", "orders", "read_orders"), ("customers", "customers", "read_customers")):
            denied = result.denied(root)
            if denied is not None:
                missing = required_scope(denied, scope)
                checks.append(Check(name, DiagnosisCode.PERMISSION_MISSING, f"the app lacks the {missing} scope"))
            elif data.get(root) is None and result.other_errors():
                checks.append(Check(name, DiagnosisCode.PLATFORM_ERROR, _messages(result)))
            else:  # read, or withheld only because another field was denied (GraphQL nulls the whole answer)
                checks.append(Check(name, DiagnosisCode.OK, f"{name} can be read"))
        checks.append(self._webhook_check())
        hint = SCOPE_HINT if any(c.code is DiagnosisCode.PERMISSION_MISSING for c in checks) else ""
        return Diagnosis.from_checks(checks, hint=hint)

    def _store_check(self, shop: dict[str, Any]) -> Check:
        domain = str(shop.get("myshopifyDomain") or "").lower()
        if domain and domain != self.settings.shop:
            return Check(
                "store", DiagnosisCode.MISCONFIGURED, f"the token belongs to {domain}, not {self.settings.shop}"
            )
        return Check("store", DiagnosisCode.OK, f"connected to {shop.get('name') or self.settings.shop}")

    def _webhook_check(self) -> Check:
        if self.credentials.get().get("client_secret"):
            return Check("webhooks", DiagnosisCode.OK, "webhooks are verified with the client secret")
        return Check("webhooks", DiagnosisCode.OK, "no client secret: webhooks are refused, orders arrive by polling")

    # --- webhooks --------------------------------------------------------------------------------

    @classmethod
    def handle_push(cls, request: PushRequest, accounts: Sequence[AccountConfig]) -> PushResult:
        return push.handle(request, accounts)

    def subscribe_push(self, callback_url: str) -> list[str]:
        """Subscribe the store's order, customer and uninstall topics to ``callback_url``; the topics now subscribed.

        A topic already subscribed to that address counts as done.  The
        privacy topics cannot be subscribed through the API: they belong to
        the app's configuration.
        """
        target = {"uri" if self.settings.uri_subscriptions else "callbackUrl": callback_url, "format": "JSON"}
        done = []
        for topic in push.SUBSCRIBED_TOPICS:
            enum = topic.upper().replace("/", "_")
            result = self.client.graphql(
                queries.SUBSCRIBE, {"topic": enum, "subscription": target}, what="webhook subscription"
            )
            denied = result.denied("webhookSubscriptionCreate")
            if denied is not None:
                raise permission_error(denied, Stream.ORDERS, "read_orders")
            payload = (result.data or {}).get("webhookSubscriptionCreate") or {}
            errors = [e for e in payload.get("userErrors") or () if "taken" not in str(e.get("message", "")).lower()]
            if errors or (result.data is None and result.errors):
                raise ChannelError(f"Shopify refused the {topic} subscription: {errors or _messages(result)}")
            done.append(topic)
        return done


class _Page:
    """The records one ``fetch`` gathers, and what it could not map."""

    def __init__(self, account: str) -> None:
        self.account = account
        self.orders: list[OrderRecord] = []
        self.rejected: list[RejectedInput] = []
        self.customers: dict[str, CustomerRecord] = {}
        self.problems: list[StreamProblem] = []
        self.read = 0  # nodes read, delivered or skipped as already delivered: what bounds one fetch

    def add(self, nodes: list[dict[str, Any]], state: OrderCursor) -> None:
        self.read += len(nodes)
        for node in nodes:
            order_id = gid_number(node.get("id"))
            updated = _epoch(node.get("updatedAt"))
            if order_id and updated is not None and state.delivered(order_id, updated):
                continue
            try:
                order = order_from_node(node, self.account)
            except MappingError as exc:
                raw = json.dumps(node, ensure_ascii=False, separators=(",", ":")).encode()
                self.rejected.append(RejectedInput(raw, push.RAW_ORDER, str(exc), exc.field))
            else:
                self.orders.append(order)
                customer = customer_from_node(node, self.account)
                if customer is not None and customer.party.platform_id:
                    self.customers[customer.party.platform_id] = customer  # nodes come oldest first: keep the last
            if order_id and updated is not None:
                state.note(order_id, updated)

    def customers_denied(self, result: Result) -> None:
        """Orders flow but their customers were withheld (no read_customers): say so once."""
        if self.problems:
            return
        denied = result.denied("orders")
        scope = required_scope(denied or {}, "read_customers")
        self.problems.append(
            StreamProblem(
                Stream.ORDERS,
                DiagnosisCode.PERMISSION_MISSING,
                f"the app lacks the {scope} scope: orders arrive without their customer, so buyers' mail links "
                "to them only by e-mail address",
            )
        )

    def result(self, cursor: str, more: bool) -> FetchResult:
        return FetchResult(
            messages=[],
            cursor=cursor,
            more=more,
            rejected=self.rejected,
            orders=self.orders,
            problems=self.problems,
            customers=list(self.customers.values()),
        )


def _path_below(error: dict[str, Any]) -> bool:
    """Whether an ACCESS_DENIED error is about a field inside the orders (a customer), not the orders."""
    path = error.get("path")
    return isinstance(path, list) and len(path) > 1


def _epoch(value: Any) -> int | None:
    try:
        return int(datetime.fromisoformat(value).timestamp())
    except (TypeError, ValueError):
        return None


def _messages(result: Result) -> str:
    return "; ".join(str(e.get("message") or e) for e in result.errors)
