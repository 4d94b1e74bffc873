"""``/api/v1/orders``: an ERP upserts orders that the ticket page's order card then shows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk import events
from helpdesk.customers.models import CustomerIdentity
from helpdesk.orders.models import Order, OrderLine
from helpdesk.tickets.models import Ticket
from tests.web import login

BODY: dict[str, Any] = {
    "status": "shipped",
    "currency": "EUR",
    "total": "59.90",
    "buyer": {"id": "jonas_weber", "email": "Jonas@Example.test", "name": "Jonas Weber", "country": "de"},
    "items": [
        {"sku": "LAMP-1", "title": "Desk lamp", "quantity": 2, "price": "24.95"},
        {"title": "Shipping insurance", "quantity": 1, "price": 10},
    ],
    "shipping": {
        "address": {"name": "Jonas Weber", "city": "Berlin"},
        "carrier": "DHL",
        "tracking_number": "00340434161094042557",
        "shipped_at": "2026-01-06T10:00:00+01:00",
    },
    "placed_at": "2026-01-05T08:00:00Z",
    "updated_at": "2026-01-06T09:00:00Z",
}


@pytest.fixture
def published() -> Any:
    seen: list[tuple[str, dict[str, Any]]] = []

    def record(name: str, payload: Any) -> None:
        seen.append((name, dict(payload)))

    events.listen("order.updated")(record)
    yield seen
    events.unlisten(record)


def put(client: Any, account_id: int, ref: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.put(f"/api/v1/accounts/{account_id}/orders/{ref}", json=body, headers=headers)


def test_upsert_creates_then_updates_one_order_idempotently(
    client: Any, session: Any, world: Any, bearer: Any, published: Any
) -> None:
    headers = bearer(world.eu)
    created = put(client, world.de.id, "4711", BODY, headers)
    assert created.status_code == 201, created.json
    order = created.json["order"]
    assert created.json["result"] == "created"
    assert (order["account_id"], order["platform"], order["order_ref"]) == (world.de.id, "ebay", "4711")
    assert (order["status"], order["currency"], Decimal(order["total"])) == ("shipped", "EUR", Decimal("59.90"))
    assert [(i["sku"], i["quantity"], Decimal(i["price"])) for i in order["items"]] == [
        ("LAMP-1", 2, Decimal("24.95")),
        (None, 1, Decimal("10")),
    ]
    assert order["shipping"]["tracking_number"] == "00340434161094042557"
    assert order["shipping"]["shipped_at"].startswith("2026-01-06T09:00:00")  # stored in UTC
    assert order["synced_at"] is not None
    # the buyer became a customer, keyed as the pipeline keys buyers
    identities = {(i.scheme, i.value) for i in session.scalars(sa.select(CustomerIdentity))}
    assert identities == {("ebay", "jonas_weber"), ("email", "jonas@example.test")}
    assert published == [("order.updated", {"order_id": order["id"], "channel_account_id": world.de.id,
                                            "order_number": "4711"})]  # fmt: skip

    again = put(client, world.de.id, "4711", BODY, headers)
    assert again.status_code == 200 and again.json["result"] == "updated"
    assert again.json["order"] | {"synced_at": None} == order | {"synced_at": None}
    assert session.scalar(sa.select(sa.func.count(Order.id))) == 1
    assert session.scalar(sa.select(sa.func.count(OrderLine.id))) == 2

    changed = put(client, world.de.id, "4711", {**BODY, "status": "delivered", "items": [], "updated_at":
                                                 "2026-01-07T09:00:00Z"}, headers)  # fmt: skip
    assert changed.status_code == 200 and changed.json["order"]["status"] == "delivered"
    assert changed.json["order"]["items"] == []
    # an older version arriving late changes nothing, and says so
    late = put(client, world.de.id, "4711", BODY, headers)
    assert late.status_code == 200 and late.json["result"] == "stale"
    assert late.json["order"]["status"] == "delivered"


def test_upsert_links_tickets_that_mention_the_order_and_the_ticket_page_shows_it(
    client: Any, session: Any, world: Any, make_ticket: Any, bearer: Any
) -> None:
    ticket = make_ticket(order_refs=("4711",), body_text="Where is order 4711?")
    assert ticket.order_number == "4711" and ticket.order_id is None
    response = put(client, world.de.id, "4711", BODY, bearer(world.eu))
    order_id = response.json["order"]["id"]
    assert response.json["order"]["ticket_ids"] == [ticket.id]
    session.expire_all()
    assert session.get(Ticket, ticket.id).order_id == order_id
    login(client, world.eu)
    html = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    card = html[html.index('id="order-card"') :]
    assert "4711" in card and "shipped" in card and "Desk lamp" in card and "LAMP-1" in card
    assert "00340434161094042557" in card and "DHL" in card


def test_get_and_look_up_orders_of_visible_accounts_only(
    client: Any, world: Any, make_ticket: Any, bearer: Any
) -> None:
    ticket = make_ticket(order_refs=("4711",))
    lead = bearer(world.lead)
    de_order = put(client, world.de.id, "4711", BODY, lead).json["order"]
    jp_order = put(client, world.jp.id, "4711", BODY, lead).json["order"]
    eu = bearer(world.eu, "read")
    got = client.get(f"/api/v1/orders/{de_order['id']}", headers=eu)
    assert got.status_code == 200 and got.json == de_order | {"ticket_ids": [ticket.id]}
    hidden = client.get(f"/api/v1/orders/{jp_order['id']}", headers=eu)
    assert hidden.status_code == 404 and hidden.json["error"]["code"] == "not_found"
    assert client.get("/api/v1/orders/999999", headers=eu).status_code == 404
    found = client.get("/api/v1/orders?order_ref=4711", headers=eu).json["orders"]
    assert [o["id"] for o in found] == [de_order["id"]]
    everywhere = client.get("/api/v1/orders?order_ref=4711", headers=lead).json["orders"]
    assert [o["id"] for o in everywhere] == [de_order["id"], jp_order["id"]]
    one = client.get(f"/api/v1/orders?order_ref=4711&account_id={world.jp.id}", headers=lead).json["orders"]
    assert [o["id"] for o in one] == [jp_order["id"]]
    missing = client.get("/api/v1/orders", headers=eu)
    assert missing.status_code == 400 and missing.json["error"]["field"] == "order_ref"


def test_writes_need_the_write_scope_and_a_visible_account(client: Any, session: Any, world: Any, bearer: Any) -> None:
    refused = put(client, world.de.id, "4711", BODY, bearer(world.eu, "read"))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "insufficient_scope"
    other_team = put(client, world.jp.id, "4711", BODY, bearer(world.eu))
    assert other_team.status_code == 404 and other_team.json["error"]["code"] == "not_found"
    assert put(client, 999999, "4711", BODY, bearer(world.lead)).status_code == 404
    assert session.scalar(sa.select(sa.func.count(Order.id))) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"items": [{"title": "Lamp", "quantity": 0, "price": "1.00"}]}, "items.0.quantity"),
        ({"items": [BODY["items"][0], {"title": "Lamp", "quantity": 1}]}, "items.1.price"),
        ({"total": "1.234"}, "total"),
        ({"currency": "euro"}, "currency"),
        ({"placed_at": "2026-01-05T08:00:00"}, "placed_at"),  # no offset: which time zone?
        ({"buyer": {"email": "not an address"}}, "buyer.email"),
        ({"shipping": {"tracking": "x"}}, "shipping.tracking"),
        ({"status": None}, "status"),
    ],
)
def test_a_bad_body_is_refused_naming_the_field(
    client: Any, session: Any, world: Any, bearer: Any, change: dict[str, Any], field: str
) -> None:
    response = put(client, world.de.id, "4711", {**BODY, **change}, bearer(world.eu))
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "invalid" and response.json["error"]["field"] == field
    assert session.scalar(sa.select(sa.func.count(Order.id))) == 0


def test_an_overlong_order_number_is_refused(client: Any, world: Any, bearer: Any) -> None:
    response = put(client, world.de.id, "9" * 65, BODY, bearer(world.eu))
    assert response.status_code == 422 and response.json["error"]["field"] == "order_ref"
