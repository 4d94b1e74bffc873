"""Orders API (v0 and 2026-01-01) and Messaging API payloads → the helpdesk's records; pure functions.

Amazon spells money as strings and times as ISO 8601 in UTC.  Absent data is
accepted; malformed data raises ValueError naming the field.

**Orders v0**: money is ``{"CurrencyCode": "EUR", "Amount": "34.90"}``;
``ItemPrice`` is the price of the whole line (unit price × quantity), and the
lines come from a call of their own.  Buyer data is PII:
``BuyerInfo.BuyerEmail`` (the buyer's relay alias, the same key the relay
mail's sender carries, so order and mail meet on one customer) and the
street part of ``ShippingAddress`` come only with a Restricted Data Token,
and ``OrderTotal`` is missing while an order is ``Pending``.

**Orders 2026-01-01**: camelCase, money is ``{"amount", "currencyCode"}``, the
lines come inside the order (``orderItems``, each with the *unit* price under
``product.price.unitPrice``), the status is ``fulfillment.fulfillmentStatus``
in UPPER_SNAKE and the total is ``proceeds.grandTotal``.  Buyer data
(``buyer.buyerEmail``, the same relay alias, and ``recipient.deliveryAddress``)
needs the restricted roles but no token; Amazon gives the e-mail only for
merchant-fulfilled orders that are unshipped, partly shipped or shipped.
Statuses are stored in v0's words (``CANCELLED`` → ``Canceled``), so an
account reads the same whichever API it uses.
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
RAW_ORDER_2026 = "amazon.order2026"
#: Orders 2026-01-01 fulfilment statuses in the words Orders v0 uses for the same states
STATUSES_2026: dict[str, str] = {
    "PENDING_AVAILABILITY": "PendingAvailability",
    "PENDING": "Pending",
    "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "PartiallyShipped",
    "SHIPPED": "Shipped",
    "CANCELLED": "Canceled",
    "UNFULFILLABLE": "Unfulfillable",
}
#: the states in which Amazon gives a merchant-fulfilled order's buyer e-mail (2026-01-01, with the roles)
_EMAIL_STATUSES_2026 = frozenset({"UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED"})
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


def money(
    value: object, field: str, *, amount_key: str = "Amount", currency_key: str = "CurrencyCode"
) -> tuple[Decimal, str]:
    """``{"CurrencyCode", "Amount"}`` → (amount, currency); the keys as the API version names them."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{field} is not a money object: {value!r}")
    currency = value.get(currency_key)
    if not isinstance(currency, str) or len(currency) != 3:
        raise ValueError(f"{field}.{currency_key} {currency!r} is not a currency code")
    raw = value.get(amount_key)
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        raise ValueError(f"{field}.{amount_key} {raw!r} is not a number") from None
    if not amount.is_finite():
        raise ValueError(f"{field}.{amount_key} {raw!r} is not a number")
    return amount, currency.upper()


def money_2026(value: object, field: str) -> tuple[Decimal, str]:
    """Orders 2026-01-01 ``Money`` (``{"amount", "currencyCode"}``) → (amount, currency)."""
    return money(value, field, amount_key="amount", currency_key="currencyCode")


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _object(value: object) -> Mapping[str, Any]:
    """An optional nested object, or an empty one when it is absent (or not an object)."""
    return value if isinstance(value, Mapping) else {}


def _item(item: object, field: str, key: str) -> tuple[Mapping[str, Any], int]:
    """One order line and its ordered quantity (``key``), checked."""
    if not isinstance(item, Mapping):
        raise ValueError(f"{field} is not an object")
    quantity = item.get(key)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise ValueError(f"{field}.{key} {quantity!r} is not a whole number")
    return item, quantity


def order_lines(items: Sequence[Mapping[str, Any]]) -> tuple[OrderLineRecord, ...]:
    """getOrderItems' ``OrderItems`` → lines with the unit price (``ItemPrice`` covers the whole line)."""
    lines = []
    for n, raw_item in enumerate(items):
        field = f"OrderItems[{n}]"
        item, quantity = _item(raw_item, field, "QuantityOrdered")
        unit = Decimal(0)
        if item.get("ItemPrice") is not None:
            total, currency = money(item["ItemPrice"], f"{field}.ItemPrice")
            exponent = Decimal(1) if currency in _WHOLE_CURRENCIES else _CENT
            unit = (total / quantity).quantize(exponent) if quantity else total
        lines.append(
            _line(quantity, unit, item.get("OrderItemId"), item.get("Title"), item.get("ASIN"), item.get("SellerSKU"))
        )
    return tuple(lines)


def _line(quantity: int, unit: Decimal, item_id: object, title: object, asin: object, sku: object) -> OrderLineRecord:
    """One line; without a title the ASIN stands in."""
    return OrderLineRecord(
        title=_text(title) or _text(asin) or "(no title)",
        quantity=quantity,
        unit_price=unit,
        sku=_text(sku),
        external_id=_text(item_id),
    )


def _order_id(raw: object, id_key: str, created_key: str, updated_key: str) -> str:
    """An order's id, once it is known to be an object with an id and two readable times."""
    if not isinstance(raw, Mapping):
        raise ValueError("the order is not an object")
    order_id = _text(raw.get(id_key))
    if not order_id:
        raise ValueError(f"{id_key} is missing")
    parse_time(raw.get(created_key), created_key)
    parse_time(raw.get(updated_key), updated_key)
    return order_id


def check_order(raw: Mapping[str, Any]) -> str:
    """The order id, once the header fields that need no line items are known to map; ValueError otherwise."""
    order_id = _order_id(raw, "AmazonOrderId", "PurchaseDate", "LastUpdateDate")
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
    address = _object(raw.get("ShippingAddress"))
    buyer_info = _object(raw.get("BuyerInfo"))
    shipping = _shipping(address.get("City"), address.get("PostalCode"), address.get("CountryCode"))
    return OrderRecord(
        platform=PLATFORM,
        account=account,
        order_number=order_id,
        status=str(raw["OrderStatus"]).strip(),
        currency=currency,
        total=total,
        placed_at=parse_time(raw["PurchaseDate"], "PurchaseDate"),
        updated_at=parse_time(raw["LastUpdateDate"], "LastUpdateDate"),
        buyer=_buyer(buyer_info.get("BuyerEmail"), buyer_info.get("BuyerName"), shipping),
        lines=lines,
        site=market.country if market else None,
        shipping_address=shipping,
        # No field says who fulfils an order; for FBA it is Amazon's network, which is what an agent must know.
        carrier="Amazon (FBA)" if raw.get("FulfillmentChannel") == "AFN" else None,
    )


def _shipping(city: object, postal_code: object, country: object) -> dict[str, str]:
    """The parts of a shipping address the helpdesk keeps: city, postal code and country, never the street."""
    code = _text(country)
    parts = (("city", _text(city)), ("postal_code", _text(postal_code)), ("country", code.upper() if code else None))
    return {key: value for key, value in parts if value}


def _buyer(email: object, name: object, shipping: Mapping[str, str]) -> Party:
    """The buyer, keyed by the relay alias lower-cased as the relay-mail parser keys the same buyer."""
    alias = _text(email)
    return Party(email=alias.lower() if alias else None, name=_text(name), country=shipping.get("country"))


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


# --- Orders API 2026-01-01 ----------------------------------------------------------------------------------


def order_lines_2026(items: Sequence[Mapping[str, Any]]) -> tuple[OrderLineRecord, ...]:
    """``orderItems`` → lines; ``product.price.unitPrice`` is already the price of one unit."""
    lines = []
    for n, raw_item in enumerate(items):
        field = f"orderItems[{n}]"
        item, quantity = _item(raw_item, field, "quantityOrdered")
        product = _object(item.get("product"))
        price = _object(product.get("price")).get("unitPrice")
        unit = money_2026(price, f"{field}.product.price.unitPrice")[0] if price is not None else Decimal(0)
        sku = product.get("sellerSku")
        lines.append(_line(quantity, unit, item.get("orderItemId"), product.get("title"), product.get("asin"), sku))
    return tuple(lines)


def check_order_2026(raw: Mapping[str, Any]) -> str:
    """The order id, once the order's own fields are known to map; ValueError otherwise."""
    order_id = _order_id(raw, "orderId", "createdTime", "lastUpdatedTime")
    if not _text(_object(raw.get("fulfillment")).get("fulfillmentStatus")):
        raise ValueError("fulfillment.fulfillmentStatus is missing")
    grand_total = _object(raw.get("proceeds")).get("grandTotal")
    if grand_total is not None:
        money_2026(grand_total, "proceeds.grandTotal")
    if not isinstance(raw.get("orderItems"), list):
        raise ValueError("orderItems is missing or not a list")
    return order_id


def marketplace_2026(raw: Mapping[str, Any]) -> str | None:
    """The marketplace id an Orders 2026-01-01 order was placed in."""
    return _text(_object(raw.get("salesChannel")).get("marketplaceId"))


def _latest_package(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """The package shipped last (merchant-fulfilled orders, with ``includedData=PACKAGES``), or none."""
    packages = raw.get("packages") or []
    if not isinstance(packages, list):
        raise ValueError("packages is not a list")
    latest: tuple[datetime, Mapping[str, Any]] | None = None
    for n, package in enumerate(packages):
        if isinstance(package, Mapping) and package.get("shipTime") is not None:
            shipped = parse_time(package["shipTime"], f"packages[{n}].shipTime")
            if latest is None or shipped >= latest[0]:
                latest = (shipped, package)
    return latest[1] if latest else {}


def order_record_2026(raw: Mapping[str, Any], account: str) -> OrderRecord:
    """One Orders 2026-01-01 order, lines included; ValueError names the field that does not map."""
    order_id = check_order_2026(raw)
    lines = order_lines_2026(raw["orderItems"])
    market = MARKETPLACES.get(marketplace_2026(raw) or "")
    grand_total = _object(raw.get("proceeds")).get("grandTotal")
    if grand_total is not None:
        total, currency = money_2026(grand_total, "proceeds.grandTotal")
    else:  # no proceeds yet (or not asked for): the lines' prices, in the store's currency
        total = sum((line.unit_price * line.quantity for line in lines), Decimal(0))
        currency = _unit_currency(raw["orderItems"]) or (market.currency if market else "")
        if not currency:
            raise ValueError("proceeds.grandTotal is missing and salesChannel.marketplaceId names no known store")
    address = _object(_object(raw.get("recipient")).get("deliveryAddress"))
    shipping = _shipping(address.get("city"), address.get("postalCode"), address.get("countryCode"))
    buyer = _object(raw.get("buyer"))
    fulfillment = _object(raw.get("fulfillment"))
    status = str(fulfillment["fulfillmentStatus"]).strip()
    package = _latest_package(raw)
    shipped_at = package.get("shipTime")
    fba = fulfillment.get("fulfilledBy") == "AMAZON"
    return OrderRecord(
        platform=PLATFORM,
        account=account,
        order_number=order_id,
        status=STATUSES_2026.get(status, status),
        currency=currency,
        total=total,
        placed_at=parse_time(raw["createdTime"], "createdTime"),
        updated_at=parse_time(raw["lastUpdatedTime"], "lastUpdatedTime"),
        buyer=_buyer(buyer.get("buyerEmail"), buyer.get("buyerName"), shipping),
        lines=lines,
        site=market.country if market else None,
        shipping_address=shipping,
        carrier="Amazon (FBA)" if fba else _text(package.get("carrier")),
        tracking_number=_text(package.get("trackingNumber")),
        shipped_at=parse_time(shipped_at, "packages[].shipTime") if shipped_at is not None else None,
    )


def _unit_currency(items: Sequence[Any]) -> str | None:
    for item in items:
        price = _object(_object(_object(item).get("product")).get("price")).get("unitPrice")
        code = _object(price).get("currencyCode")
        if isinstance(code, str):
            return code.upper()
    return None


def buyer_email_withheld(orders: Sequence[Mapping[str, Any]]) -> int:
    """How many orders should carry the buyer's e-mail and do not, when none of them does (else 0).

    Amazon gives it for merchant-fulfilled orders that are unshipped, partly
    shipped or shipped, to an app with the Direct-to-Consumer Delivery role;
    a page of such orders without a single one says the role is missing.
    """
    due = [
        order
        for order in orders
        if isinstance(order, Mapping)
        and _object(order.get("fulfillment")).get("fulfilledBy") == "MERCHANT"
        and _object(order.get("fulfillment")).get("fulfillmentStatus") in _EMAIL_STATUSES_2026
    ]
    if any(_text(_object(order.get("buyer")).get("buyerEmail")) for order in due):
        return 0
    return len(due)


def raw_order_2026(order: Mapping[str, Any]) -> bytes:
    """What a rejected Orders 2026-01-01 order is kept as: the order, its lines inside, as Amazon sent it."""
    return json.dumps(order, ensure_ascii=False, separators=(",", ":")).encode()


def parse_raw_order_2026(raw: bytes, account: str | None) -> OrderRecord:
    """Quarantine replay of :func:`raw_order_2026` bytes (``amazon.order2026``)."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, Mapping) or "orderId" not in data:
        raise ValueError("orderId is missing: not an amazon.order2026 record")
    return order_record_2026(data, account or "")


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
