"""A loopback Amazon: LWA, Orders API 2026-01-01 and v0, Tokens API and Messaging API, spoken as Amazon does.

What it reproduces, because the connector depends on it:

* **LWA** (``POST /auth/o2/token``): form body with the client id and secret;
  ``invalid_client`` (401) and ``invalid_grant`` (400) answered in LWA's words;
  refresh tokens are not rotated; access tokens live 3600 s on the fake's clock.
* **Auth on every call** through ``x-amz-access-token``: a missing, revoked or
  expired token is HTTP 403 ``Unauthorized`` with the reason in ``details``,
  exactly like a missing role, which has empty details.
* **Orders v0**: ``{"payload": …}`` / ``{"errors": […]}`` envelopes; a window by
  ``LastUpdatedAfter`` (or ``CreatedAfter``) whose upper bound must lie at
  least two minutes in the past (400 ``InvalidInput`` otherwise, and the bound
  Amazon used comes back as ``LastUpdatedBefore``); ``NextToken`` pages whose
  tokens hold ``+``, ``/`` and ``=`` (so an unencoded token fails) and expire;
  ``getOrderItems`` paginated the same way; buyer e-mail, name and street only
  with a Restricted Data Token for the path; ``OrderTotal`` absent on
  ``Pending`` orders.
* **Orders 2026-01-01** over the same orders: ``searchOrders`` and ``getOrder``
  without an envelope (``{"orders": […], "pagination": {"nextToken"}, "lastUpdatedBefore"}``,
  ``{"order": …}``), each order with its ``orderItems`` (unit prices) and
  the datasets ``includedData`` names (``BUYER``, ``RECIPIENT``,
  ``FULFILLMENT``, ``PROCEEDS``, ``PACKAGES``); the same two-minute bound;
  a ``paginationToken`` that holds only with the query it came from (other
  than ``maxResultsPerPage`` and ``includedData``) and for 24 hours, else
  400 ``InvalidInput`` (Amazon documents the 400, not its wording); buyer data
  by role, no token — name and e-mail only for orders that are unshipped,
  partly shipped or shipped, the e-mail only for merchant-fulfilled ones,
  postal code and street only with the restricted role, as Amazon documents.
* **Usage plans**: a token bucket per operation (the documented defaults,
  configurable with ``usage_plans`` so a benchmark can raise them; a plan
  given for ``getOrders`` or ``getOrder`` also holds for its 2026-01-01
  counterpart unless that one is named too), 429
  ``QuotaExceeded`` without ``Retry-After``, ``x-amzn-RateLimit-Limit`` on
  answers that are not auth failures.
* **Messaging API**: HAL lists of the actions an order allows, buyer
  attributes, and message sends checked against the request schemas (text
  length, no HTML or e-mail addresses, attachments) and recorded in
  :attr:`replies`.

Time: order timestamps are whole seconds as Amazon writes them; :meth:`seed`
dates its orders at the fake's "now" and then moves the fake's clock past
Amazon's two-minute settling time, so seeded orders are readable at once.
"""

from __future__ import annotations

import base64
import bisect
import random
import re
import secrets
import socket
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from channels.amazon.mapping import ACTIONS
from channels.amazon.ratelimit import GET_ORDER_2026, SEARCH_ORDERS, UsagePlans
from channels.amazon.settings import MARKETPLACES
from channels.base import Stream
from channels.fake import FakeRequest, FakeResponse, FakeServer, TokenIssuer
from channels.http import Response

ORDERS = "orders"
MESSAGING = "messaging"
PII = "pii"
DENIED = "Access to requested resource is denied."
UNDECODABLE = (
    "We could not decode your NextToken. Possible reasons include: a transmission error, improper quoting or a "
    "truncation problem."
)
SETTLE_S = 120  # Amazon's "at least 2 minutes before the current time"
INCLUDED_DATA_2026 = frozenset({"BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "FULFILLMENT",
                                "PACKAGES", "TAX", "PAYMENT", "FULFILLMENT_ORDERS"})  # fmt: skip
PAGINATION_TOKEN_TTL_S = 24 * 3600  # Orders 2026-01-01: "The token will expire after 24 hours."
#: the 2026-01-01 operations that follow a v0 operation's plan when a test or benchmark sets only that one
_COUNTERPARTS = {SEARCH_ORDERS: "getOrders", GET_ORDER_2026: "getOrder"}
#: v0 order statuses in Orders 2026-01-01's words (``fulfillment.fulfillmentStatus``)
_STATUS_2026 = {
    "Pending": "PENDING", "Unshipped": "UNSHIPPED", "PartiallyShipped": "PARTIALLY_SHIPPED", "Shipped": "SHIPPED",
    "Canceled": "CANCELLED", "Unfulfillable": "UNFULFILLABLE", "PendingAvailability": "PENDING_AVAILABILITY",
}  # fmt: skip
_BUYER_2026 = {"Unshipped", "PartiallyShipped", "Shipped"}  # the states in which Amazon gives the buyer
_CARRIERS = {"DE": "DHL", "FR": "Colissimo", "GB": "Royal Mail", "US": "UPS", "JP": "Yamato", "ES": "Correos",
             "IT": "BRT"}  # fmt: skip
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_HTML = re.compile(r"<\s*/?\s*[a-z][a-z0-9]*(?:\s[^>]*)?>", re.IGNORECASE)
_SHIPPED = {"Unshipped", "PartiallyShipped", "Shipped", "InvoiceUnconfirmed"}
_ACTIONS_BY_STATUS: dict[str, tuple[str, ...]] = {
    "Pending": ("unexpectedProblem",),
    "Unshipped": (
        "confirmCustomizationDetails", "confirmDeliveryDetails", "confirmOrderDetails", "unexpectedProblem",
        "legalDisclosure", "invoice",
    ),
    "PartiallyShipped": ("confirmDeliveryDetails", "unexpectedProblem", "invoice"),
    "Shipped": ("confirmDeliveryDetails", "unexpectedProblem", "warranty", "invoice", "legalDisclosure"),
    "Canceled": (),
}  # fmt: skip

_NAMES = {
    "de": ["Jonas Weber", "Anna Schmidt", "Lukas Müller", "Lena Fischer", "Jürgen Groß"],
    "fr": ["Camille Martin", "Léa Dubois", "Hugo Bernard", "Chloé Petit"],
    "en": ["Oliver Smith", "Emily Jones", "Harry Taylor", "Olivia Brown"],
    "ja": ["山田 花子", "佐藤 太郎", "鈴木 一郎"],
    "es": ["Lucía García", "Mateo Fernández", "Sofía López"],
    "it": ["Giulia Rossi", "Marco Bianchi", "Francesca Romano"],
}
_PRODUCTS = {
    "de": ["USB-C Ladegerät 65W", "Schreibtischlampe LED, dimmbar", "Kabelorganizer 3er-Set", "Nachtlicht für Kinder"],
    "fr": ["Chargeur USB-C 65 W", "Lampe de bureau LED à intensité variable", "Veilleuse pour enfant"],
    "en": ["65W USB-C charger", "Dimmable LED desk lamp", "Cable organiser, set of 3", "Kids' night light"],
    "ja": ["USB-C 充電器 65W", "LEDデスクライト 調光機能付き", "ケーブル収納 3個セット"],
    "es": ["Cargador USB-C de 65 W", "Lámpara de escritorio LED regulable", "Luz nocturna infantil"],
    "it": ["Caricatore USB-C 65 W", "Lampada da scrivania LED dimmerabile", "Luce notturna per bambini"],
}
_CITIES = {
    "DE": [("Leipzig", "04109", "SN"), ("Köln", "50667", "NW"), ("München", "80331", "BY")],
    "FR": [("Lyon", "69002", ""), ("Nantes", "44000", ""), ("Lille", "59000", "")],
    "GB": [("Leeds", "LS1 4AP", ""), ("Bristol", "BS1 5TR", "")],
    "US": [("Portland", "97205", "OR"), ("Austin", "78701", "TX")],
    "JP": [("大阪市", "530-0001", "大阪府"), ("札幌市", "060-0001", "北海道")],
    "ES": [("Valencia", "46002", ""), ("Sevilla", "41001", "")],
    "IT": [("Torino", "10121", "TO"), ("Bologna", "40121", "BO")],
}
_ID_PREFIX = {"DE": "028", "FR": "171", "GB": "203", "US": "113", "JP": "249", "ES": "405", "IT": "408"}
_PRICES = ("9.99", "14.90", "19.99", "24.50", "34.90", "49.00")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str) -> float | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _b64(size: int) -> str:
    return base64.b64encode(secrets.token_bytes(size)).decode()


def _with_counterparts(plans: dict[str, tuple[float, int]] | None) -> dict[str, tuple[float, int]]:
    """``plans`` with the 2026-01-01 operations following their v0 counterparts where only those are given."""
    found = dict(plans or {})
    for operation, counterpart in _COUNTERPARTS.items():
        if operation not in found and counterpart in found:
            found[operation] = found[counterpart]
    return found


def _query(request: FakeRequest, listing: _Listing) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The parameters a next page must repeat (Orders 2026-01-01); nothing for a listing paged by token alone."""
    if listing.may_change is None:
        return ()
    return tuple(sorted((k, tuple(v)) for k, v in request.query.items() if k not in listing.may_change))


def _item_2026(item: dict[str, Any], included: frozenset[str]) -> dict[str, Any]:
    """A getOrderItems line as an Orders 2026-01-01 ``orderItems`` entry (the unit price, not the line's)."""
    quantity, price = item["QuantityOrdered"], item["ItemPrice"]
    unit = Decimal(price["Amount"]) / quantity
    amount = f"{unit:.0f}" if price["CurrencyCode"] == "JPY" else f"{unit:.2f}"
    out: dict[str, Any] = {
        "orderItemId": item["OrderItemId"],
        "quantityOrdered": quantity,
        "product": {"asin": item["ASIN"], "title": item["Title"], "sellerSku": item["SellerSKU"],
                    "price": {"unitPrice": {"amount": amount, "currencyCode": price["CurrencyCode"]}}},
    }  # fmt: skip
    if "FULFILLMENT" in included:
        shipped = item["QuantityShipped"]
        out["fulfillment"] = {"quantityFulfilled": shipped, "quantityUnfulfilled": quantity - shipped}
    return out


def _next_token() -> str:
    """Opaque, and with the characters that break when a client forgets to URL-encode it (``+``, ``/``, ``=``)."""
    return f"{_b64(18)}+{_b64(9)}/{_b64(4)}"


@dataclass(frozen=True, slots=True)
class _Listing:
    """One Orders API version's listing operation: its name and query parameters."""

    operation: str
    markets: str
    updated_after: str
    created_after: str
    updated_before: str
    created_before: str
    size: str
    token: str
    #: parameters a next page may change (the rest must repeat the first page's query); None: the token alone
    may_change: frozenset[str] | None


_V0 = _Listing("getOrders", "MarketplaceIds", "LastUpdatedAfter", "CreatedAfter", "LastUpdatedBefore",
               "CreatedBefore", "MaxResultsPerPage", "NextToken", None)  # fmt: skip
_V2026 = _Listing("searchOrders", "marketplaceIds", "lastUpdatedAfter", "createdAfter", "lastUpdatedBefore",
                  "createdBefore", "maxResultsPerPage", "paginationToken",
                  frozenset({"maxResultsPerPage", "includedData", "paginationToken"}))  # fmt: skip


@dataclass(frozen=True)
class _Window:
    """A listing query as its page token remembers it."""

    listing: _Listing
    by: str  # "updated" or "created"
    key: tuple[float, str]
    inclusive: bool
    before: float
    before_text: str
    markets: frozenset[str]
    size: int
    created: float
    query: tuple[tuple[str, tuple[str, ...]], ...] = ()  # what a 2026-01-01 next page must repeat


@dataclass
class _Order:
    public: dict[str, Any]
    email: str | None
    name: str
    locale: str
    address: dict[str, str]
    updated: float
    purchased: float


@dataclass
class _Rdt:
    expires: float
    resources: list[tuple[str, re.Pattern[str]]]
    elements: frozenset[str]


@dataclass
class _Buyer:
    alias: str
    name: str
    locale: str
    city: tuple[str, str, str]


@dataclass
class _Market:
    id: str
    domain: str
    country: str
    currency: str
    language: str
    buyers: list[_Buyer] = field(default_factory=list)


class AmazonFake(FakeServer):
    """Amazon's SP-API and LWA on 127.0.0.1 for one seller account."""

    platform = "amazon"
    items_page_size = 20

    def __init__(
        self,
        port: int = 0,
        *,
        marketplace_ids: tuple[str, ...] = ("A1PA6795UKMFR9",),
        usage_plans: dict[str, tuple[float, int]] | None = None,
        rotate_refresh_tokens: bool = False,
        seed: int = 11,
        orders_api: str | None = None,
    ) -> None:
        """``rotate_refresh_tokens`` makes LWA hand out a new refresh token at every refresh (Amazon does not,
        but the write-back path must hold if it ever does); ``orders_api`` is what :meth:`account_settings`
        names (both APIs are always served)."""
        super().__init__(port)
        self.marketplace_ids = marketplace_ids
        self._markets = [self._market(mid) for mid in marketplace_ids]
        self.client_id = "amzn1.application-oa2-client." + secrets.token_hex(16)
        self.client_secret = "amzn1.oa2-cs.v1." + secrets.token_hex(32)
        self.issuer = TokenIssuer(self.now, access_lifetime_s=3600, rotate=rotate_refresh_tokens)
        self.roles = {ORDERS, MESSAGING, PII}
        self.plans = UsagePlans(_with_counterparts(usage_plans))
        self.orders: dict[str, _Order] = {}
        self.items: dict[str, list[dict[str, Any]]] = {}
        self.replies: list[dict[str, Any]] = []
        self.next_token_ttl_s = 1800.0
        self.pagination_token_ttl_s = float(PAGINATION_TOKEN_TTL_S)
        self.orders_api = orders_api  # what account_settings() names; None: the connector's default
        self._by_updated: list[tuple[float, str]] = []
        self._by_created: list[tuple[float, str]] = []
        self._windows: dict[str, _Window] = {}
        self._item_pages: dict[str, tuple[str, int]] = {}
        self._rdts: dict[str, _Rdt] = {}
        self._rng = random.Random(seed)
        self._serial = 0
        self._last_ts = 0.0
        self._repeat = False
        self._malformed = 0
        for method, pattern, handler in (
            ("POST", r"/auth/o2/token", self._lwa_token),
            ("GET", r"/orders/v0/orders", self._get_orders),
            ("GET", r"/orders/v0/orders/(?P<order_id>[^/]+)", self._get_order),
            ("GET", r"/orders/v0/orders/(?P<order_id>[^/]+)/orderItems", self._get_order_items),
            ("GET", r"/orders/2026-01-01/orders", self._search_orders),
            ("GET", r"/orders/2026-01-01/orders/(?P<order_id>[^/]+)", self._get_order_2026),
            ("POST", r"/tokens/2021-03-01/restrictedDataToken", self._create_rdt),
            ("GET", r"/messaging/v1/orders/(?P<order_id>[^/]+)", self._messaging_actions),
            ("GET", r"/messaging/v1/orders/(?P<order_id>[^/]+)/attributes", self._attributes),
            ("POST", r"/messaging/v1/orders/(?P<order_id>[^/]+)/messages/(?P<action>[A-Za-z]+)", self._send_message),
        ):
            self.add_route(method, pattern, handler)

    def start(self) -> AmazonFake:
        """Serve; answers go out without Nagle's delay (headers and body are two writes)."""
        super().start()
        assert self._server is not None
        handler = self._server.RequestHandlerClass
        self._server.RequestHandlerClass = type("_NoDelayHandler", (handler,), {"disable_nagle_algorithm": True})
        return self

    def stop(self) -> None:
        """Stop now: the base loop notices a shutdown only at its next half-second poll, so knock until it has."""
        server = self._server
        if server is not None:
            stopping = threading.Thread(target=server.shutdown, name="fake-amazon-stop", daemon=True)
            stopping.start()
            while stopping.is_alive():
                try:
                    socket.create_connection((self.host, self.port), timeout=0.2).close()
                except OSError:
                    break
                stopping.join(0.005)
        super().stop()

    @staticmethod
    def _market(marketplace_id: str) -> _Market:
        m = MARKETPLACES[marketplace_id]
        language = m.language if m.language in _NAMES else "en"
        return _Market(m.id, m.domain, m.country, m.currency, language)

    # --- envelopes --------------------------------------------------------------------------------------

    def _headers(self, operation: str | None) -> dict[str, str]:
        headers = {"x-amzn-RequestId": secrets.token_hex(8) + "-" + secrets.token_hex(4)}
        if operation:
            headers["x-amzn-RateLimit-Limit"] = f"{self.plans.bucket(operation).rate:g}"
        return headers

    def _ok(self, body: Any, operation: str, status: int = 200, hal: bool = False) -> FakeResponse:
        response = FakeResponse.json(body, status, self._headers(operation))
        if hal:
            response.content_type = "application/hal+json"
        return response

    def _error(
        self, status: int, code: str, message: str, details: str = "", operation: str | None = None
    ) -> FakeResponse:
        body = {"errors": [{"code": code, "message": message, "details": details}]}
        return FakeResponse.json(body, status, self._headers(operation if status in {400, 404} else None))

    def _authorise(self, request: FakeRequest, operation: str, role: str | None) -> FakeResponse | frozenset[str]:
        """The PII elements the caller may see, or the answer that refuses it (auth, role, quota)."""
        token = request.headers.get("x-amz-access-token")
        if not token:
            return self._error(403, "Unauthorized", DENIED, "Access token is missing in the request header.")
        elements: frozenset[str] = frozenset()
        rdt = self._rdts.get(token)
        if rdt is not None:
            if rdt.expires <= self.now().timestamp():
                return self._error(403, "Unauthorized", DENIED, "The access token you provided has expired.")
            if not any(m == request.method and p.fullmatch(request.path) for m, p in rdt.resources):
                return self._error(403, "Unauthorized", DENIED)
            elements = rdt.elements
        else:
            state = self.issuer.check(token)
            if state == "expired":
                return self._error(403, "Unauthorized", DENIED, "The access token you provided has expired.")
            if state != "ok":
                return self._error(
                    403, "Unauthorized", DENIED, "The access token you provided is revoked, malformed or invalid."
                )
        if role is not None and role not in self.roles:
            return self._error(403, "Unauthorized", DENIED)
        if self.plans.bucket(operation).try_take():
            return self._error(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
        return elements

    # --- Login with Amazon ----------------------------------------------------------------------------------

    def _lwa_token(self, request: FakeRequest) -> FakeResponse:
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return FakeResponse.json({"error": "invalid_request", "error_description": "Malformed request"}, 400)
        form = request.form()
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return FakeResponse.json(
                {"error_description": "Client authentication failed", "error": "invalid_client"}, 401
            )
        if form.get("grant_type") != "refresh_token":
            return FakeResponse.json(
                {
                    "error_description": "The authorization grant type is not supported",
                    "error": "unsupported_grant_type",
                },
                400,
            )
        used = self.issuer.use_refresh(form.get("refresh_token", ""))
        if used is None:
            return FakeResponse.json(
                {
                    "error_description": "The request has an invalid grant parameter : refresh_token. "
                    "User may have revoked or didn't grant the permission.",
                    "error": "invalid_grant",
                },
                400,
            )
        access, refresh = used
        body = {"access_token": access.value, "refresh_token": refresh, "token_type": "bearer", "expires_in": 3600}
        return FakeResponse.json(body)

    # --- Tokens API ---------------------------------------------------------------------------------------------

    def _create_rdt(self, request: FakeRequest) -> FakeResponse:
        token = request.headers.get("x-amz-access-token") or ""
        if token in self._rdts:  # a restricted token cannot mint another
            return self._error(403, "Unauthorized", DENIED)
        allowed = self._authorise(request, "createRestrictedDataToken", None)
        if isinstance(allowed, FakeResponse):
            return allowed
        try:
            resources = request.json().get("restrictedResources")
        except (ValueError, AttributeError):
            resources = None
        if not isinstance(resources, list) or not resources:
            return self._error(400, "InvalidRequest", "Request is missing or has invalid parameters",
                               "Resource not provided.", "createRestrictedDataToken")  # fmt: skip
        elements: set[str] = set()
        patterns = []
        for resource in resources:
            if not isinstance(resource, dict) or resource.get("method") not in {"GET", "PUT", "POST", "DELETE"}:
                return self._error(400, "InvalidRequest", "Request is missing or has invalid parameters",
                                   "Resource not provided.", "createRestrictedDataToken")  # fmt: skip
            path = str(resource.get("path") or "")
            regex = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path))
            patterns.append((str(resource["method"]), re.compile(regex)))
            elements.update(str(e) for e in resource.get("dataElements") or [])
        if elements and PII not in self.roles:
            listed = ", ".join(sorted(elements))
            return self._error(400, "InvalidInput",
                               f"Application does not have access to one or more requested data elements: [{listed}]",
                               operation="createRestrictedDataToken")  # fmt: skip
        rdt = "Atz.sprdt|" + secrets.token_urlsafe(24)
        self._rdts[rdt] = _Rdt(self.now().timestamp() + 3600, patterns, frozenset(elements))
        return self._ok({"restrictedDataToken": rdt, "expiresIn": 3600}, "createRestrictedDataToken")

    # --- Orders API v0 --------------------------------------------------------------------------------------------

    def _render(self, order: _Order, pii: frozenset[str]) -> dict[str, Any]:
        out = dict(order.public)
        status = out["OrderStatus"]
        if status in _SHIPPED:
            address = {
                k: v for k, v in order.address.items() if k in {"City", "StateOrRegion", "PostalCode", "CountryCode"}
            }
            if "shippingAddress" in pii:
                address = dict(order.address)
            out["ShippingAddress"] = address
        out["BuyerInfo"] = (
            {"BuyerEmail": order.email, "BuyerName": order.name} if "buyerInfo" in pii and order.email else {}
        )
        return out

    def _window(self, request: FakeRequest, listing: _Listing) -> _Window | FakeResponse:
        """A first page's query, checked as Amazon checks it."""
        operation = listing.operation

        def invalid(message: str) -> FakeResponse:
            return self._error(400, "InvalidInput", message, operation=operation)

        markets = [m for m in (request.arg(listing.markets) or "").split(",") if m]
        if not markets and listing is _V0:
            return invalid(f"Missing required parameter: {listing.markets}")
        unknown = [m for m in markets if m not in self.marketplace_ids]
        if unknown:
            return invalid(f"Invalid MarketplaceId: {unknown[0]}")
        updated, created = request.arg(listing.updated_after), request.arg(listing.created_after)
        if bool(updated) == bool(created):
            return invalid(f"Exactly one of {listing.created_after} and {listing.updated_after} must be given")
        by, after_text = ("updated", updated) if updated else ("created", created)
        before_name, other_before = (
            (listing.updated_before, listing.created_before)
            if updated
            else (listing.created_before, listing.updated_before)
        )
        if request.arg(other_before):
            return invalid(
                f"{other_before} cannot be used with {listing.updated_after if updated else listing.created_after}"
            )
        after = _parse(after_text or "")
        if after is None:
            return invalid(f"Invalid date: {after_text}")
        latest = float(int(self.now().timestamp() - SETTLE_S))
        before_arg = request.arg(before_name)
        before = _parse(before_arg) if before_arg else latest
        if before is None:
            return invalid(f"Invalid date: {before_arg}")
        if before > latest:
            return invalid(f"{before_name} must be at least 2 minutes before the current time")
        if after > before:
            return invalid(f"{before_name} must be later than the After date")
        size_arg = request.arg(listing.size) or "100"
        if not size_arg.isdigit() or not 1 <= int(size_arg) <= 100:
            return invalid(f"{listing.size} must be between 1 and 100")
        return _Window(listing, by, (after, ""), True, before, _iso(before), frozenset(markets or self.marketplace_ids),
                       int(size_arg), self.now().timestamp(), _query(request, listing))  # fmt: skip

    def _listed(self, request: FakeRequest, listing: _Listing, ttl_s: float) -> _Window | FakeResponse:
        """The window a listing request reads: a new query's, or the one its page token names."""
        token = request.arg(listing.token)
        if token is None:
            return self._window(request, listing)
        window = self._windows.get(token)
        if (
            window is None
            or window.listing is not listing
            or window.created + ttl_s < self.now().timestamp()
            or (listing.may_change is not None and window.query != _query(request, listing))
        ):
            if listing is _V0:
                return self._error(400, "InvalidInput", UNDECODABLE, operation=listing.operation)
            return self._error(400, "InvalidInput", "Invalid Input",
                               f"{listing.token} is invalid, expired or was issued for another query",
                               listing.operation)  # fmt: skip
        size = request.arg(listing.size)
        if size is None or listing.may_change is None:
            return window
        if not size.isdigit() or not 1 <= int(size) <= 100:
            return self._error(400, "InvalidInput", f"{listing.size} must be between 1 and 100",
                               operation=listing.operation)  # fmt: skip
        return replace(window, size=int(size))

    def _page(self, window: _Window, render: Any) -> tuple[list[dict[str, Any]], str | None]:
        """The orders of one page of ``window`` (rendered) and the token of the next page, if one waits."""
        index = self._by_updated if window.by == "updated" else self._by_created
        i = bisect.bisect_left(index, window.key) if window.inclusive else bisect.bisect_right(index, window.key)
        page: list[dict[str, Any]] = []
        last = window.key
        while i < len(index) and len(page) < window.size:
            ts, order_id = index[i]
            if ts > window.before:
                break
            order = self.orders[order_id]
            if order.public["MarketplaceId"] in window.markets:
                page.append(render(order))
            last = (ts, order_id)
            i += 1
        if self._malformed and page:
            self._malformed -= 1
            page.insert(len(page) // 2, self._malformed_order(window))
        if i < len(index) and index[i][0] <= window.before:
            next_token = _next_token()
            self._windows[next_token] = replace(
                window, key=last, inclusive=self._repeat, created=self.now().timestamp()
            )
            return page, next_token
        return page, None

    def _get_orders(self, request: FakeRequest) -> FakeResponse:
        pii = self._authorise(request, "getOrders", ORDERS)
        if isinstance(pii, FakeResponse):
            return pii
        window = self._listed(request, _V0, self.next_token_ttl_s)
        if isinstance(window, FakeResponse):
            return window
        page, next_token = self._page(window, lambda order: self._render(order, pii))
        payload: dict[str, Any] = {"Orders": page}
        if next_token:
            payload["NextToken"] = next_token
        payload["LastUpdatedBefore" if window.by == "updated" else "CreatedBefore"] = window.before_text
        return self._ok({"payload": payload}, "getOrders")

    def _malformed_order(self, window: _Window) -> dict[str, Any]:
        self._serial += 1
        order_id, market = f"999-{self._serial:07d}-0000000", next(iter(window.markets))
        if window.listing is _V2026:
            return {
                "orderId": order_id, "createdTime": "yesterday evening", "lastUpdatedTime": window.before_text,
                "salesChannel": {"channelName": "AMAZON", "marketplaceId": market},
                "fulfillment": {"fulfillmentStatus": "UNSHIPPED", "fulfilledBy": "MERCHANT"},
                "proceeds": {"grandTotal": {"amount": "12,9O", "currencyCode": "EUR"}}, "orderItems": [],
            }  # fmt: skip
        return {
            "AmazonOrderId": order_id,
            "PurchaseDate": "yesterday evening",
            "LastUpdateDate": window.before_text,
            "OrderStatus": "Unshipped",
            "MarketplaceId": market,
            "OrderTotal": {"CurrencyCode": "EUR", "Amount": "12,9O"},
        }

    def _get_order(self, request: FakeRequest) -> FakeResponse:
        pii = self._authorise(request, "getOrder", ORDERS)
        if isinstance(pii, FakeResponse):
            return pii
        order = self.orders.get(request.params["order_id"])
        if order is None:
            return self._error(404, "NotFound", "Order not found", operation="getOrder")
        return self._ok({"payload": self._render(order, pii)}, "getOrder")

    # --- Orders API 2026-01-01 ------------------------------------------------------------------------------------

    def _included(self, request: FakeRequest, operation: str) -> frozenset[str] | FakeResponse:
        """The datasets an authorised Orders 2026-01-01 read asks for, or the answer that refuses it."""
        allowed = self._authorise(request, operation, ORDERS)
        if isinstance(allowed, FakeResponse):
            return allowed
        wanted = frozenset(part for part in (request.arg("includedData") or "").split(",") if part)
        unknown = sorted(wanted - INCLUDED_DATA_2026)
        if unknown:
            return self._error(400, "InvalidInput", "Invalid Input", f"{unknown[0]} is not an includedData value",
                               operation)  # fmt: skip
        return wanted

    def _render_2026(self, order: _Order, included: frozenset[str]) -> dict[str, Any]:
        """One order as Orders 2026-01-01 spells it, with the datasets asked for and allowed."""
        v0 = order.public
        status, merchant = v0["OrderStatus"], v0.get("FulfillmentChannel") != "AFN"
        out: dict[str, Any] = {
            "orderId": v0["AmazonOrderId"],
            "createdTime": v0["PurchaseDate"],
            "lastUpdatedTime": v0["LastUpdateDate"],
            "salesChannel": {"channelName": "AMAZON", "marketplaceId": v0["MarketplaceId"],
                             "marketplaceName": v0["SalesChannel"]},
            "orderItems": [_item_2026(item, included) for item in self.items[v0["AmazonOrderId"]]],
        }  # fmt: skip
        if v0.get("IsPrime"):
            out["programs"] = ["PRIME"]
        pii = PII in self.roles
        if "BUYER" in included:  # the name for open and shipped orders, the e-mail for merchant-fulfilled ones
            buyer = {"buyerName": order.name} if pii and status in _BUYER_2026 else {}
            if buyer and merchant and order.email:
                buyer["buyerEmail"] = order.email
            out["buyer"] = buyer
        if "RECIPIENT" in included and status in _SHIPPED:
            shown = {"City", "StateOrRegion", "CountryCode"} | (
                {"Name", "AddressLine1", "PostalCode"} if pii else set()
            )
            names = {"Name": "name", "AddressLine1": "addressLine1", "City": "city", "StateOrRegion": "stateOrRegion",
                     "PostalCode": "postalCode", "CountryCode": "countryCode"}  # fmt: skip
            out["recipient"] = {"deliveryAddress": {names[k]: v for k, v in order.address.items() if k in shown}}
        if "FULFILLMENT" in included:
            out["fulfillment"] = {"fulfillmentStatus": _STATUS_2026.get(status, status.upper()),
                                  "fulfilledBy": "MERCHANT" if merchant else "AMAZON"}  # fmt: skip
        if "PROCEEDS" in included and "OrderTotal" in v0:
            total = v0["OrderTotal"]
            out["proceeds"] = {"grandTotal": {"amount": total["Amount"], "currencyCode": total["CurrencyCode"]}}
        if "PACKAGES" in included and merchant and status == "Shipped":
            country = order.address.get("CountryCode", "")
            out["packages"] = [{
                "packageReferenceId": f"PKG-{v0['AmazonOrderId']}", "packageStatus": {"status": "SHIPPED"},
                "carrier": _CARRIERS.get(country, "UPS"), "shipTime": v0["LastUpdateDate"],
                "trackingNumber": f"{country}{int(order.updated) % 10**10:010d}",
            }]  # fmt: skip
        return out

    def _search_orders(self, request: FakeRequest) -> FakeResponse:
        included = self._included(request, SEARCH_ORDERS)
        if isinstance(included, FakeResponse):
            return included
        window = self._listed(request, _V2026, self.pagination_token_ttl_s)
        if isinstance(window, FakeResponse):
            return window
        page, next_token = self._page(window, lambda order: self._render_2026(order, included))
        body: dict[str, Any] = {"orders": page}
        if next_token:
            body["pagination"] = {"nextToken": next_token}
        body["lastUpdatedBefore" if window.by == "updated" else "createdBefore"] = window.before_text
        return self._ok(body, SEARCH_ORDERS)

    def _get_order_2026(self, request: FakeRequest) -> FakeResponse:
        included = self._included(request, GET_ORDER_2026)
        if isinstance(included, FakeResponse):
            return included
        order = self.orders.get(request.params["order_id"])
        if order is None:
            return self._error(404, "NotFound", "The resource specified does not exist.", operation=GET_ORDER_2026)
        return self._ok({"order": self._render_2026(order, included)}, GET_ORDER_2026)

    def _get_order_items(self, request: FakeRequest) -> FakeResponse:
        allowed = self._authorise(request, "getOrderItems", ORDERS)
        if isinstance(allowed, FakeResponse):
            return allowed
        order_id = request.params["order_id"]
        token = request.arg("NextToken")
        start = 0
        if token is not None:
            page = self._item_pages.get(token)
            if page is None or page[0] != order_id:
                return self._error(400, "InvalidInput", UNDECODABLE, operation="getOrderItems")
            start = page[1]
        items = self.items.get(order_id)
        if items is None:
            return self._error(404, "NotFound", "Order not found", operation="getOrderItems")
        end = start + self.items_page_size
        payload: dict[str, Any] = {"AmazonOrderId": order_id, "OrderItems": items[start:end]}
        if end < len(items):
            next_token = _next_token()
            self._item_pages[next_token] = (order_id, end)
            payload["NextToken"] = next_token
        return self._ok({"payload": payload}, "getOrderItems")

    # --- Messaging API ---------------------------------------------------------------------------------------------

    def _messaging_order(self, request: FakeRequest, operation: str) -> _Order | FakeResponse:
        allowed = self._authorise(request, operation, MESSAGING)
        if isinstance(allowed, FakeResponse):
            return allowed
        market = request.arg("marketplaceIds")
        if not market:
            return self._error(400, "InvalidInput", "Invalid Input", "marketplaceIds is required", operation)
        order = self.orders.get(request.params["order_id"])
        if order is None or order.public["MarketplaceId"] != market:
            return self._error(404, "NotFound", "The resource specified does not exist.", operation=operation)
        return order

    def _messaging_actions(self, request: FakeRequest) -> FakeResponse:
        order = self._messaging_order(request, "getMessagingActionsForOrder")
        if isinstance(order, FakeResponse):
            return order
        base = f"/messaging/v1/orders/{request.params['order_id']}"
        query = f"?marketplaceIds={order.public['MarketplaceId']}"
        names = [*_ACTIONS_BY_STATUS.get(order.public["OrderStatus"], ()), "attributes"]
        links = [
            {"href": f"{base}/{'attributes' if n == 'attributes' else 'messages/' + n}{query}", "name": n}
            for n in names
        ]
        embedded = [
            {"_links": {"self": {"href": link["href"], "name": link["name"]},
                        "schema": {"href": f"{base}/messages/{link['name']}/schema", "name": link["name"]}}}
            for link in links
            if link["name"] != "attributes"
        ]  # fmt: skip
        body = {"_links": {"actions": links, "self": {"href": base + query}}, "_embedded": {"actions": embedded}}
        return self._ok(body, "getMessagingActionsForOrder", hal=True)

    def _attributes(self, request: FakeRequest) -> FakeResponse:
        order = self._messaging_order(request, "getAttributes")
        if isinstance(order, FakeResponse):
            return order
        return self._ok({"buyer": {"locale": order.locale}}, "getAttributes", hal=True)

    def _send_message(self, request: FakeRequest) -> FakeResponse:
        action = request.params["action"]
        order = self._messaging_order(request, action)
        if isinstance(order, FakeResponse):
            return order
        spec = ACTIONS.get(action)
        if spec is None or action not in _ACTIONS_BY_STATUS.get(order.public["OrderStatus"], ()):
            return self._error(400, "InvalidInput", "Invalid Input",
                               f"{action} is not available for this order", action)  # fmt: skip
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self._error(400, "InvalidInput", "Invalid Input", "the body must be a JSON object", action)
        problem = self._message_problem(action, body)
        if problem:
            return self._error(400, "InvalidInput", "Invalid Input", problem, action)
        self.replies.append(
            {"amazonOrderId": request.params["order_id"], "action": action,
             "marketplaceIds": request.arg("marketplaceIds"), **body}
        )  # fmt: skip
        return self._ok({}, action, status=201, hal=True)

    @staticmethod
    def _message_problem(action: str, body: dict[str, Any]) -> str | None:
        """What the action's request schema refuses in ``body``, if anything."""
        spec = ACTIONS[action]
        allowed = {"text", "attachments"} if spec.text_limit else {"attachments"}
        if action == "warranty":
            allowed |= {"coverageStartDate", "coverageEndDate"}
        unknown = set(body) - allowed
        if unknown:
            return f"{sorted(unknown)[0]} is not a property of the {action} request"
        if spec.text_limit is not None:
            text = body.get("text")
            if not isinstance(text, str) or not 1 <= len(text) <= spec.text_limit:
                return f"text must be 1 to {spec.text_limit} characters"
            if _HTML.search(text) or _EMAIL.search(text):
                return "text must be plain text without HTML or e-mail addresses"
        attachments = body.get("attachments", [])
        if not isinstance(attachments, list) or not spec.attachments[0] <= len(attachments) <= spec.attachments[1]:
            low, high = spec.attachments
            return f"attachments must be a list of {low} to {high} uploaded files"
        if attachments:
            return "uploadDestinationId does not name an upload destination"  # the fake has no Uploads API
        return None

    # --- state -----------------------------------------------------------------------------------------------------

    def _index(self, order_id: str, updated: float) -> None:
        """Move an order to its new LastUpdateDate in the update index (appending is the common case)."""
        order = self.orders[order_id]
        old = (order.updated, order_id)
        at = bisect.bisect_left(self._by_updated, old)
        if at < len(self._by_updated) and self._by_updated[at] == old:
            del self._by_updated[at]
        order.updated = updated
        order.public["LastUpdateDate"] = _iso(updated)
        bisect.insort(self._by_updated, (updated, order_id))

    def _buyer(self, market: _Market) -> _Buyer:
        rng = self._rng
        if market.buyers and rng.random() < 0.35:
            return rng.choice(market.buyers)
        alias = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(15))
        cities = _CITIES.get(market.country) or _CITIES["US"]
        language = market.language
        locale = rng.choice([f"{language}-{market.country}"] * 4 + ["en-GB", "tr-TR", "pl-PL"])
        buyer = _Buyer(f"{alias}@marketplace.{market.domain}", rng.choice(_NAMES[language]), locale, rng.choice(cities))
        market.buyers.append(buyer)
        return buyer

    def add_order(
        self,
        *,
        at: float | None = None,
        status: str | None = None,
        lines: int | None = None,
        fulfilment: str | None = None,
        marketplace_id: str | None = None,
    ) -> str:
        """One new order (the fake's internals, public so tests can shape one); returns its id."""
        rng = self._rng
        market = next((m for m in self._markets if m.id == marketplace_id), None) or rng.choice(self._markets)
        ts = float(at if at is not None else max(self.now().timestamp(), self._last_ts))
        self._last_ts = max(self._last_ts, ts)
        self._serial += 1
        order_id = f"{_ID_PREFIX.get(market.country, '111')}-{1000000 + self._serial:07d}-{rng.randrange(10**7):07d}"
        status = (
            status
            or rng.choices(("Unshipped", "Shipped", "Pending", "Canceled", "PartiallyShipped"), (55, 30, 8, 4, 3))[0]
        )
        buyer = self._buyer(market)
        whole = market.currency == "JPY"
        items, total = [], Decimal(0)
        for n in range(lines or rng.choices((1, 2, 3), (70, 22, 8))[0]):
            quantity = rng.choices((1, 2, 3), (80, 15, 5))[0]
            unit = Decimal(rng.choice(_PRICES)) * (100 if whole else 1)
            price = unit * quantity
            total += price
            title = rng.choice(_PRODUCTS[market.language])
            items.append({
                "OrderItemId": f"{rng.randrange(10**13, 10**14)}", "ASIN": f"B0{rng.randrange(16**8):08X}",
                "SellerSKU": f"SKU-{n + 1}-{rng.randrange(1000):03d}", "Title": title, "QuantityOrdered": quantity,
                "QuantityShipped": quantity if status == "Shipped" else 0,
                "ItemPrice": {"CurrencyCode": market.currency, "Amount": f"{price:.0f}" if whole else f"{price:.2f}"},
            })  # fmt: skip
        public: dict[str, Any] = {
            "AmazonOrderId": order_id,
            "PurchaseDate": _iso(ts),
            "LastUpdateDate": _iso(ts),
            "OrderStatus": status,
            "FulfillmentChannel": fulfilment or rng.choices(("MFN", "AFN"), (70, 30))[0],
            "SalesChannel": market.domain.capitalize(),
            "MarketplaceId": market.id,
            "NumberOfItemsShipped": sum(i["QuantityShipped"] for i in items),
            "NumberOfItemsUnshipped": sum(i["QuantityOrdered"] - i["QuantityShipped"] for i in items),
            "IsPrime": rng.random() < 0.3,
            "IsBusinessOrder": False,
        }
        if status != "Pending":
            public["OrderTotal"] = {
                "CurrencyCode": market.currency,
                "Amount": f"{total:.0f}" if whole else f"{total:.2f}",
            }
        city, postal, region = buyer.city
        address = {"Name": buyer.name, "AddressLine1": f"{rng.randrange(1, 120)} Example Street", "City": city,
                   "PostalCode": postal, "CountryCode": market.country}  # fmt: skip
        if region:
            address["StateOrRegion"] = region
        email = None if status == "Pending" else buyer.alias
        self.orders[order_id] = _Order(public, email, buyer.name, buyer.locale, address, ts, ts)
        self.items[order_id] = items
        for index in (self._by_created, self._by_updated):
            if not index or index[-1] <= (ts, order_id):
                index.append((ts, order_id))  # orders arrive in time order: appending keeps the index sorted
            else:
                bisect.insort(index, (ts, order_id))
        return order_id

    def update_order(self, order_id: str, status: str) -> None:
        """An order moves on (shipped, canceled) now, as Amazon would report it."""
        order = self.orders[order_id]
        order.public["OrderStatus"] = status
        if status == "Shipped":
            for item in self.items[order_id]:
                item["QuantityShipped"] = item["QuantityOrdered"]
        updated = max(self.now().timestamp(), self._last_ts)
        self._last_ts = updated
        self._index(order_id, updated)

    def settle(self) -> None:
        """Move the clock past Amazon's two-minute settling time after the newest change, so it is readable."""
        lag = self._last_ts + SETTLE_S + 1 - self.now().timestamp()
        if lag > 0:
            self.advance(lag)

    # --- contract hooks ---------------------------------------------------------------------------------------------

    def seed(self, messages: int = 0, orders: int = 0) -> None:
        """``orders`` new orders, newest last, all readable at once.

        Amazon's buyer messages arrive as relay mail over the email channel, not
        through the SP-API, so ``messages`` adds nothing here.
        """
        with self.lock:
            start = max(self.now().timestamp(), self._last_ts + 1)
            for n in range(orders):
                self.add_order(at=start + n // 50)  # a few dozen orders a second, like a busy store
            self.settle()

    def tick(self, rng: Any) -> None:
        """Now and then a new order, and now and then one ships."""
        if rng.random() < 0.5:
            self.add_order(at=self.now().timestamp())
        if rng.random() < 0.3:
            waiting = [oid for oid, o in self.orders.items() if o.public["OrderStatus"] == "Unshipped"]
            if waiting:
                self.update_order(rng.choice(waiting), "Shipped")

    def rate_limit_next(self, retry_after: float = 2.0, *, path: str | None = None) -> None:
        body = {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.",
                            "details": ""}]}  # fmt: skip
        self.fail_next(429, path=path, body=body, headers={"Retry-After": f"{retry_after:g}"})

    def server_error_next(self, *, path: str | None = None) -> None:
        body = {"errors": [{"code": "InternalFailure", "message": "We encountered an internal error. Please try again.",
                            "details": ""}]}  # fmt: skip
        self.fail_next(500, path=path, body=body)

    def expire_tokens(self) -> None:
        with self.lock:
            self.issuer.expire_all()
            for rdt in self._rdts.values():
                rdt.expires = self.now().timestamp() - 1

    def revoke_credentials(self) -> None:
        with self.lock:
            self.issuer.revoke_all()
            self._rdts.clear()

    def drop_scope(self, stream: Stream) -> None:
        """The app loses a role: Orders (Inventory and Order Tracking) or Messaging (Buyer Communication)."""
        with self.lock:
            self.roles.discard(ORDERS if stream is Stream.ORDERS else MESSAGING)

    def drop_restricted_roles(self) -> None:
        """The app is not approved for buyer PII: restricted data tokens are refused."""
        with self.lock:
            self.roles.discard(PII)

    def expire_next_tokens(self) -> None:
        """Every NextToken handed out so far is refused from now on."""
        with self.lock:
            self._windows.clear()

    def repeat_across_page_boundary(self, enabled: bool = True) -> None:
        self._repeat = enabled

    def add_malformed_record(self) -> None:
        with self.lock:
            self._malformed += 1

    def set_usage_plans(self, plans: dict[str, tuple[float, int]]) -> None:
        """Other rates and bursts per operation (the benchmark raises them far above Amazon's); a v0 plan also
        holds for its 2026-01-01 counterpart unless that one is given too."""
        with self.lock:
            self.plans = UsagePlans(_with_counterparts(plans))

    def account_settings(self, orders_api: str | None = None) -> tuple[dict[str, object], dict[str, str]]:
        """Settings and secrets of an account on this fake; ``orders_api`` (else the fake's own, else none:
        the connector's default) chooses the Orders API version."""
        settings: dict[str, object] = {
            "marketplace_ids": ",".join(self.marketplace_ids),
            "client_id": self.client_id,
            "use_restricted_data_token": True,
            "token_url": f"{self.url}/auth/o2/token",
            "base_url": self.url,
        }
        if orders_api or self.orders_api:
            settings["orders_api"] = orders_api or self.orders_api
        return settings, {"client_secret": self.client_secret, "refresh_token": self.issuer.grant()}

    def push_to(self, url: str, **what: Any) -> Response:
        """SP-API notifications go to SQS or EventBridge, never to an HTTP endpoint of ours."""
        raise NotImplementedError("Amazon does not push to the helpdesk")

    def buyer_of(self, order_id: str) -> str | None:
        """The relay alias of an order's buyer (what its relay mail comes from)."""
        return self.orders[order_id].email
