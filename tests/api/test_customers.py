"""``/api/v1/customers`` and ``/api/v1/customer-suggestions``: the customer card's rules, as JSON."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from helpdesk.audit.models import AuditEvent
from helpdesk.customers.models import Customer, MergeSuggestion
from helpdesk.orders.models import Order
from helpdesk.tickets.models import Ticket
from tests.customers.test_suggestion_decisions import lookalikes, published

__all__ = ["lookalikes", "published"]  # fixtures shared with the UI tests


def test_a_customer_with_identities_for_whoever_sees_one_of_their_tickets(
    client: Any, world: Any, make_ticket: Any, bearer: Any
) -> None:
    ticket = make_ticket(buyer="jonas_weber")
    response = client.get(f"/api/v1/customers/{ticket.customer_id}", headers=bearer(world.eu, "read"))
    assert response.status_code == 200
    body = response.json
    assert body["name"] == "Jonas Weber" and body["merged_into_id"] is None
    assert [(i["scheme"], i["value"]) for i in body["identities"]] == [("ebay", "jonas_weber")]
    assert datetime.fromisoformat(body["created_at"]).utcoffset() == timedelta(0)
    # Aiko's team serves shop-jp only: for her this customer does not exist
    hidden = client.get(f"/api/v1/customers/{ticket.customer_id}", headers=bearer(world.asia_agent, "read"))
    assert hidden.status_code == 404 and hidden.json["error"]["code"] == "not_found"
    assert client.get("/api/v1/customers/999999", headers=bearer(world.lead)).status_code == 404


def test_search_by_exact_key_and_by_name_with_a_typo_only_among_visible_customers(
    client: Any, session: Any, world: Any, make_ticket: Any, bearer: Any
) -> None:
    de = make_ticket(buyer="jonas_weber")
    session.get(Customer, de.customer_id).email = "jonas@example.test"
    jp = make_ticket(account="shop-jp", buyer="jonas_wever")
    make_ticket(buyer="mia_schulz")
    session.commit()
    eu = bearer(world.eu, "read")

    def found(q: str, headers: dict[str, str]) -> list[int]:
        response = client.get("/api/v1/customers", query_string={"q": q}, headers=headers)
        assert response.status_code == 200, response.json
        return [c["id"] for c in response.json["customers"]]

    assert found("JONAS@example.test", eu) == [de.customer_id]  # e-mail keys are lower-case
    assert found("jonas_weber", eu) == [de.customer_id]  # the platform's buyer id
    assert found("Jonas Webr", eu) == [de.customer_id]  # fuzzy: the shop-jp look-alike is not Emil's to see
    assert set(found("Jonas Webr", bearer(world.lead, "read"))) == {de.customer_id, jp.customer_id}
    assert found("jonas_wever", eu) == []  # exact, but in another team's store
    assert found("zzzz qqqq", eu) == []


def test_listing_without_a_query_pages_visible_customers_by_id(
    client: Any, world: Any, make_ticket: Any, bearer: Any
) -> None:
    mine = [make_ticket(buyer=f"buyer_{n}").customer_id for n in range(3)]
    make_ticket(account="shop-jp", buyer="tanaka")
    headers = bearer(world.eu, "read")
    first = client.get("/api/v1/customers?limit=2", headers=headers).json
    assert [c["id"] for c in first["customers"]] == mine[:2] and first["next_after"] == mine[1]
    rest = client.get(f"/api/v1/customers?limit=2&after={first['next_after']}", headers=headers).json
    assert [c["id"] for c in rest["customers"]] == mine[2:] and rest["next_after"] is None


def test_bad_queries_name_the_parameter(client: Any, world: Any, bearer: Any) -> None:
    headers = bearer(world.eu, "read")
    response = client.get("/api/v1/customers?limit=0", headers=headers)
    assert response.status_code == 400 and response.json["error"]["field"] == "limit"
    response = client.get("/api/v1/customers?q=x&after=3", headers=headers)
    assert response.status_code == 400 and response.json["error"]["field"] == "after"
    response = client.get("/api/v1/customers?q=", headers=headers)
    assert response.status_code == 400 and response.json["error"]["field"] == "q"


def test_a_customers_tickets_are_the_visible_ones_newest_first_paged(
    client: Any, world: Any, make_ticket: Any, bearer: Any
) -> None:
    tickets = [make_ticket(buyer="jonas_weber") for _ in range(3)]
    customer_id = tickets[0].customer_id
    other_store = make_ticket(account="shop-jp", buyer="jonas_weber", customer_id=customer_id)
    headers = bearer(world.eu, "read")
    page = client.get(f"/api/v1/customers/{customer_id}/tickets?limit=2", headers=headers).json
    assert [t["id"] for t in page["tickets"]] == [tickets[2].id, tickets[1].id]
    assert page["next_before"] == tickets[1].id
    rest = client.get(f"/api/v1/customers/{customer_id}/tickets?before={page['next_before']}", headers=headers).json
    assert [t["id"] for t in rest["tickets"]] == [tickets[0].id] and rest["next_before"] is None
    everything = client.get(f"/api/v1/customers/{customer_id}/tickets", headers=bearer(world.lead, "read")).json
    assert [t["id"] for t in everything["tickets"]] == [other_store.id, *(t.id for t in reversed(tickets))]
    assert everything["tickets"][0]["channel_account_id"] == world.jp.id
    theirs = client.get(f"/api/v1/customers/{customer_id}/tickets", headers=bearer(world.asia_agent)).json
    assert [t["id"] for t in theirs["tickets"]] == [other_store.id]


def test_leads_merge_customers_with_tickets_orders_and_an_audit_event(
    client: Any, session: Any, world: Any, make_ticket: Any, bearer: Any, published: Any
) -> None:
    keep, dup = make_ticket(buyer="jonas_weber"), make_ticket(buyer="jweber")
    keep_id, dup_id = keep.customer_id, dup.customer_id
    order = Order(
        platform="ebay", channel_account_id=world.de.id, order_number="7-1", status="paid", currency="EUR", total=5,
        customer_id=dup_id,
    )  # fmt: skip
    session.add(order)
    session.commit()
    response = client.post(f"/api/v1/customers/{keep_id}/merge", json={"ids": [dup_id]}, headers=bearer(world.lead))
    assert response.status_code == 200, response.json
    assert response.json["id"] == keep_id
    assert {i["value"] for i in response.json["identities"]} == {"jonas_weber", "jweber"}
    session.expire_all()
    assert session.get(Ticket, dup.id).customer_id == keep_id
    assert session.get(Order, order.id).customer_id == keep_id
    assert session.get(Customer, dup_id).merged_into_id == keep_id
    audit = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "customer.merged")).one()
    assert (audit.actor_type, audit.actor_id, audit.customer_id) == ("user", world.lead.id, keep_id)
    assert audit.data == {"merged_id": dup_id, "via": "api"}
    assert ("customer.merged", {"customer_id": keep_id, "merged_id": dup_id}) in published
    # the merged-away record answers with where it went, and cannot take merges itself
    gone = client.get(f"/api/v1/customers/{dup_id}", headers=bearer(world.lead, "read")).json
    assert gone["merged_into_id"] == keep_id and gone["identities"] == []
    again = client.post(f"/api/v1/customers/{dup_id}/merge", json={"ids": [keep_id]}, headers=bearer(world.lead))
    assert again.status_code == 409 and str(keep_id) in again.json["error"]["message"]


def test_merge_refusals_name_the_field_and_agents_cannot_merge(
    client: Any, session: Any, world: Any, make_ticket: Any, bearer: Any
) -> None:
    keep, dup = make_ticket(buyer="jonas_weber"), make_ticket(buyer="jweber")
    dup_id = dup.customer_id
    url = f"/api/v1/customers/{keep.customer_id}/merge"
    lead = bearer(world.lead)
    for body, field in (
        ({"ids": []}, "ids"),
        ({"ids": ["x"]}, "ids.0"),
        ({"ids": [dup.customer_id, keep.customer_id]}, "ids.1"),
        ({"ids": [dup.customer_id, 999999]}, "ids.1"),
        ({"ids": [dup.customer_id], "keep": 1}, "keep"),
    ):
        response = client.post(url, json=body, headers=lead)
        assert response.status_code == 422, body
        assert response.json["error"]["code"] == "invalid" and response.json["error"]["field"] == field, body
    # an agent's token — even a write one on a customer they see — does not find the route
    assert client.post(url, json={"ids": [dup.customer_id]}, headers=bearer(world.eu)).status_code == 404
    refused = client.post(url, json={"ids": [dup.customer_id]}, headers=bearer(world.lead, "read"))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "insufficient_scope"
    session.expire_all()
    assert session.get(Customer, dup_id).merged_into_id is None


def test_suggestions_of_a_customer_with_why(client: Any, world: Any, lookalikes: Any, bearer: Any) -> None:
    first, second, row = lookalikes
    body = client.get(f"/api/v1/customers/{first.customer_id}/suggestions", headers=bearer(world.eu, "read")).json
    assert body["suggestions"] == [
        {
            "id": row.id,
            "customer_id": first.customer_id,
            "candidate": {"id": second.customer_id, "name": "Weber Jonas", "email": "jonasweber@example.test",
                          "phone": None, "country": None},
            "score": 100,
            "reasons": ["same name", "similar e-mail"],  # English, whatever the user's language
        }
    ]  # fmt: skip
    hidden = client.get(f"/api/v1/customers/{first.customer_id}/suggestions", headers=bearer(world.asia_agent))
    assert hidden.status_code == 404


def test_leads_accept_a_suggestion_merging_the_pair_audited(
    client: Any, session: Any, world: Any, lookalikes: Any, bearer: Any, published: Any
) -> None:
    first, second, row = lookalikes
    ids = (first.customer_id, second.customer_id)
    url = f"/api/v1/customer-suggestions/{row.id}/accept"
    assert client.post(url, headers=bearer(world.eu)).status_code == 404  # agents ask a lead
    assert client.post(url, headers=bearer(world.lead, "read")).status_code == 403
    response = client.post(url, headers=bearer(world.lead))
    assert response.status_code == 200, response.json
    assert response.json == {"suggestion_id": row.id, "status": "accepted", "kept_customer_id": min(ids)}
    session.expire_all()
    assert session.get(Customer, max(ids)).merged_into_id == min(ids)
    audit = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "customer.suggestion_accepted")).one()
    assert (audit.actor_type, audit.actor_id, audit.data["via"]) == ("user", world.lead.id, "api")
    assert any(name == "customer.suggestion_accepted" for name, _ in published)
    again = client.post(url, headers=bearer(world.lead))
    assert again.status_code == 409 and "already decided" in again.json["error"]["message"]
    assert client.post("/api/v1/customer-suggestions/999999/accept", headers=bearer(world.lead)).status_code == 404


def test_leads_reject_a_suggestion_for_good(
    client: Any, session: Any, world: Any, lookalikes: Any, bearer: Any, published: Any
) -> None:
    first, second, row = lookalikes
    first_id, second_id = first.customer_id, second.customer_id
    response = client.post(f"/api/v1/customer-suggestions/{row.id}/reject", headers=bearer(world.lead))
    assert response.status_code == 200
    assert response.json == {"suggestion_id": row.id, "status": "rejected", "kept_customer_id": None}
    session.expire_all()
    assert session.get(MergeSuggestion, row.id).status == "rejected"
    assert session.get(Customer, second_id).merged_into_id is None
    audit = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "customer.suggestion_rejected")).one()
    assert (audit.actor_id, audit.data["via"]) == (world.lead.id, "api")
    assert [name for name, _ in published] == ["customer.suggestion_rejected"]
    listed = client.get(f"/api/v1/customers/{first_id}/suggestions", headers=bearer(world.lead)).json
    assert listed["suggestions"] == []
