"""The loopback fake's store: orders and customers, kept sorted by ``updated_at``, rendered as Shopify does.

State lives in small slotted records; a page is rendered only when asked
for, as a GraphQL ``Order`` node (UTC times, ``gid://`` ids, money sets) or
as the REST-shaped order a webhook carries (the shop's UTC offset, numeric
ids, money strings).  Orders are indexed by ``(updatedAt, id)`` in a sorted
list, so a page is a bisect and a slice however large the store grows.
Shopify's timestamps have whole seconds; several orders may share one.

All names, addresses and texts are invented.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

SHOP_OFFSET = timezone(timedelta(hours=1))  # the fake shop's zone, as REST payloads show it
FIRST_ORDER_ID = 5923401187000
FIRST_CUSTOMER_ID = 7011223344000
FIRST_LINE_ID = 14402211000


@dataclass(slots=True)
class Customer:
    id: int
    first: str
    last: str
    email: str | None
    phone: str | None
    locale: str
    country: str
    city: str
    zip: str
    updated: int


@dataclass(slots=True)
class Line:
    id: int
    sku: str | None
    title: str
    quantity: int
    price: str


@dataclass(slots=True)
class Fulfilment:
    created: int
    company: str
    number: str


@dataclass(slots=True)
class Order:
    id: int
    number: int
    created: int
    updated: int
    currency: str
    lines: list[Line]
    customer: Customer | None
    email: str | None
    financial: str = "PAID"
    fulfilment: str = "UNFULFILLED"
    cancelled: int | None = None
    fulfilments: list[Fulfilment] = field(default_factory=list)
    locale: str = "en"
    malformed: bool = False

    @property
    def name(self) -> str:
        return f"#{self.number}"

    @property
    def total(self) -> str:
        return str(sum((Decimal(line.price) * line.quantity for line in self.lines), Decimal("0.00")))


# (first names, last names, locale, country, cities with postal codes, e-mail domain)
PEOPLE = (
    (("Marta", "Zofia", "Piotr"), ("Kowalska", "Nowak", "Wiśniewski"), "pl", "PL",
     (("Gdańsk", "80-827"), ("Kraków", "31-042")), "example.pl"),
    (("Jonas", "Lea", "Anke"), ("Müller", "Schäfer", "Krüger"), "de", "DE",
     (("München", "80331"), ("Köln", "50667")), "example.de"),
    (("Camille", "Léa", "Hugo"), ("Dubois", "Lefèvre", "Moreau"), "fr", "FR",
     (("Lyon", "69002"), ("Nantes", "44000")), "example.fr"),
    (("Lucía", "Mateo", "Sofía"), ("García", "Martínez", "López"), "es", "ES",
     (("Sevilla", "41001"), ("Valencia", "46001")), "example.es"),
    (("陽菜", "蓮", "結衣"), ("佐藤", "鈴木", "高橋"), "ja", "JP",
     (("大阪市", "530-0001"), ("札幌市", "060-0001")), "example.jp"),
    (("Emma", "Noah", "Olivia"), ("Smith", "Johnson", "Brown"), "en", "US",
     (("Portland", "97205"), ("Austin", "78701")), "example.com"),
    (("Layla", "Omar", "Yara"), ("Haddad", "Nasser", "Khalil"), "ar", "AE",
     (("Dubai", "00000"), ("Abu Dhabi", "00000")), "example.ae"),
)  # fmt: skip

PRODUCTS = (
    ("LAMP-BR-70", "Brass desk lamp", "34.90"),
    ("SHADE-LIN-30", "Linen lamp shade", "19.50"),
    ("BULB-E27-2700", "Filament bulb E27 2700K", "6.90"),
    ("LAMP-FL-150", "Lampa podłogowa dębowa", "129.00"),
    ("CABLE-TX-3M", "Textilkabel 3 m", "12.00"),
    ("DIMMER-RT", "Variateur rotatif", "24.00"),
    ("PENDANT-WA", "和紙ペンダントライト", "58.00"),
    ("GIFT-WRAP", "Gift wrap", "3.50"),
    (None, "Custom engraving", "8.00"),
)
CARRIERS = (("DHL", "JJD00"), ("UPS", "1Z999AA1"), ("Yamato", "4812"), ("Correos", "PK7"), ("La Poste", "6A"))


class FakeStore:
    """Orders and customers of one fake shop, with the indexes the API needs."""

    def __init__(self, rng: random.Random, clock: Callable[[], datetime], currency: str = "EUR") -> None:
        self.rng = rng
        self.clock = clock
        self.currency = currency
        self.orders: dict[int, Order] = {}
        self.by_name: dict[str, int] = {}
        self.keys: list[tuple[int, int]] = []  # (updated, id), sorted
        self.customers: list[Customer] = []
        self._last = 0
        self._next_order = FIRST_ORDER_ID
        self._next_customer = FIRST_CUSTOMER_ID
        self._next_line = FIRST_LINE_ID
        self._next_number = 1001

    # --- time ------------------------------------------------------------------------------------

    def stamp(self, after: int = 0) -> int:
        """Now in whole seconds, never before the newest change (several changes may share a second)."""
        self._last = max(int(self.clock().timestamp()), self._last, after)
        return self._last

    # --- making and changing records --------------------------------------------------------------

    def new_customer(self) -> Customer:
        first, last, locale, country, cities, domain = self.rng.choice(PEOPLE)
        given, family = self.rng.choice(first), self.rng.choice(last)
        city, postal = self.rng.choice(cities)
        self._next_customer += 1
        number = self._next_customer
        email = None if self.rng.random() < 0.05 else f"buyer{number % 100000}@{domain}"
        phone = f"+1555{number % 10000000:07d}" if self.rng.random() < 0.3 else None
        customer = Customer(number, given, family, email, phone, locale, country, city, postal, self.stamp())
        self.customers.append(customer)
        return customer

    def new_order(self, *, guest: bool | None = None, malformed: bool = False) -> Order:
        rng = self.rng
        if guest is None:
            guest = rng.random() < 0.1
        if guest:
            customer = None
        elif self.customers and rng.random() < 0.4:
            customer = rng.choice(self.customers)
        else:
            customer = self.new_customer()
        lines = []
        for sku, title, price in rng.sample(PRODUCTS, rng.choice((1, 1, 1, 2, 2, 3))):
            self._next_line += 1
            lines.append(Line(self._next_line, sku, title, rng.choice((1, 1, 2)), price))
        now = self.stamp()
        self._next_order += 1
        email = customer.email if customer else f"guest{self._next_order % 10000}@example.net"
        order = Order(
            id=self._next_order,
            number=self._next_number,
            created=now,
            updated=now,
            currency=self.currency,
            lines=lines,
            customer=customer,
            email=email,
            locale=customer.locale if customer else "en",
            malformed=malformed,
        )
        self._next_number += 1
        self.orders[order.id] = order
        self.by_name[order.name] = order.id
        self.keys.append((order.updated, order.id))  # the newest: the list stays sorted
        return order

    def touch(self, order: Order) -> None:
        """The order changed: a new ``updated_at``, strictly after its previous one."""
        old = (order.updated, order.id)
        index = bisect.bisect_left(self.keys, old)
        if index < len(self.keys) and self.keys[index] == old:
            del self.keys[index]
        order.updated = self.stamp(after=order.updated + 1)
        bisect.insort(self.keys, (order.updated, order.id))

    def fulfil(self, order: Order) -> None:
        company, prefix = self.rng.choice(CARRIERS)
        number = f"{prefix}{self.rng.randrange(10**9, 10**10)}"
        self.touch(order)
        order.fulfilments.append(Fulfilment(order.updated, company, number))
        order.fulfilment = "FULFILLED"

    def cancel(self, order: Order) -> None:
        self.touch(order)
        order.cancelled = order.updated
        order.financial = "REFUNDED"

    # --- queries ---------------------------------------------------------------------------------

    def page(self, since: int | None, after: tuple[int, int] | None, first: int) -> tuple[list[Order], bool]:
        """Orders updated at or after ``since`` (oldest first), after the page cursor ``after``."""
        start = bisect.bisect_left(self.keys, (since, -1)) if since is not None else 0
        if after is not None:
            start = max(start, bisect.bisect_right(self.keys, after))
        keys = self.keys[start : start + first]
        return [self.orders[k[1]] for k in keys], start + first < len(self.keys)

    def newest(self) -> Order | None:
        return self.orders[self.keys[-1][1]] if self.keys else None


# --- rendering -----------------------------------------------------------------------------------


def _utc(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, SHOP_OFFSET).isoformat()


def node(order: Order, *, with_customer: bool = True) -> dict[str, Any]:
    """The GraphQL ``Order`` node of the connector's query."""
    c = order.customer
    amount = "34,90" if order.malformed else order.total
    return {
        "id": f"gid://shopify/Order/{order.id}",
        "name": order.name,
        "email": order.email,
        "phone": c.phone if c else None,
        "createdAt": _utc(order.created),
        "updatedAt": _utc(order.updated),
        "cancelledAt": _utc(order.cancelled),
        "customerLocale": order.locale,
        "displayFinancialStatus": order.financial,
        "displayFulfillmentStatus": order.fulfilment,
        "currencyCode": order.currency,
        "totalPriceSet": {"shopMoney": {"amount": amount, "currencyCode": order.currency}},
        "customer": (
            {
                "id": f"gid://shopify/Customer/{c.id}",
                "firstName": c.first,
                "lastName": c.last,
                "locale": c.locale,
                "updatedAt": _utc(c.updated),
            }
            if c and with_customer
            else None
        ),
        "shippingAddress": (
            {"name": f"{c.first} {c.last}", "city": c.city, "zip": c.zip, "countryCodeV2": c.country} if c else None
        ),
        "lineItems": {
            "nodes": [
                {
                    "id": f"gid://shopify/LineItem/{line.id}",
                    "sku": line.sku,
                    "title": line.title,
                    "quantity": line.quantity,
                    "originalUnitPriceSet": {"shopMoney": {"amount": line.price}},
                }
                for line in order.lines
            ]
        },
        "fulfillments": [
            {"createdAt": _utc(f.created), "trackingInfo": [{"company": f.company, "number": f.number}]}
            for f in order.fulfilments
        ],
    }


def rest_customer(c: Customer) -> dict[str, Any]:
    """A customer as the REST API and ``customers/*`` webhooks show it."""
    return {
        "id": c.id,
        "email": c.email,
        "first_name": c.first,
        "last_name": c.last,
        "phone": c.phone,
        "created_at": _local(c.updated),
        "updated_at": _local(c.updated),
        "state": "enabled",
        "verified_email": True,
        "admin_graphql_api_id": f"gid://shopify/Customer/{c.id}",
        "default_address": {"city": c.city, "zip": c.zip, "country_code": c.country},
    }


def rest_order(order: Order) -> dict[str, Any]:
    """An order as the REST API and ``orders/*`` webhooks show it (times in the shop's offset)."""
    c = order.customer
    return {
        "id": order.id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order.id}",
        "name": order.name,
        "order_number": order.number,
        "email": order.email,
        "contact_email": order.email,
        "phone": c.phone if c else None,
        "created_at": _local(order.created),
        "updated_at": _local(order.updated),
        "processed_at": _local(order.created),
        "cancelled_at": _local(order.cancelled),
        "closed_at": None,
        "currency": order.currency,
        "presentment_currency": order.currency,
        "total_price": "34,90" if order.malformed else order.total,
        "financial_status": order.financial.lower(),
        "fulfillment_status": "fulfilled" if order.fulfilment == "FULFILLED" else None,
        "customer_locale": order.locale,
        "customer": rest_customer(c) if c else None,
        "shipping_address": (
            {"name": f"{c.first} {c.last}", "city": c.city, "zip": c.zip, "country_code": c.country} if c else None
        ),
        "line_items": [
            {"id": line.id, "sku": line.sku, "title": line.title, "quantity": line.quantity, "price": line.price}
            for line in order.lines
        ],
        "fulfillments": [
            {
                "id": 4701122000 + i,
                "status": "success",
                "created_at": _local(f.created),
                "tracking_company": f.company,
                "tracking_number": f.number,
                "tracking_numbers": [f.number],
            }
            for i, f in enumerate(order.fulfilments)
        ],
    }
