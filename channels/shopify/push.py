"""Shopify webhooks arriving at ``/hooks/shopify``: verified, matched to an account, turned into records.

A delivery is checked in this order:

1. ``X-Shopify-Shop-Domain`` picks the candidate accounts (those whose
   ``shop`` setting is that store);
2. ``X-Shopify-Hmac-Sha256`` must be the body's HMAC under one of their
   client secrets (the previous secret too, while one is being rotated) —
   otherwise 401;
3. ``X-Shopify-Triggered-At`` must lie within Shopify's retry window:
   Shopify retries a failed delivery 8 times over 4 hours with the original
   payload, so anything older than :data:`RETRY_WINDOW` (5 hours: the 4 hours
   plus slack for a slow last attempt and clock skew) is a replay, refused
   with 400.  Inside the window a replay is caught by the dedupe key
   (``X-Shopify-Event-Id``, else ``X-Shopify-Webhook-Id``).

Only the body is signed, so the headers of a captured delivery could be
forged; what protects the data is that records carry ``updated_at`` and the
helpdesk keeps the newer version of an order.

Topics: ``orders/*`` carry the whole order (REST shape of the subscription's
API version) and its customer; ``customers/create|update`` a customer;
``app/uninstalled`` disables the account; the mandatory privacy topics are
acknowledged and otherwise not acted on yet; anything else is acknowledged
so Shopify does not retry it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from channels.base import (
    AccountConfig,
    CustomerRecord,
    OrderRecord,
    PushRejected,
    PushRequest,
    PushResult,
    RejectedInput,
)
from channels.schema import ConfigError
from channels.shopify import signing
from channels.shopify.mapping import MappingError, customer_from_rest, order_from_rest
from channels.shopify.settings import normalise_shop

log = logging.getLogger(__name__)

RAW_ORDER = "shopify.order"
RETRY_WINDOW = timedelta(hours=5)
CLOCK_SKEW = timedelta(minutes=5)

ORDER_TOPICS = frozenset(
    {
        "orders/create",
        "orders/updated",
        "orders/cancelled",
        "orders/fulfilled",
        "orders/paid",
        "orders/partially_fulfilled",
    }
)
CUSTOMER_TOPICS = frozenset({"customers/create", "customers/update"})
PRIVACY_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
UNINSTALLED = "app/uninstalled"
#: What :meth:`ShopifyConnector.subscribe_push` subscribes (privacy topics are set in the app's configuration).
SUBSCRIBED_TOPICS = (
    *sorted(ORDER_TOPICS - {"orders/paid", "orders/partially_fulfilled"}),
    *sorted(CUSTOMER_TOPICS),
    UNINSTALLED,
)


def handle(request: PushRequest, accounts: Sequence[AccountConfig], *, now: datetime | None = None) -> PushResult:
    """Verify one delivery and say what it carries; PushRejected when it must be refused."""
    headers = request.headers
    shop = (headers.get("x-shopify-shop-domain") or "").strip().lower()
    if not shop:
        raise PushRejected("the delivery has no X-Shopify-Shop-Domain header", status=401)
    candidates = [a for a in accounts if _shop(a) == shop]
    if not candidates:
        raise PushRejected(f"no Shopify account is connected to {shop}", status=401)
    signature = headers.get("x-shopify-hmac-sha256")
    verified = [a for a in candidates if signing.verify(request.body, signature, _secrets(a))]
    if not verified:
        raise PushRejected("X-Shopify-Hmac-Sha256 does not match the body under the store's client secret", status=401)
    _check_fresh(headers.get("x-shopify-triggered-at"), now or datetime.now(UTC))

    topic = (headers.get("x-shopify-topic") or "").strip().lower()
    key = (headers.get("x-shopify-event-id") or headers.get("x-shopify-webhook-id") or "").strip() or None
    names = tuple(a.name for a in verified)
    if topic == UNINSTALLED:
        return PushResult(dedupe_key=key, disable=names)
    if topic not in ORDER_TOPICS and topic not in CUSTOMER_TOPICS:
        if topic not in PRIVACY_TOPICS:
            log.info("Shopify webhook %r from %s acknowledged and ignored", topic, shop)
        return PushResult(dedupe_key=key)
    try:
        payload = json.loads(request.body)
        if not isinstance(payload, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        if topic in CUSTOMER_TOPICS:
            log.warning("Shopify %s webhook from %s is not JSON (%s); dropped", topic, shop, exc)
            return PushResult(dedupe_key=key)
        rejected = tuple(RejectedInput(request.body, RAW_ORDER, f"body: not JSON ({exc})", "body") for _ in names)
        return PushResult(dedupe_key=key, rejected=rejected)
    if topic in CUSTOMER_TOPICS:
        return PushResult(dedupe_key=key, customers=_customers(payload, names, topic, shop))
    return _orders(payload, request.body, names, key)


def _orders(payload: dict[str, object], raw: bytes, names: tuple[str, ...], key: str | None) -> PushResult:
    orders: list[OrderRecord] = []
    customers: list[CustomerRecord] = []
    rejected: list[RejectedInput] = []
    for name in names:
        try:
            orders.append(order_from_rest(payload, name))
        except MappingError as exc:
            rejected.append(RejectedInput(raw, RAW_ORDER, str(exc), exc.field))
            continue
        customer = payload.get("customer")
        if isinstance(customer, dict) and customer.get("id"):
            try:
                customers.append(customer_from_rest(customer, name, fallback_email=payload.get("email")))
            except MappingError as exc:
                log.warning("order webhook's customer of %s cannot be read: %s", name, exc)
    return PushResult(dedupe_key=key, orders=tuple(orders), customers=tuple(customers), rejected=tuple(rejected))


def _customers(payload: dict[str, object], names: tuple[str, ...], topic: str, shop: str) -> tuple[CustomerRecord, ...]:
    try:
        return tuple(customer_from_rest(payload, name) for name in names)
    except MappingError as exc:
        # Quarantine has no raw format for customers (a raw parser returns messages or orders only).
        log.warning("Shopify %s webhook from %s cannot be read (%s); dropped", topic, shop, exc)
        return ()


def _shop(account: AccountConfig) -> str | None:
    try:
        return normalise_shop(str(account.settings.get("shop") or ""))
    except ConfigError:
        return None


def _secrets(account: AccountConfig) -> list[str]:
    secrets = account.store().get()
    return [s for s in (secrets.get("client_secret"), secrets.get("previous_client_secret")) if s]


def _check_fresh(triggered_at: str | None, now: datetime) -> None:
    """Refuse a delivery triggered outside Shopify's retry window (400: stale, not tampered)."""
    if not triggered_at:
        return  # nothing to judge by; the dedupe key still catches a replay
    try:
        when = datetime.fromisoformat(triggered_at.strip())
    except ValueError:
        raise PushRejected(f"X-Shopify-Triggered-At is not a time: {triggered_at!r}", status=400) from None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if now - when > RETRY_WINDOW:
        raise PushRejected(f"the delivery was triggered at {triggered_at}, outside Shopify's retry window", status=400)
    if when - now > CLOCK_SKEW:
        raise PushRejected(f"the delivery claims to be triggered in the future ({triggered_at})", status=400)
