"""``/api/v1/orders``: read orders, and let an ERP upsert them for a platform the helpdesk does not connect.

An upsert is stored by the same service that stores orders a marketplace
reports (``orders.services.upsert_orders``): the buyer becomes or joins a
customer by exact keys, tickets that mention the order number get linked,
so the ticket page's order card shows it, and ``order.updated`` goes out to
listeners and outbound webhooks.  ``PUT`` is idempotent: the same body twice
stores one order; a body older than the stored order (by ``updated_at``)
changes nothing, as a late marketplace notification would not.

Orders belong to a channel account; a caller sees (and writes) only the
orders of accounts they may see — any other is 404.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

import sqlalchemy as sa
from flask import request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import selectinload

from channels.base import OrderLineRecord, OrderRecord, Party
from helpdesk import MAX_ID
from helpdesk.api.access import may_see_account, visible_ids
from helpdesk.api.auth import api_auth
from helpdesk.api.errors import ApiError
from helpdesk.api.spec import ApiModel, api_spec, responses
from helpdesk.api.views import bp
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.extensions import db
from helpdesk.orders.models import Order
from helpdesk.orders.services import upsert_orders
from helpdesk.tickets.models import Ticket

TAGS = ["orders"]
MAX_ORDER_REF = 64  # Order.order_number
MAX_LINKED_TICKETS = 50


class OrderBuyerIn(ApiModel):
    """The buyer; an `id` or `email` links the order to the customer who has it (created if nobody does)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str | None = Field(None, max_length=254, description="the buyer's id on the order's platform or in your system")
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=40)
    country: str | None = Field(None, pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2")


class OrderItemIn(ApiModel):
    sku: str | None = Field(None, max_length=80)
    title: str = Field(min_length=1, max_length=500)
    quantity: int = Field(ge=1, le=1_000_000)
    price: Decimal = Field(ge=0, max_digits=14, decimal_places=2, description="unit price, in the order's currency")
    external_id: str | None = Field(None, max_length=80, description="your id of this line")


class OrderShippingIn(ApiModel):
    address: dict[str, str] = Field(
        default_factory=dict,
        max_length=20,
        description='lines of the address, e.g. {"name": …, "street": …, "city": …}',
    )
    carrier: str | None = Field(None, max_length=80)
    tracking_number: str | None = Field(None, max_length=80)
    shipped_at: AwareDatetime | None = None


class OrderUpsertIn(ApiModel):
    """An order as your system knows it now; every field is replaced, items included."""

    status: str = Field(min_length=1, max_length=40, description="your status word, shown as is (`shipped`, …)")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. `EUR`")
    total: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    buyer: OrderBuyerIn | None = None
    items: list[OrderItemIn] = Field(default_factory=list, max_length=500)
    shipping: OrderShippingIn | None = None
    site: str | None = Field(None, max_length=16, description="marketplace site or shop, e.g. `DE`")
    placed_at: AwareDatetime | None = Field(None, description="ISO 8601 with an offset")
    updated_at: AwareDatetime | None = Field(
        None, description="when your system last changed the order; a body older than the stored one changes nothing"
    )


class OrderItemOut(BaseModel):
    sku: str | None
    title: str
    quantity: int
    price: Decimal = Field(description="unit price as a decimal string")
    external_id: str | None


class OrderShippingOut(BaseModel):
    address: dict[str, str]
    carrier: str | None
    tracking_number: str | None
    shipped_at: datetime | None


class OrderOut(BaseModel):
    id: int
    account_id: int
    platform: str
    order_ref: str = Field(description="the order number")
    status: str
    currency: str
    total: Decimal = Field(description='a decimal string, e.g. `"59.90"`')
    site: str | None
    customer_id: int | None
    items: list[OrderItemOut]
    shipping: OrderShippingOut
    placed_at: datetime | None
    updated_at: datetime | None
    synced_at: datetime | None = Field(description="when the platform or integration last reported the order")
    ticket_ids: list[int] = Field(description="linked tickets you may see, newest first (at most 50)")


class OrderList(BaseModel):
    orders: list[OrderOut]


class OrderUpsertOut(BaseModel):
    result: Literal["created", "updated", "stale"] = Field(
        description="`stale`: the body was older than the stored order (`updated_at`) and changed nothing"
    )
    order: OrderOut = Field(description="the order as stored now")


class OrderQuery(ApiModel):
    order_ref: str = Field(min_length=1, max_length=MAX_ORDER_REF, description="the order number")
    account_id: int | None = Field(None, ge=1, le=MAX_ID, description="only this channel account's order")


def _ticket_ids(order_ids: list[int]) -> dict[int, list[int]]:
    if not order_ids:
        return {}
    visible = visible_ids()
    stmt = sa.select(Ticket.order_id, Ticket.id).where(Ticket.order_id.in_(order_ids)).order_by(Ticket.id.desc())
    if visible is not None:
        stmt = stmt.where(Ticket.channel_account_id.in_(sorted(visible) or [-1]))
    out: dict[int, list[int]] = {}
    for order_id, ticket_id in db.session.execute(stmt.limit(MAX_LINKED_TICKETS * len(order_ids))):
        ids = out.setdefault(order_id, [])
        if len(ids) < MAX_LINKED_TICKETS:
            ids.append(ticket_id)
    return out


def _order_out(order: Order, ticket_ids: list[int]) -> OrderOut:
    return OrderOut(
        id=order.id,
        account_id=order.channel_account_id,
        platform=order.platform,
        order_ref=order.order_number,
        status=order.status,
        currency=order.currency,
        total=order.total,
        site=order.site,
        customer_id=order.customer_id,
        items=[
            OrderItemOut(
                sku=li.sku, title=li.title, quantity=li.quantity, price=li.unit_price, external_id=li.external_id
            )
            for li in sorted(order.lines, key=lambda li: li.id)
        ],
        shipping=OrderShippingOut(
            address={str(k): str(v) for k, v in (order.shipping_address or {}).items()},
            carrier=order.carrier,
            tracking_number=order.tracking_number,
            shipped_at=order.shipped_at,
        ),
        placed_at=order.placed_at,
        updated_at=order.updated_at,
        synced_at=order.synced_at,
        ticket_ids=ticket_ids,
    )


def _orders_out(orders: list[Order]) -> list[OrderOut]:
    linked = _ticket_ids([o.id for o in orders])
    return [_order_out(o, linked.get(o.id, [])) for o in orders]


def _visible_order(order_id: int) -> Order:
    order = db.session.scalar(sa.select(Order).where(Order.id == order_id).options(selectinload(Order.lines)))
    if order is None or not may_see_account(order.channel_account_id):
        raise ApiError(404, "not_found", f"no order {order_id}")
    return order


@bp.get("/orders")
@api_auth()
@api_spec.validate(query=OrderQuery, resp=responses(400, HTTP_200=OrderList), tags=TAGS)
def find_orders() -> OrderList:
    """Look an order up by its number (`order_ref`), in one account or every account you may see."""
    query: OrderQuery = request.context.query  # type: ignore[attr-defined]
    stmt = (
        sa.select(Order)
        .where(Order.order_number == query.order_ref)
        .options(selectinload(Order.lines))
        .order_by(Order.id)
    )
    if query.account_id is not None:
        stmt = stmt.where(Order.channel_account_id == query.account_id)
    visible = visible_ids()
    if visible is not None:
        stmt = stmt.where(Order.channel_account_id.in_(sorted(visible) or [-1]))
    body = OrderList(orders=_orders_out(list(db.session.scalars(stmt))))
    db.session.commit()
    return body


@bp.get("/orders/<int:order_id>")
@api_auth()
@api_spec.validate(resp=responses(HTTP_200=OrderOut), tags=TAGS)
def get_order(order_id: int) -> OrderOut:
    """One order with its items, shipping and the tickets linked to it."""
    body = _orders_out([_visible_order(order_id)])[0]
    db.session.commit()
    return body


def _record(account: ChannelAccount, order_ref: str, body: OrderUpsertIn) -> OrderRecord:
    buyer = body.buyer
    shipping = body.shipping or OrderShippingIn()
    return OrderRecord(
        # tickets find their order by (platform, number); an account of no marketplace answers for its own kind
        platform=account.platform or account.kind,
        account=account.name,
        order_number=order_ref,
        status=body.status,
        currency=body.currency,
        total=body.total,
        placed_at=body.placed_at,
        updated_at=body.updated_at,
        buyer=Party(
            platform_id=buyer.id, email=buyer.email, name=buyer.name, phone=buyer.phone,
            country=buyer.country.upper() if buyer.country else None,
        ) if buyer else Party(),
        lines=tuple(
            OrderLineRecord(
                title=i.title, quantity=i.quantity, unit_price=i.price, sku=i.sku, external_id=i.external_id
            )
            for i in body.items
        ),
        site=body.site,
        shipping_address=dict(shipping.address),
        carrier=shipping.carrier,
        tracking_number=shipping.tracking_number,
        shipped_at=shipping.shipped_at,
    )  # fmt: skip


@bp.put("/accounts/<int:account_id>/orders/<order_ref>")
@api_auth()
@api_spec.validate(json=OrderUpsertIn, resp=responses(422, HTTP_200=OrderUpsertOut, HTTP_201=OrderUpsertOut), tags=TAGS)
def upsert_order(account_id: int, order_ref: str) -> tuple[OrderUpsertOut, int]:
    """Create or replace an order of a channel account (from an ERP or shop back-end): 201 created, 200 otherwise."""
    body: OrderUpsertIn = request.context.json  # type: ignore[attr-defined]
    account = db.session.get(ChannelAccount, account_id)
    if account is None or not may_see_account(account.id):
        raise ApiError(404, "not_found", f"no channel account {account_id}")
    order_ref = order_ref.strip()
    if not order_ref or len(order_ref) > MAX_ORDER_REF:
        raise ApiError(422, "invalid", f"the order number must have 1 to {MAX_ORDER_REF} characters", "order_ref")
    stored = upsert_orders(db.session, [_record(account, order_ref, body)])
    db.session.commit()
    order_id = db.session.scalar(
        sa.select(Order.id).where(Order.channel_account_id == account.id, Order.order_number == order_ref)
    )
    if order_id is None:  # just stored, or kept as the newer one: never
        raise ApiError(500, "internal_error", "the server could not handle the request")
    result: Literal["created", "updated", "stale"] = (
        "created" if stored.created else "updated" if stored.updated else "stale"
    )
    out = OrderUpsertOut(result=result, order=_orders_out([_visible_order(order_id)])[0])
    db.session.commit()
    return out, 201 if stored.created else 200
