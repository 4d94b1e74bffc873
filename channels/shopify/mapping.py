"""Shopify payloads → :class:`OrderRecord` and :class:`CustomerRecord`; pure functions.

Orders come in two shapes: GraphQL Admin API nodes (polling: camelCase,
``gid://shopify/Order/…`` ids, UTC timestamps, money in ``…Set.shopMoney``)
and the REST-shaped JSON that webhooks carry (snake_case, numeric ids,
timestamps with the shop's UTC offset, money as strings).  Both become the
same record:

* ``order_number`` is the order's ``name`` (``#1042``, or whatever prefix and
  suffix the store configured): what a buyer writes in mail, so contact-form
  mail and the order meet on one ticket;
* the buyer is ``Party(platform_id=<customer id as digits>, email=<order
  e-mail>)`` — the same keys a contact-form sender and a customer webhook
  give, so they all land on one customer;
* times are normalised to UTC; money stays in the shop's currency as Decimal.

Buyer details are *protected customer data*: an app without that approval
receives orders without names, e-mails or addresses, so every personal field
is optional here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from channels.base import CustomerRecord, OrderLineRecord, OrderRecord, Party

PLATFORM = "shopify"
STATUS_LIMIT = 40  # the helpdesk's order status column
_FULFILMENT_WORDS = {"partial": "partially fulfilled", "": "unfulfilled"}


class MappingError(ValueError):
    """A payload cannot become a record; ``field`` names the part that is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


# --- field readers -------------------------------------------------------------------------------


def utc(value: Any, field: str) -> datetime | None:
    """An ISO 8601 time with any offset (or ``Z``) as aware UTC; None stays None."""
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise MappingError(field, f"is not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise MappingError(field, f"has no UTC offset: {value!r}")
    return parsed.astimezone(UTC)


def _required_utc(value: Any, field: str) -> datetime:
    parsed = utc(value, field)
    if parsed is None:
        raise MappingError(field, "is missing")
    return parsed


def money(value: Any, field: str) -> Decimal:
    """A Shopify money amount (a decimal string) as Decimal."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MappingError(field, f"is not an amount: {value!r}")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise MappingError(field, f"is not an amount: {value!r}") from None
    if not amount.is_finite():
        raise MappingError(field, f"is not an amount: {value!r}")
    return amount


def gid_number(value: Any) -> str | None:
    """``gid://shopify/Customer/7011223344556`` (GraphQL) or ``7011223344556`` (REST) → ``"7011223344556"``."""
    if value is None or value == "":
        return None
    text = str(value)
    return text.rpartition("/")[2] if text.startswith("gid://") else text


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _name(first: Any, last: Any) -> str | None:
    return _text(" ".join(p for p in (_text(first), _text(last)) if p))


def _words(value: Any) -> str:
    return str(value or "").strip().lower().replace("_", " ")


def status_text(financial: Any, fulfilment: Any, cancelled: bool) -> str:
    """One short status an agent reads: ``paid, fulfilled``, ``refunded, unfulfilled``, ``cancelled, refunded``.

    GraphQL's display statuses (``PARTIALLY_FULFILLED``) and REST's
    (``partial``, ``null`` for unfulfilled) come out the same.
    """
    paid = _words(financial)
    if cancelled:
        text = f"cancelled, {paid}" if paid else "cancelled"
    else:
        shipped = _words(fulfilment)
        shipped = _FULFILMENT_WORDS.get(shipped, shipped)
        text = f"{paid}, {shipped}" if paid else shipped
    return text[:STATUS_LIMIT]


def _address(city: Any, postal_code: Any, country: Any) -> dict[str, str]:
    out = {}
    for key, value in (("city", city), ("postal_code", postal_code), ("country", country)):
        text = _text(value)
        if text:
            out[key] = text
    return out


def _record(
    *,
    account: str,
    number: Any,
    status: str,
    currency: Any,
    total: Decimal,
    placed_at: datetime | None,
    updated_at: datetime,
    buyer: Party,
    lines: tuple[OrderLineRecord, ...],
    address: dict[str, str],
    shipment: tuple[str | None, str | None, datetime | None],
) -> OrderRecord:
    name = _text(number)
    if name is None:
        raise MappingError("name", "is missing (the order number buyers see)")
    code = _text(currency)
    if code is None:
        raise MappingError("currency", "is missing")
    carrier, tracking, shipped_at = shipment
    return OrderRecord(
        platform=PLATFORM,
        account=account,
        order_number=name,
        status=status,
        currency=code.upper(),
        total=total,
        placed_at=placed_at,
        updated_at=updated_at,
        buyer=buyer,
        lines=lines,
        shipping_address=address,
        carrier=carrier,
        tracking_number=tracking,
        shipped_at=shipped_at,
    )


# --- GraphQL Admin API nodes (polling) -----------------------------------------------------------


def order_from_node(node: Mapping[str, Any], account: str) -> OrderRecord:
    """An ``Order`` node of :data:`channels.shopify.queries.ORDER_FIELDS` as a record."""
    if not gid_number(node.get("id")):
        raise MappingError("id", "is missing")
    price = (node.get("totalPriceSet") or {}).get("shopMoney") or {}
    customer = node.get("customer") or {}
    ship = node.get("shippingAddress") or {}
    return _record(
        account=account,
        number=node.get("name"),
        status=status_text(
            node.get("displayFinancialStatus"), node.get("displayFulfillmentStatus"), bool(node.get("cancelledAt"))
        ),
        currency=price.get("currencyCode") or node.get("currencyCode"),
        total=money(price.get("amount"), "totalPriceSet.shopMoney.amount"),
        placed_at=utc(node.get("createdAt"), "createdAt"),
        updated_at=_required_utc(node.get("updatedAt"), "updatedAt"),
        buyer=Party(
            platform_id=gid_number(customer.get("id")),
            email=_text(node.get("email")),
            name=_name(customer.get("firstName"), customer.get("lastName")) or _text(ship.get("name")),
            phone=_text(node.get("phone")),
            country=_text(ship.get("countryCodeV2")),
        ),
        lines=tuple(
            _line_from_node(line, i) for i, line in enumerate((node.get("lineItems") or {}).get("nodes") or ())
        ),
        address=_address(ship.get("city"), ship.get("zip"), ship.get("countryCodeV2")),
        shipment=_shipment_from_nodes(node.get("fulfillments") or ()),
    )


def _line_from_node(line: Mapping[str, Any], i: int) -> OrderLineRecord:
    price = ((line.get("originalUnitPriceSet") or {}).get("shopMoney") or {}).get("amount")
    quantity = line.get("quantity")
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise MappingError(f"lineItems[{i}].quantity", f"is not a whole number: {quantity!r}")
    return OrderLineRecord(
        title=_text(line.get("title")) or "",
        quantity=quantity,
        unit_price=money(price, f"lineItems[{i}].originalUnitPriceSet.shopMoney.amount"),
        sku=_text(line.get("sku")),
        external_id=gid_number(line.get("id")),
    )


def _shipment_from_nodes(fulfilments: Any) -> tuple[str | None, str | None, datetime | None]:
    """Carrier, tracking number and time of the latest fulfilment that has tracking."""
    best: tuple[str | None, str | None, datetime | None] = (None, None, None)
    for i, f in enumerate(fulfilments):
        shipped = utc(f.get("createdAt"), f"fulfillments[{i}].createdAt")
        for info in f.get("trackingInfo") or ():
            if (info.get("number") or info.get("company")) and (best[2] is None or (shipped and shipped >= best[2])):
                best = (_text(info.get("company")), _text(info.get("number")), shipped)
                break
    return best


def customer_from_node(node: Mapping[str, Any], account: str) -> CustomerRecord | None:
    """The order's customer (None for a guest checkout), keyed like the order's buyer."""
    customer = node.get("customer")
    if not customer or not gid_number(customer.get("id")):
        return None
    ship = node.get("shippingAddress") or {}
    return CustomerRecord(
        platform=PLATFORM,
        account=account,
        party=Party(
            platform_id=gid_number(customer["id"]),
            email=_text(node.get("email")),
            name=_name(customer.get("firstName"), customer.get("lastName")),
            phone=_text(node.get("phone")),
            country=_text(ship.get("countryCodeV2")),
        ),
        locale=_text(customer.get("locale")) or _text(node.get("customerLocale")),
        updated_at=utc(customer.get("updatedAt"), "customer.updatedAt"),
    )


# --- REST-shaped webhook payloads ----------------------------------------------------------------


def order_from_rest(order: Mapping[str, Any], account: str) -> OrderRecord:
    """An ``orders/*`` webhook body (the REST order of the subscription's API version) as a record."""
    if not gid_number(order.get("id")):
        raise MappingError("id", "is missing")
    customer = order.get("customer") or {}
    ship = order.get("shipping_address") or {}
    return _record(
        account=account,
        number=order.get("name"),
        status=status_text(
            order.get("financial_status"), order.get("fulfillment_status"), bool(order.get("cancelled_at"))
        ),
        currency=order.get("currency"),
        total=money(order.get("total_price"), "total_price"),
        placed_at=utc(order.get("created_at"), "created_at"),
        updated_at=_required_utc(order.get("updated_at"), "updated_at"),
        buyer=Party(
            platform_id=gid_number(customer.get("id")),
            email=_text(order.get("email")) or _text(order.get("contact_email")) or _text(customer.get("email")),
            name=_name(customer.get("first_name"), customer.get("last_name")) or _text(ship.get("name")),
            phone=_text(order.get("phone")) or _text(customer.get("phone")),
            country=_text(ship.get("country_code")),
        ),
        lines=tuple(_line_from_rest(line, i) for i, line in enumerate(order.get("line_items") or ())),
        address=_address(ship.get("city"), ship.get("zip"), ship.get("country_code")),
        shipment=_shipment_from_rest(order.get("fulfillments") or ()),
    )


def _line_from_rest(line: Mapping[str, Any], i: int) -> OrderLineRecord:
    quantity = line.get("quantity")
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise MappingError(f"line_items[{i}].quantity", f"is not a whole number: {quantity!r}")
    return OrderLineRecord(
        title=_text(line.get("title")) or _text(line.get("name")) or "",
        quantity=quantity,
        unit_price=money(line.get("price"), f"line_items[{i}].price"),
        sku=_text(line.get("sku")),
        external_id=gid_number(line.get("id")),
    )


def _shipment_from_rest(fulfilments: Any) -> tuple[str | None, str | None, datetime | None]:
    best: tuple[str | None, str | None, datetime | None] = (None, None, None)
    for i, f in enumerate(fulfilments):
        number = _text(f.get("tracking_number")) or next(iter(f.get("tracking_numbers") or ()), None)
        company = _text(f.get("tracking_company"))
        shipped = utc(f.get("created_at"), f"fulfillments[{i}].created_at")
        if (number or company) and (best[2] is None or (shipped and shipped >= best[2])):
            best = (company, _text(number), shipped)
    return best


def customer_from_rest(customer: Mapping[str, Any], account: str, *, fallback_email: Any = None) -> CustomerRecord:
    """A ``customers/*`` webhook body (or an order's ``customer``) as a record."""
    number = gid_number(customer.get("id"))
    if not number:
        raise MappingError("id", "is missing")
    home = customer.get("default_address") or {}
    return CustomerRecord(
        platform=PLATFORM,
        account=account,
        party=Party(
            platform_id=number,
            email=_text(customer.get("email")) or _text(fallback_email),
            name=_name(customer.get("first_name"), customer.get("last_name")),
            phone=_text(customer.get("phone")),
            country=_text(home.get("country_code")),
        ),
        locale=_text(customer.get("locale")),
        updated_at=utc(customer.get("updated_at"), "updated_at"),
    )


# --- quarantine replay ---------------------------------------------------------------------------


def parse_order(raw: bytes, account: str | None) -> OrderRecord:
    """Raw format ``shopify.order``: a GraphQL order node or a webhook's REST order, as stored when rejected."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise MappingError("body", f"is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MappingError("body", "is not a JSON object")
    if str(data.get("id", "")).startswith("gid://"):
        return order_from_node(data, account or "")
    return order_from_rest(data, account or "")
