"""A small desk whose hidden parts carry marker names, and the people who look at it.

Two stores: ``alpha`` (team Alpha) and ``bravo`` (team Bravo).  Every name a
role may not see is a marker no page, template or translation contains by
chance (``Marmot``, ``zq41``): a response that carries one has leaked it.
The agent of Alpha may not see anything of Bravo; the agent without a team
sees no store at all; leads and admins see everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from channels.base import OrderLineRecord, OrderRecord, Party
from helpdesk.accounts.models import Team, User
from helpdesk.api.tokens import create_token
from helpdesk.customers.models import Customer, MergeSuggestion
from helpdesk.orders.services import upsert_orders
from helpdesk.tickets import merging
from helpdesk.tickets.attachments import upload
from helpdesk.tickets.services import add_reply
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.conftest import T0

#: What belongs to each store and only to it: store names, ticket subjects, message text, buyer names.
MARKERS = {
    "alpha": ("alpha-kestrel-shop", "Alpha Kestrel Store", "Lamp flicker yq17", "Kestrel body text yq18", "Buyer Yqa"),
    "bravo": ("bravo-marmot-shop", "Bravo Marmot Store", "Parcel lost zq41", "Marmot body text zq42", "Buyer Zqb"),
}


@dataclass
class Desk:
    """The seeded desk: users by role, the API token of the Alpha agent, and the ids that exist by kind."""

    users: dict[str, User]
    tokens: dict[str, str]  # a write token's secret by user e-mail

    def forbidden(self, role: str) -> tuple[str, ...]:
        """The markers a response to ``role`` must never contain."""
        hidden = {"agent_one": ("bravo",), "agent_none": ("alpha", "bravo"), "api_agent_one": ("bravo",)}
        return tuple(marker for store in hidden.get(role, ()) for marker in MARKERS[store])


def _order(account: str, number: str, buyer: str) -> OrderRecord:
    return OrderRecord(
        platform="ebay",
        account=account,
        order_number=number,
        status="PAID",
        currency="EUR",
        total=Decimal("64.50"),
        placed_at=T0,
        updated_at=T0,
        buyer=Party(platform_id=buyer, name=buyer.replace("_", " ").title()),
        lines=(OrderLineRecord(title="Desk lamp", quantity=1, unit_price=Decimal("64.50"), sku="LAMP"),),
    )


def seed_desk(session: Any, make_account: Any, make_user: Any, make_ticket: Any) -> Desk:
    """Both stores with tickets, replies, an attachment, a merge, an order, a suggestion and a webhook."""
    stores = {}
    for key, (name, display, *_rest) in MARKERS.items():
        stores[key] = make_account(name=name, display_name=display)
    teams = {key: Team(name=f"Team {key}") for key in MARKERS}
    session.add_all(teams.values())
    session.flush()
    session.execute(
        sa.insert(sa.table("team_channel_account", sa.column("team_id"), sa.column("channel_account_id"))),
        [{"team_id": teams[key].id, "channel_account_id": stores[key].id} for key in MARKERS],
    )
    session.commit()
    users = {
        "admin": make_user("admin@example.test", name="Ada", role="admin"),
        "lead": make_user("lead@example.test", name="Lena", role="lead"),
        "agent_one": make_user("one@example.test", name="Olga", teams=[teams["alpha"]]),
        "agent_none": make_user("none@example.test", name="Nils"),
        "agent_bravo": make_user("bravo@example.test", name="Bruno", teams=[teams["bravo"]]),
    }
    orders = {key: f"27-{n}0000-1" for n, key in enumerate(MARKERS)}
    upsert_orders(session, [_order(MARKERS[key][0], number, f"buyer_{key}") for key, number in orders.items()])
    session.commit()
    tickets = {}
    for key, (name, _display, subject, body, buyer) in MARKERS.items():
        buyer_id = buyer.lower().replace(" ", "_")
        tickets[key] = [
            make_ticket(name, buyer_id, subject=subject, body_text=body, order_refs=[orders[key]]),
            make_ticket(name, buyer_id, subject=subject, body_text=body, priority="high"),
            make_ticket(name, buyer_id + "2", subject=subject, body_text=body),
        ]
    bravo = tickets["bravo"]
    label = upload("label zq43.pdf", "application/pdf", b"%PDF-1.4 label")
    add_reply(session, bravo[0], users["agent_bravo"], "Checked zq44", internal=True, attachments=[label])
    add_reply(session, tickets["alpha"][0], users["agent_one"], "On its way yq19")
    merging.merge(session, bravo[1], bravo[0], users["agent_bravo"])
    customers = {c.display_name: c.id for c in session.scalars(sa.select(Customer))}
    session.add(
        MergeSuggestion(
            customer_id=customers["Buyer Zqb"], candidate_id=customers["Buyer Zqb2"], score=0.8, reason="similar name"
        )
    )
    endpoint = WebhookSubscription(name="erp", url="http://127.0.0.1:9/hook", secret_env="ERP_SECRET", events=["*"])
    session.add(endpoint)
    session.flush()
    session.add(WebhookDelivery(subscription_id=endpoint.id, event="ticket.created", payload={}, status="failed"))
    tokens = {user.email: create_token(session, user, "fuzz", "write")[1] for user in users.values()}
    session.commit()
    return Desk(users=users, tokens=tokens)
