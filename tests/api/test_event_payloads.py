"""The outbound webhook payloads the document describes are the ones the desk really publishes.

Events are produced by the real actions (ingest, ticket changes, notes,
merges, orders, quarantine, the SLA sweep, notifications) and read back from
the outbox, where every webhook delivery starts; each must fit its model and
carry no member the model does not document.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from channels.base import OrderLineRecord, OrderRecord, Party
from helpdesk.api.events import PAYLOADS
from helpdesk.api.spec import WEBHOOK_EVENTS, document
from helpdesk.customers.services import merge_customers
from helpdesk.db import utcnow
from helpdesk.events import CATALOGUE
from helpdesk.ingest import quarantine
from helpdesk.ingest.quarantine import RawInput
from helpdesk.notifications import services as notifications
from helpdesk.orders.services import upsert_orders
from helpdesk.outbox.models import OutboxEvent
from helpdesk.sla.policies import seed_defaults
from helpdesk.sla.services import sweep
from helpdesk.tickets import services as tickets


def _published(session: Any) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id)):
        out.setdefault(row.name, []).extend(row.payloads)
    return out


def test_every_event_has_a_documented_payload(app: Any) -> None:
    assert set(PAYLOADS) == set(CATALOGUE) == set(WEBHOOK_EVENTS)
    with app.app_context():
        hooks = document()["webhooks"]
    body = hooks["sla.breached"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/SlaBreachedEvent"}


def test_published_payloads_fit_their_models(session: Any, world: Any, make_ticket: Any) -> None:
    seed_defaults(session)
    session.commit()
    first = make_ticket(buyer="buyer_1")
    second = make_ticket(buyer="buyer_2")
    tickets.assign(session, first, world.eu.id, world.lead)
    tickets.set_status(session, first, "pending", world.lead)
    tickets.set_tags(session, first, ["refund"], world.lead)
    session.commit()
    tickets.add_reply(session, first, world.eu, "checking with the warehouse", internal=True)
    session.commit()
    notifications.mark_all_read(session, world.eu)
    merge_customers(session, first.customer_id, [second.customer_id])
    session.commit()
    line = OrderLineRecord(title="Brass desk lamp", quantity=1, unit_price=Decimal("64.50"), sku="LAMP")
    order = OrderRecord(
        platform="ebay",
        account="shop-de",
        order_number="27-1",
        status="PAID",
        currency="EUR",
        total=Decimal("64.50"),
        buyer=Party(platform_id="buyer_1"),
        lines=(line,),
    )
    upsert_orders(session, [order])
    quarantine.add(session, RawInput(b"{not json", "json", "shop-de"), source="test", reason="not JSON", field=None)
    session.commit()
    sweep(session, now=utcnow() + timedelta(days=400))
    session.commit()

    published = _published(session)
    expected = {
        "ticket.created",
        "ticket.updated",
        "message.received",
        "message.created",
        "customer.created",
        "customer.merged",
        "order.updated",
        "input.quarantined",
        "sla.breached",
        "notification.created",
        "notification.read",
    }
    assert expected <= set(published), sorted(published)
    for name, payloads in published.items():
        model = PAYLOADS[name]
        envelope, _ = WEBHOOK_EVENTS[name]
        for payload in payloads:
            model.model_validate(payload)
            envelope.model_validate({"event": name, "delivery_id": 1, "data": payload})
            undocumented = set(payload) - set(model.model_fields)
            assert not undocumented, f"{name} publishes {sorted(undocumented)}, missing from {model.__name__}"
