"""A loopback Shopify: the GraphQL Admin API the connector calls, the token endpoint, and webhooks.

What it reproduces, as Shopify does it:

* ``POST /admin/api/{version}/graphql.json`` answering the connector's
  operations (recognised by their ``Helpdesk…`` operation names), with the
  variables checked: ``orders`` sorted by ``UPDATED_AT``, filtered by
  ``updated_at:>='…'``, ``name:…`` or ``id:…``, paged by an opaque
  ``endCursor``; ``shop`` and ``customers`` for the connection test;
  ``webhookSubscriptionCreate``;
* ``X-Shopify-Access-Token`` checked: a wrong or expired token gets 401 and
  ``{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}``;
* scopes: without ``read_orders`` the orders field is ``ACCESS_DENIED``; without
  ``read_customers`` the customers field is, and each order's ``customer``
  comes back null with an error at its path;
* query cost: every answer carries ``extensions.cost``; a query asking for
  more than 1,000 points is refused (``MAX_COST_EXCEEDED``); :meth:`meter`
  switches on the leaky bucket (``THROTTLED`` inside HTTP 200), which is off by
  default so benchmarks measure the connector, not Shopify's plan;
* ``POST /admin/oauth/access_token`` for expiring offline tokens: an hour's
  access token and a 90-day refresh token replaced at every refresh; the old
  refresh token keeps working until its replacement is first used (at most
  30 days), Shopify's rule since August 2026; and the client-credentials
  grant of an app installed on the organisation's own store (a day's token);
* webhooks signed exactly like Shopify's (:meth:`signed_push`, :meth:`push_to`).

Shopify has no buyer messages: :meth:`seed` adds orders only and
:attr:`replies` stays empty.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import random
import re
import secrets
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from channels.base import Stream
from channels.fake import FakeRequest, FakeResponse, FakeServer, TokenIssuer
from channels.http import Response, post
from channels.shopify import queries
from channels.shopify.fakestore import FakeStore, Order, node, rest_customer, rest_order
from channels.shopify.settings import DEFAULT_API_VERSION
from channels.shopify.signing import sign

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"  # noqa: S105
SCOPES = frozenset({"read_orders", "read_customers"})
REFRESH_LIFETIME = timedelta(days=90)
REFRESH_GRACE = timedelta(days=30)
APP_TOKEN_LIFETIME = timedelta(seconds=86399)  # client-credentials tokens: about a day
TOPICS = frozenset(
    {
        "ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED", "ORDERS_FULFILLED", "ORDERS_PAID",
        "CUSTOMERS_CREATE", "CUSTOMERS_UPDATE", "APP_UNINSTALLED",
    }
)  # fmt: skip
_OPERATION = re.compile(r"\b(query|mutation)\s+(Helpdesk\w+)")
_SIZE = {name: re.compile(rf"\b{name}\(first:\s*(\d+)\)") for name in ("lineItems", "fulfillments", "trackingInfo")}
_SINCE = re.compile(r"^updated_at:(>=?)'?([^' ]+)'?$")
_DOCS = "https://shopify.dev/api/usage/access-scopes"


class CostBucket:
    """Shopify's leaky bucket of query-cost points (real time, not the fake's clock)."""

    def __init__(self, maximum: float = 2000.0, restore_rate: float = 100.0) -> None:
        self.maximum = maximum
        self.restore_rate = restore_rate
        self._level = maximum
        self._at = time.monotonic()

    @property
    def available(self) -> float:
        now = time.monotonic()
        self._level = min(self.maximum, self._level + (now - self._at) * self.restore_rate)
        self._at = now
        return self._level

    def take(self, points: float) -> bool:
        if self.available < points:
            return False
        self._level -= points
        return True

    def refund(self, points: float) -> None:
        self._level = min(self.maximum, self.available + points)


def _error(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code, **extensions}}


def _denied(field: str, scope: str, path: list[Any]) -> dict[str, Any]:
    return {
        "message": f"Access denied for {field} field. Required access: `{scope}` access scope.",
        "locations": [{"line": 2, "column": 3}],
        "path": path,
        "extensions": {"code": "ACCESS_DENIED", "documentation": _DOCS, "requiredAccess": f"`{scope}` access scope."},
    }


class ShopifyFake(FakeServer):
    """One fake store with one installed app; start it, then point an account at :attr:`url`."""

    platform = "shopify"

    def __init__(
        self,
        port: int = 0,
        *,
        shop: str = "lampworks-test.myshopify.com",
        api_version: str = DEFAULT_API_VERSION,
        seed: int = 7,
        refresh_grace: bool = True,
    ) -> None:
        super().__init__(port)
        self.shop = shop
        self.api_version = api_version
        self.client_id = "fake-" + secrets.token_hex(8)
        self.client_secret = "shpss_" + secrets.token_hex(16)
        self.refresh_grace = refresh_grace
        self.issuer = TokenIssuer(self.now, access_lifetime_s=3600, rotate=False, scopes=SCOPES)
        self.static_tokens: set[str] = set()
        self.installed = True
        self.granted: set[str] = set(SCOPES)
        self.store = FakeStore(random.Random(seed), self.now)
        self.bucket: CostBucket | None = None
        self.subscriptions: list[dict[str, str]] = []
        self.replies: list[dict[str, Any]] = []  # Shopify takes no replies: they go by e-mail
        self._throttle_next = 0
        self._repeat = False
        self._issued: dict[str, datetime] = {}  # refresh token → issued
        self._replaced: dict[str, str] = {}  # replacement refresh token → the one it replaced
        self._deadline: dict[str, datetime] = {}  # replaced refresh token → end of its grace
        self.add_route("POST", r"/admin/oauth/access_token", self._token)
        self.add_route("POST", r"/admin/api/(?P<version>[^/]+)/graphql\.json", self._graphql)

    # --- set-up --------------------------------------------------------------------------------------

    def start(self) -> ShopifyFake:
        """Start serving, with Nagle's algorithm off on every connection.

        The base server sends a response's headers and body in two writes; on a
        kept-alive connection the body then waits for the client's delayed ACK
        (about 40 ms a response), which would make the fake, not the
        connector, the bottleneck of a benchmark.
        """
        super().start()
        server = self._server
        assert server is not None
        accept = server.get_request

        def get_request() -> tuple[socket.socket, Any]:
            conn, address = accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return conn, address

        server.get_request = get_request  # type: ignore[method-assign]
        return self

    def stop(self) -> None:
        """Stop at once: the base server's loop otherwise notices a shutdown only at its next 0.5 s poll."""
        server = self._server
        if server is not None:
            stopping = threading.Thread(target=server.shutdown, name="fake-shopify-stop", daemon=True)
            stopping.start()
            while stopping.is_alive():  # each connection wakes the loop, which then sees the shutdown
                with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), timeout=1):
                    pass
                stopping.join(0.01)
        super().stop()

    def account_settings(self, *, auth: str = "refresh") -> tuple[dict[str, object], dict[str, str]]:
        """Settings and secrets that connect an account.

        ``auth`` is how it gets tokens: ``refresh`` (an expiring-token grant),
        ``app`` (client credentials only) or ``token`` (a pasted non-expiring one).
        """
        settings: dict[str, object] = {
            "shop": self.shop,
            "api_version": self.api_version,
            "client_id": self.client_id,
            "base_url": self.url,
        }
        if auth == "refresh":
            return settings, {"refresh_token": self.grant(), "client_secret": self.client_secret}
        if auth == "app":
            return settings, {"client_secret": self.client_secret}
        token = "shpat_" + secrets.token_hex(16)
        with self.lock:
            self.static_tokens.add(token)
        return settings, {"access_token": token, "client_secret": self.client_secret}

    def grant(self) -> str:
        """A new refresh token, as an install with ``expiring=1`` hands out."""
        with self.lock:
            token = self.issuer.grant()
            self._issued[token] = self.now()
            return token

    def meter(self, maximum: float = 2000.0, restore_rate: float = 100.0) -> None:
        """Enforce the query-cost bucket from now on (Standard plan: 100 points a second)."""
        with self.lock:
            self.bucket = CostBucket(maximum, restore_rate)

    # --- contract hooks ------------------------------------------------------------------------------

    def seed(self, messages: int = 0, orders: int = 0) -> None:
        """Add ``orders`` new orders, newest last.  Shopify has no buyer messages: ``messages`` adds none."""
        with self.lock:
            for _ in range(orders):
                self.store.new_order()

    def tick(self, rng: random.Random) -> None:
        """A burst of store life: a new order, a shipment with tracking, a cancellation, a customer edit."""
        with self.lock:
            store, roll = self.store, rng.random()
            open_orders = [store.orders[k[1]] for k in store.keys[-50:] if store.orders[k[1]].fulfilment != "FULFILLED"]
            if roll < 0.55 or not open_orders:
                store.new_order()
            elif roll < 0.85:
                store.fulfil(rng.choice(open_orders))
            elif roll < 0.92:
                store.cancel(rng.choice(open_orders))
            elif store.customers:
                customer = rng.choice(store.customers)
                customer.updated = store.stamp()

    def server_error_next(self, *, path: str | None = None) -> None:
        self.fail_next(500, path=path, body={"errors": "Internal Server Error"})

    def quota_error_next(self) -> None:
        """The next GraphQL call is THROTTLED inside an HTTP 200, as Shopify reports an empty bucket."""
        with self.lock:
            self._throttle_next += 1

    def revoke_credentials(self) -> None:
        """The app was uninstalled: every access and refresh token is refused, and no new one is granted."""
        super().revoke_credentials()
        with self.lock:
            self.static_tokens.clear()
            self.installed = False

    def drop_scope(self, stream: Stream) -> None:
        """The app loses ``read_orders`` (ORDERS) or ``read_customers`` (MESSAGES: what links buyers' mail)."""
        with self.lock:
            if stream is Stream.ORDERS:
                self.granted.discard("read_orders")
            elif stream is Stream.MESSAGES:
                self.granted.discard("read_customers")

    def repeat_across_page_boundary(self, enabled: bool = True) -> None:
        """While paging, the last order of each page changes, so it shows up again on a later page."""
        with self.lock:
            self._repeat = enabled

    def add_malformed_record(self) -> None:
        """A new order whose total reads ``34,90`` (a decimal comma): the connector cannot map it."""
        with self.lock:
            self.store.new_order(malformed=True)

    # --- webhooks ------------------------------------------------------------------------------------

    def signed_push(
        self,
        topic: str = "orders/updated",
        payload: Any = None,
        *,
        order: str | None = None,
        secret: str | None = None,
        triggered_at: datetime | None = None,
        event_id: str | None = None,
        shop: str | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """Headers and raw body of a webhook as Shopify sends it (``payload`` defaults to the topic's record)."""
        with self.lock:
            body_obj = payload if payload is not None else self._payload(topic, order)
        body = json.dumps(body_obj, ensure_ascii=False, separators=(",", ":")).encode()
        when = (triggered_at or self.now()).astimezone(UTC)
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign(body, secret or self.client_secret),
            "X-Shopify-Shop-Domain": shop or self.shop,
            "X-Shopify-API-Version": self.api_version,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
            "X-Shopify-Triggered-At": when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z",
        }
        return headers, body

    def push_to(self, url: str, **what: Any) -> Response:
        """Deliver a signed webhook to ``url`` (``what`` as for :meth:`signed_push`)."""
        headers, body = self.signed_push(**what)
        return post(url, body, headers)

    def _payload(self, topic: str, order_name: str | None) -> dict[str, Any]:
        store = self.store
        if topic.startswith("orders/"):
            order = store.orders[store.by_name[order_name]] if order_name else store.newest() or store.new_order()
            return rest_order(order)
        if topic in {"customers/create", "customers/update"}:
            return rest_customer(store.customers[-1] if store.customers else store.new_customer())
        shop_id = 60123456789
        if topic == "app/uninstalled":
            return {"id": shop_id, "name": "Lampworks", "domain": self.shop, "myshopify_domain": self.shop}
        privacy: dict[str, Any] = {"shop_id": shop_id, "shop_domain": self.shop}
        if topic != "shop/redact":
            c = store.customers[-1] if store.customers else store.new_customer()
            privacy["customer"] = {"id": c.id, "email": c.email, "phone": c.phone}
            privacy["orders_to_redact" if topic == "customers/redact" else "orders_requested"] = []
        return privacy

    # --- OAuth ---------------------------------------------------------------------------------------

    def _token(self, request: FakeRequest) -> FakeResponse:
        try:
            form = (
                request.json()
                if request.headers.get("content-type", "").startswith("application/json")
                else request.form()
            )
        except ValueError:
            form = {}
        if not isinstance(form, dict):
            form = {}
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return FakeResponse.json(
                {"error": "invalid_client", "error_description": "Client authentication failed."}, status=401
            )
        if not self.installed:
            return FakeResponse.json(
                {"error": "invalid_request", "error_description": "The app is not installed."}, 400
            )
        grant = form.get("grant_type")
        if grant == "client_credentials":
            self.issuer.refreshes += 1
            access = self.issuer.issue_access(frozenset(self.granted))
            access.expires_at = self.now() + APP_TOKEN_LIFETIME
            scope = ",".join(sorted(self.granted))
            return FakeResponse.json({"access_token": access.value, "scope": scope, "expires_in": 86399})
        if grant != "refresh_token":
            return FakeResponse.json({"error": "unsupported_grant_type"}, status=400)
        return self._refresh(str(form.get("refresh_token") or ""))

    def _refresh(self, old: str) -> FakeResponse:
        now = self.now()
        deadline = self._deadline.get(old)
        issued = self._issued.get(old)
        if (
            old not in self.issuer.refresh
            or (deadline is not None and now > deadline)
            or (issued is not None and now > issued + REFRESH_LIFETIME)
        ):
            return FakeResponse.json(
                {"error": "invalid_grant", "error_description": "The refresh token is invalid, expired or revoked."},
                status=400,
            )
        parent = self._replaced.pop(old, None)
        if parent is not None:  # the replacement is in use: the token before it retires
            self.issuer.refresh.pop(parent, None)
        scopes = self.issuer.refresh[old]
        if not self.refresh_grace:
            del self.issuer.refresh[old]
        else:
            self._deadline.setdefault(old, now + REFRESH_GRACE)
        new = self.issuer.grant(scopes)
        self._issued[new] = now
        self._replaced[new] = old
        self.issuer.refreshes += 1
        access = self.issuer.issue_access(scopes)
        return FakeResponse.json(
            {
                "access_token": access.value,
                "expires_in": self.issuer.access_lifetime_s,
                "refresh_token": new,
                "refresh_token_expires_in": int(REFRESH_LIFETIME.total_seconds()),
                "scope": ",".join(sorted(scopes)),
            }
        )

    # --- GraphQL -------------------------------------------------------------------------------------

    def _graphql(self, request: FakeRequest) -> FakeResponse:
        token = request.headers.get("x-shopify-access-token")
        if token not in self.static_tokens and self.issuer.check(token) != "ok":
            return FakeResponse.json({"errors": INVALID_TOKEN}, status=401)
        version = request.params["version"]
        if not re.fullmatch(r"\d{4}-(01|04|07|10)|unstable", version):
            return FakeResponse.json({"errors": "Not Found"}, status=404)
        try:
            body = request.json()
            document, variables = str(body["query"]), body.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            return FakeResponse.json({"errors": {"query": "Required parameter missing or invalid"}}, status=400)
        match = _OPERATION.search(document)
        operation = match.group(2) if match else ""
        handler = {
            "HelpdeskOrders": self._orders,
            "HelpdeskCheck": self._check,
            "HelpdeskSubscribe": self._subscribe,
        }.get(operation)
        if handler is None:
            return self._answer(
                [_error(f"the fake does not know the operation {operation or '(none)'}", "BAD_REQUEST")]
            )
        return handler(document, variables, version)

    def _answer(
        self, errors: list[dict[str, Any]], data: Any = None, *, requested: float = 0, actual: float = 0
    ) -> FakeResponse:
        """The envelope: data and errors, plus the cost extension every Shopify answer carries."""
        if self.bucket is not None:
            self.bucket.refund(requested - actual)  # paid up front; what the query did not use comes back
        body: dict[str, Any] = {}
        if errors:
            body["errors"] = errors
        if data is not None or not errors:
            body["data"] = data
        body["extensions"] = self._cost(requested, actual)
        return FakeResponse.json(body, headers={"X-Shopify-API-Version": self.api_version})

    def _cost(self, requested: float, actual: float | None, available: float | None = None) -> dict[str, Any]:
        bucket = self.bucket
        maximum = bucket.maximum if bucket else 2000.0
        if available is None:
            available = bucket.available if bucket else maximum - (actual or 0)
        status = {
            "maximumAvailable": maximum,
            "currentlyAvailable": round(available, 1),
            "restoreRate": bucket.restore_rate if bucket else 100.0,
        }
        return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": status}}

    def _spend(self, requested: float) -> FakeResponse | None:
        """Refuse a query over the single-query limit; THROTTLED when the bucket cannot pay it up front."""
        if requested > queries.MAX_QUERY_COST:
            message = (
                f"Query cost is {requested:.0f}, which exceeds the single query max cost limit "
                f"({queries.MAX_QUERY_COST})."
            )
            error = _error(message, "MAX_COST_EXCEEDED", cost=requested, maxCost=queries.MAX_QUERY_COST)
            return FakeResponse.json({"errors": [error], "extensions": self._cost(requested, None)})
        injected = self._throttle_next > 0
        if injected or (self.bucket is not None and not self.bucket.take(requested)):
            self._throttle_next -= 1 if injected else 0
            # An injected throttle leaves a quarter of the points the query needs.
            left = requested / 4 if injected or self.bucket is None else self.bucket.available
            error = _error("Throttled", "THROTTLED", documentation="https://shopify.dev/api/usage/rate-limits")
            return FakeResponse.json({"errors": [error], "extensions": self._cost(requested, None, left)})
        return None

    def _orders(self, document: str, variables: dict[str, Any], version: str) -> FakeResponse:
        first = variables.get("first")
        if not isinstance(first, int) or isinstance(first, bool) or not 1 <= first <= 250:
            return self._answer(
                [_error(f"Variable $first of type Int! was provided invalid value {first!r}", "INVALID_VARIABLE")]
            )
        if "sortKey: UPDATED_AT" not in document:
            return self._answer([_error("the fake pages orders by UPDATED_AT only", "BAD_REQUEST")])
        sizes = {name: int(m.group(1)) if (m := rx.search(document)) else 0 for name, rx in _SIZE.items()}
        requested = queries.orders_cost(first, sizes["lineItems"], sizes["fulfillments"], sizes["trackingInfo"])
        refused = self._spend(requested)
        if refused is not None:
            return refused
        if "read_orders" not in self.granted:
            return self._answer([_denied("orders", "read_orders", ["orders"])], requested=requested, actual=1)
        try:
            orders, more = self._select(variables.get("query"), variables.get("after"), first)
        except ValueError as exc:
            return self._answer([_error(str(exc), "BAD_REQUEST")], requested=requested, actual=1)
        customers = "read_customers" in self.granted
        nodes = [node(o, with_customer=customers) for o in orders]
        errors = [
            _denied("customer", "read_customers", ["orders", "nodes", i, "customer"])
            for i, o in enumerate(orders)
            if o.customer is not None and not customers
        ]
        end = orders[-1] if orders else None
        connection = {
            "pageInfo": {"hasNextPage": more, "endCursor": _page_cursor(end) if end else None},
            "nodes": nodes,
        }
        if more and self._repeat and end is not None:
            self.store.touch(end)  # changed while the client pages: it will come again on a later page
        actual = 2 + sum(7 + 3 * len(o.lines) + 2 * len(o.fulfilments) for o in orders)
        return self._answer(errors, {"orders": connection}, requested=requested, actual=actual)

    def _select(self, query: Any, after: Any, first: int) -> tuple[list[Order], bool]:
        store = self.store
        text = str(query or "").strip()
        if text.startswith(("name:", "id:")):
            field, _, value = text.partition(":")
            value = value.strip().strip('"')
            found = store.by_name.get(value) if field == "name" else (int(value) if value.isdigit() else None)
            order = store.orders.get(found) if found is not None else None
            return ([order] if order else []), False
        since = None
        if text:
            match = _SINCE.match(text)
            if match is None:
                raise ValueError(f"the fake understands updated_at, name and id searches, not {text!r}")
            when = datetime.fromisoformat(match.group(2))
            since = int(when.timestamp()) + (0 if match.group(1) == ">=" else 1)
        return store.page(since, _read_page_cursor(after) if after else None, first)

    def _check(self, document: str, variables: dict[str, Any], version: str) -> FakeResponse:
        refused = self._spend(queries.CHECK_COST)
        if refused is not None:
            return refused
        errors = [
            _denied(root, scope, [root]) for root, scope in (("orders", "read_orders"), ("customers", "read_customers"))
            if scope not in self.granted
        ]  # fmt: skip
        store = self.store
        data = None
        if not errors:  # both roots are non-null fields: a denied one nulls the whole answer
            newest = store.newest()
            data = {
                "shop": {
                    "name": "Lampworks (test)",
                    "myshopifyDomain": self.shop,
                    "currencyCode": store.currency,
                    "ianaTimezone": "Europe/Warsaw",
                },
                "orders": {"nodes": [{"id": f"gid://shopify/Order/{newest.id}"}] if newest else []},
                "customers": {
                    "nodes": [{"id": f"gid://shopify/Customer/{store.customers[0].id}"}] if store.customers else []
                },
            }
        return self._answer(errors, data, requested=queries.CHECK_COST, actual=queries.CHECK_COST)

    def _subscribe(self, document: str, variables: dict[str, Any], version: str) -> FakeResponse:
        refused = self._spend(queries.MUTATION_COST)
        if refused is not None:
            return refused
        topic = variables.get("topic")
        sub = variables.get("subscription") or {}
        field = "uri" if version == "unstable" or version >= "2025-10" else "callbackUrl"
        address = sub.get(field) if isinstance(sub, dict) else None
        user_errors = []
        if topic not in TOPICS:
            return self._answer([_error(f"Variable $topic was provided invalid value {topic!r}", "INVALID_VARIABLE")])
        if not isinstance(address, str) or not address.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            user_errors.append({"field": ["webhookSubscription", field], "message": "Address is invalid"})
        elif any(s["topic"] == topic and s["address"] == address for s in self.subscriptions):
            user_errors.append(
                {"field": ["webhookSubscription", field], "message": "Address for this topic has already been taken"}
            )
        subscription = None
        if not user_errors:
            gid = f"gid://shopify/WebhookSubscription/{9100000 + len(self.subscriptions)}"
            self.subscriptions.append(
                {"id": gid, "topic": str(topic), "address": str(address), "format": str(sub.get("format"))}
            )
            subscription = {"id": gid, "topic": topic}
        data = {"webhookSubscriptionCreate": {"webhookSubscription": subscription, "userErrors": user_errors}}
        return self._answer([], data, requested=queries.MUTATION_COST, actual=queries.MUTATION_COST)


def _page_cursor(order: Order) -> str:
    raw = json.dumps({"last_id": order.id, "last_value": order.updated}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_page_cursor(text: Any) -> tuple[int, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(str(text) + "=" * (-len(str(text)) % 4)))
        return int(data["last_value"]), int(data["last_id"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise ValueError("Invalid cursor for current pagination") from None
