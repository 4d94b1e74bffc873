"""Orders API v0 and Messaging API payloads → the helpdesk's records; pure functions.

Amazon spells money as strings (``{"CurrencyCode": "EUR", "Amount": "34.90"}``)
and times as ISO 8601 in UTC; ``ItemPrice`` is the price of the whole line
(unit price × quantity).  Buyer data is PII: ``BuyerInfo.BuyerEmail`` (the
buyer's relay alias, the same key the relay mail's sender carries, so order
and mail meet on one customer) and the street part of ``ShippingAddress``
come only with a Restricted Data Token, and ``OrderTotal`` is missing while
an order is ``Pending``.  Absent data is accepted; malformed data raises
ValueError naming the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from channels.amazon.settings import MARKETPLACES
from channels.base import MessagingAction, OrderLineRecord, OrderRecord, Party

PLATFORM = "amazon"
RAW_ORDER = "amazon.order"
_CENT = Decimal("0.01")
_WHOLE_CURRENCIES = {"JPY"}  # no minor unit


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """What one Messaging API message type takes: its text limit (None: no text) and attachment count."""

    title: str
    text_limit: int | None
    attachments: tuple[int, int] = (0, 0)


#: Messaging API message types (``_links.actions[].name``) and their request schemas.
ACTIONS: dict[str, ActionSpec] = {
    "confirmCustomizationDetails": ActionSpec("Confirm customization details", 800, (0, 5)),
    "confirmDeliveryDetails": ActionSpec("Confirm delivery details", 2000),
    "confirmOrderDetails": ActionSpec("Confirm order details", 2000),
    "confirmServiceDetails": ActionSpec("Confirm service details", 2000),
    "unexpectedProblem": ActionSpec("Report an unexpected problem", 2000),
    "digitalAccessKey": ActionSpec("Send a digital access key", 400, (0, 5)),
    "legalDisclosure": ActionSpec("Send a legal disclosure", None, (0, 5)),
    "warranty": ActionSpec("Send warranty information", None, (1, 5)),
    "invoice": ActionSpec("Send an invoice", None, (1, 5)),
    "amazonMotors": ActionSpec("Send Amazon Motors details", None, (0, 5)),
    "negativeFeedbackRemoval": ActionSpec("Ask to remove negative feedback", None),
}
#: links in the actions list that are not messages
_NOT_MESSAGES = {"attributes"}


def parse_time(value: object, field: str) -> datetime:
    """An ISO 8601 time from Amazon as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field} is missing or not text: {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{field} {value!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # Amazon's times are UTC; a bare one is too
    return parsed.astimezone(UTC)


def format_time(value: datetime) -> str:
    """The form Amazon takes in query parameters (seconds, ``Z``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(value: object, field: str) -> tuple[Decimal, str]:
    """``{"CurrencyCode", "Amount"}`` → (amount, currency)."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{field} is not a money object: {value!r}")
    currency = value.get("CurrencyCode")
    if not isinstance(currency, str) or len(currency) != 3:
        raise ValueError(f"{field}.CurrencyCode {currency!r} is not a currency code")
    raw = value.get("Amount")
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        raise ValueError(f"{field}.Amount {raw!r} is not a number") from None
    if not amount.is_finite():
        raise ValueError(f"{field}.Amount {raw!r} is not a number")
    return amount, currency.upper()


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def order_lines(items: Sequence[Mapping[str, Any]]) -> tuple[OrderLineRecord, ...]:
    """getOrderItems' ``OrderItems`` → lines with the unit price (``ItemPrice`` covers the whole line)."""
    lines = []
    for n, item in enumerate(items):
        field = f"OrderItems[{n}]"
        if not isinstance(item, Mapping):
            raise ValueError(f"{field} is not an object")
        quantity = item.get("QuantityOrdered")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise ValueError(f"{field}.QuantityOrdered {quantity!r} is not a whole number")
        unit = Decimal(0)
        if item.get("ItemPrice") is not None:
            total, currency = money(item["ItemPrice"], f"{field}.ItemPrice")
            exponent = Decimal(1) if currency in _WHOLE_CURRENCIES else _CENT
            unit = (total / quantity).quantize(exponent) if quantity else total
        lines.append(
            OrderLineRecord(
                title=_text(item.get("Title")) or _text(item.get("ASIN")) or "(no title)",
                quantity=quantity,
                unit_price=unit,
                sku=_text(item.get("SellerSKU")),
                external_id=_text(item.get("OrderItemId")),
            )
        )
    return tuple(lines)


def check_order(raw: Mapping[str, Any]) -> str:
    """The order id, once the header fields that need no line items are known to map; ValueError otherwise."""
    if not isinstance(raw, Mapping):
        raise ValueError("the order is not an object")
    order_id = _text(raw.get("AmazonOrderId"))
    if not order_id:
        raise ValueError("AmazonOrderId is missing")
    parse_time(raw.get("PurchaseDate"), "PurchaseDate")
    parse_time(raw.get("LastUpdateDate"), "LastUpdateDate")
    if not _text(raw.get("OrderStatus")):
        raise ValueError("OrderStatus is missing")
    if raw.get("OrderTotal") is not None:
        money(raw["OrderTotal"], "OrderTotal")
    return order_id


def order_record(raw: Mapping[str, Any], items: Sequence[Mapping[str, Any]], account: str) -> OrderRecord:
    """One order with its line items; ValueError names the field that does not map."""
    order_id = check_order(raw)
    lines = order_lines(items)
    market = MARKETPLACES.get(str(raw.get("MarketplaceId") or ""))
    if raw.get("OrderTotal") is not None:
        total, currency = money(raw["OrderTotal"], "OrderTotal")
    else:  # Pending orders have no total yet: the lines' prices, in the store's currency
        total = sum((line.unit_price * line.quantity for line in lines), Decimal(0))
        currency = _item_currency(items) or (market.currency if market else "")
        if not currency:
            raise ValueError("OrderTotal is missing and MarketplaceId names no known store")
    address = raw.get("ShippingAddress") if isinstance(raw.get("ShippingAddress"), Mapping) else {}
    buyer_info = raw.get("BuyerInfo") if isinstance(raw.get("BuyerInfo"), Mapping) else {}
    country = _text(address.get("CountryCode"))
    shipping = {
        key: value
        for key, value in (
            ("city", _text(address.get("City"))),
            ("postal_code", _text(address.get("PostalCode"))),
            ("country", country.upper() if country else None),
        )
        if value
    }
    email = _text(buyer_info.get("BuyerEmail"))
    return OrderRecord(
        platform=PLATFORM,
        account=account,
        order_number=order_id,
        status=str(raw["OrderStatus"]).strip(),
        currency=currency,
        total=total,
        placed_at=parse_time(raw["PurchaseDate"], "PurchaseDate"),
        updated_at=parse_time(raw["LastUpdateDate"], "LastUpdateDate"),
        buyer=Party(
            email=email.lower() if email else None,
            name=_text(buyer_info.get("BuyerName")),
            country=shipping.get("country"),
        ),
        lines=lines,
        site=market.country if market else None,
        shipping_address=shipping,
        # No field says who fulfils an order; for FBA it is Amazon's network, which is what an agent must know.
        carrier="Amazon (FBA)" if raw.get("FulfillmentChannel") == "AFN" else None,
    )


def _item_currency(items: Sequence[Mapping[str, Any]]) -> str | None:
    for item in items:
        price = item.get("ItemPrice") if isinstance(item, Mapping) else None
        if isinstance(price, Mapping) and isinstance(price.get("CurrencyCode"), str):
            return str(price["CurrencyCode"]).upper()
    return None


def raw_order(order: Mapping[str, Any], items: Sequence[Mapping[str, Any]] | None) -> bytes:
    """What a rejected order is kept as: the order and its items as Amazon sent them."""
    return json.dumps({"Order": order, "OrderItems": items}, ensure_ascii=False, separators=(",", ":")).encode()


def parse_raw_order(raw: bytes, account: str | None) -> OrderRecord:
    """Quarantine replay of :func:`raw_order` bytes (``amazon.order``)."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("Order"), Mapping):
        raise ValueError("Order is missing: not an amazon.order record")
    check_order(data["Order"])  # a header that still does not map says so first
    items = data.get("OrderItems")
    if not isinstance(items, list):
        raise ValueError("OrderItems were never read for this order; it is read again at the next poll")
    return order_record(data["Order"], items, account or "")


def messaging_actions(hal: Mapping[str, Any]) -> list[MessagingAction]:
    """The message types ``getMessagingActionsForOrder`` lists under ``_links.actions``."""
    links = hal.get("_links") if isinstance(hal.get("_links"), Mapping) else {}
    actions = links.get("actions") if isinstance(links.get("actions"), list) else []
    found: list[MessagingAction] = []
    for link in actions:
        name = link.get("name") if isinstance(link, Mapping) else None
        if not isinstance(name, str) or not name or name in _NOT_MESSAGES or any(a.name == name for a in found):
            continue
        spec = ACTIONS.get(name)
        if spec is None:  # a type newer than this table: offered, but without text until someone looks
            found.append(MessagingAction(name=name, title=name))
            continue
        found.append(
            MessagingAction(name=name, title=spec.title, text_limit=spec.text_limit, attachments=spec.attachments)
        )
    return found
