"""Schemathesis against the served OpenAPI document: no 5xx, and every answer is what the document promises.

Every operation the document lists is fuzzed — a resource added later is
covered without touching this file — with valid and invalid input, as an
admin with an admin token (everything is reachable) and as an agent with a
write token (the visibility rules: most ids are someone else's, so 404).
The database is seeded like a small desk (two stores, teams, agents,
tickets with replies and notes, customers, orders), and path ids are drawn
partly from the rows that exist, so the fuzzer reaches past "not found".

Bounded and repeatable: a fixed budget of examples shared out over the
operations (a few at least each), derandomized, no example database, no
shrinking — the report's curl line reproduces a failure.  On SQLite and
PostgreSQL, like every request test: PostgreSQL refuses what SQLite lets
pass (ids beyond its INTEGER keys were 500 there only).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from channels.base import OrderLineRecord, OrderRecord, Party
from helpdesk.accounts.models import Team, User
from helpdesk.audit.models import AuditEvent
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.customers.models import Customer, MergeSuggestion
from helpdesk.extensions import db
from helpdesk.orders.models import Order
from helpdesk.orders.services import upsert_orders
from helpdesk.sla.models import SlaPolicy
from helpdesk.tickets import merging
from helpdesk.tickets.attachments import upload
from helpdesk.tickets.models import Attachment, Message, Ticket
from helpdesk.tickets.services import add_reply, set_tags
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.conftest import T0

#: Examples per caller, shared out over the operations and the two generation modes: a few hundred in all.
BUDGET = 150
#: Every operation and mode gets at least this many, however long the document grows.
AT_LEAST = 3

#: Path parameters that take the id of a row, and the rows they take: the fuzzer picks existing ones half the time.
ID_COLUMNS = {
    "ticket_id": Ticket.id,
    "user_id": User.id,
    "team_id": Team.id,
    "account_id": ChannelAccount.id,
    "customer_id": Customer.id,
    "order_id": Order.id,
    "message_id": Message.id,
    "attachment_id": Attachment.id,
    "suggestion_id": MergeSuggestion.id,
    "endpoint_id": WebhookSubscription.id,
    "delivery_id": WebhookDelivery.id,
    "policy_id": SlaPolicy.id,
}

#: Body fields that take the id of an existing row, by the path parameter name whose ids they take.
ID_FIELDS = {
    "assignee_id": "user_id",
    "team_id": "team_id",
    "customer_id": "customer_id",
    "ticket_id": "ticket_id",
    "channel_account_id": "account_id",
    "into": "ticket_id",
}

CHECKS = [
    schemathesis.checks.not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    status_code_conformance,
]


@pytest.fixture
def unlimited(app: Any) -> None:
    """Thousands of requests from one token in a minute are the point here, not abuse."""
    settings_ = app.config["HELPDESK_SETTINGS"]
    app.config["HELPDESK_SETTINGS"] = dataclasses.replace(settings_, api_rate_limit="1000000/minute")


def _order(account: str, platform: str, number: str, buyer: str) -> OrderRecord:
    return OrderRecord(
        platform=platform,
        account=account,
        order_number=number,
        status="PAID",
        currency="EUR",
        total=Decimal("64.50"),
        placed_at=T0 - timedelta(days=2),
        updated_at=T0 - timedelta(days=1),
        buyer=Party(platform_id=buyer, name=buyer.replace("_", " ").title()),
        lines=(OrderLineRecord(title="Brass desk lamp", quantity=1, unit_price=Decimal("64.50"), sku="LAMP"),),
    )


@pytest.fixture
def desk(session: Any, world: Any, make_user: Any, make_ticket: Any) -> dict[str, list[int]]:
    """A small desk in both stores; returns the ids that exist, by the path parameter names that take them."""
    make_user("admin@example.test", name="Ada", role="admin")
    upsert_orders(
        session,
        [
            _order("shop-de", "ebay", "27-13905-66214", "buyer_1"),
            _order("shop-jp", "amazon", "503-1234567-7654321", "buyer_jp"),
        ],
    )
    session.commit()
    tickets = [
        make_ticket("shop-de", "buyer_1", order_refs=["27-13905-66214"]),
        make_ticket("shop-de", "buyer_2", subject="Falsche Farbe", body_text="Die Lampe ist grün statt gelb."),
        make_ticket("shop-de", "buyer_1", status="closed", assignee_id=world.eu.id),
        make_ticket("shop-de", "buyer_1", subject="Noch eine Frage"),
        make_ticket("shop-jp", "buyer_jp", order_refs=["503-1234567-7654321"], subject="配送について"),
        make_ticket("shop-jp", "buyer_jp2", priority="high", body_text="まだ届いていません 🙏"),
    ]
    set_tags(session, tickets[0], ["refund", "dhl"], world.eu)
    add_reply(session, tickets[0], world.eu, "Your parcel left our warehouse today.")
    label = upload("label.pdf", "application/pdf", b"%PDF-1.4 shipping label")
    add_reply(session, tickets[0], world.eu, "Checked with DHL", internal=True, attachments=[label])
    add_reply(session, tickets[4], world.asia_agent, "ご連絡ありがとうございます。", internal=True)
    merging.merge(session, tickets[3], tickets[0], world.eu)
    customers = {c.display_name: c.id for c in session.scalars(sa.select(Customer))}
    session.add(
        MergeSuggestion(
            customer_id=customers["Buyer Jp"], candidate_id=customers["Buyer Jp2"], score=0.8, reason="similar name"
        )
    )
    endpoint = WebhookSubscription(name="erp", url="http://127.0.0.1:9/hook", secret_env="ERP_SECRET", events=["*"])
    session.add(endpoint)
    session.flush()
    session.add(
        WebhookDelivery(
            subscription_id=endpoint.id,
            event="ticket.created",
            payload={"ticket_id": tickets[0].id},
            ticket_id=tickets[0].id,
            status="failed",
            attempts=3,
        )
    )
    session.commit()
    ids = {name: list(session.scalars(sa.select(column))) for name, column in ID_COLUMNS.items()}
    ids["event_id"] = list(session.scalars(sa.select(AuditEvent.id).where(AuditEvent.action == "ticket.merged")))
    return {name: values for name, values in ids.items() if values}


def _known(case: Any, data: st.DataObject, known_ids: dict[str, list[int]]) -> None:
    """Point about half the ids of a case at rows that exist, so the fuzzer gets past "not found"."""
    for name in list(case.path_parameters or {}):
        if name in known_ids and data.draw(st.booleans()):
            case.path_parameters[name] = data.draw(st.sampled_from(known_ids[name]))
    if isinstance(case.body, dict):
        for field, name in ID_FIELDS.items():
            if field in case.body and name in known_ids and data.draw(st.booleans()):
                case.body[field] = data.draw(st.sampled_from(known_ids[name]))


def _fuzz_operation(
    operation: Any, mode: GenerationMode, examples: int, headers: dict[str, str], known_ids: dict[str, list[int]]
) -> None:
    """``examples`` requests to one operation; raises the checks' report of the first failing one."""

    @settings(
        max_examples=examples,
        derandomize=True,  # the same examples on every run: a failure is reproducible, a pass is not luck
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the report's curl line is the reproduction
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def run(case: Any, data: st.DataObject) -> None:
        if mode.is_positive:
            _known(case, data, known_ids)
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        finally:
            db.session.rollback()  # as a server's end of request does: one failed statement spoils no other request

    run()


def _fuzz(app: Any, headers: dict[str, str], known_ids: dict[str, list[int]]) -> list[str]:
    """Every operation of the served document with valid and invalid input; the failures as readable reports."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers=headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    examples = max(AT_LEAST, BUDGET // (len(operations) * len(modes)))
    failures = []
    for operation in operations:
        for mode in modes:
            try:
                _fuzz_operation(operation, mode, examples, headers, known_ids)
            except (Exception, BaseExceptionGroup) as exc:  # Schemathesis groups its failures
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    return failures


@pytest.mark.parametrize("who", ["admin", "agent"])
def test_every_operation_answers_as_documented(
    who: str, session: Any, world: Any, desk: dict[str, list[int]], bearer: Any, unlimited: None, app: Any
) -> None:
    """An admin reaches every operation; an agent of one team meets the visibility rules on the other's ids."""
    if who == "admin":
        admin = session.scalars(sa.select(User).where(User.role == "admin")).one()
        headers = bearer(admin, "admin")
    else:
        headers = bearer(world.eu, "write")
    failures = _fuzz(app, headers, desk)
    assert not failures, "\n\n".join(failures)
