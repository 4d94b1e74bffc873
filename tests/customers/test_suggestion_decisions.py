"""Merge suggestions are shown on the customer card with why; leads accept (merge) or reject (for good)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk import events
from helpdesk.audit.models import AuditEvent
from helpdesk.customers.models import Customer, MergeSuggestion
from helpdesk.customers.services import suggest_merges
from helpdesk.tickets.models import Ticket
from tests.web import login, post


@pytest.fixture
def published() -> Any:
    seen: list[tuple[str, dict[str, Any]]] = []

    def record(name: str, payload: Any) -> None:
        seen.append((name, dict(payload)))

    events.listen("customer.suggestion_accepted", "customer.suggestion_rejected", "customer.merged")(record)
    yield seen
    events.unlisten(record)


@pytest.fixture
def lookalikes(session: Any, world: Any, make_ticket: Any) -> tuple[Ticket, Ticket, MergeSuggestion]:
    """Jonas Weber and "Weber Jonas" each wrote to shop-de; ingest suggested them as one person."""
    first, second = make_ticket(buyer="jonas_weber"), make_ticket(buyer="weber_jonas")
    session.get(Customer, first.customer_id).email = "jonas.weber@example.test"
    session.get(Customer, second.customer_id).email = "jonasweber@example.test"
    session.commit()
    pair = {first.customer_id, second.customer_id}
    rows = [r for r in session.scalars(sa.select(MergeSuggestion)) if {r.customer_id, r.candidate_id} == pair]
    assert len(rows) == 1  # found once, not once per direction
    return first, second, rows[0]


def test_card_shows_the_suggestion_with_why_and_only_leads_get_buttons(
    client: Any, session: Any, world: Any, lookalikes: Any
) -> None:
    first, _second, row = lookalikes
    login(client, world.lead)
    html = client.get(f"/tickets/{first.id}").get_data(as_text=True)
    assert "Maybe the same person" in html and "Weber Jonas" in html and "jonasweber@example.test" in html
    assert "why: same name, similar e-mail" in html and "score 100" in html
    assert f'action="/customers/suggestions/{row.id}/accept"' in html
    assert f'action="/customers/suggestions/{row.id}/reject"' in html
    login(client, world.eu)
    html = client.get(f"/tickets/{first.id}").get_data(as_text=True)
    assert "Weber Jonas" in html and "why: same name, similar e-mail" in html
    assert f"/customers/suggestions/{row.id}/accept" not in html
    assert "A lead or an administrator can merge them." in html


def test_agents_do_not_see_customers_of_stores_they_cannot_see(
    client: Any, session: Any, world: Any, make_ticket: Any
) -> None:
    mine = make_ticket(buyer="jonas_weber")
    make_ticket("shop-jp", buyer="weber_jonas")  # only team Asia sees this buyer
    assert session.scalar(sa.select(sa.func.count(MergeSuggestion.id))) == 1
    login(client, world.eu)
    html = client.get(f"/tickets/{mine.id}").get_data(as_text=True)
    assert "Maybe the same person" not in html and "Weber Jonas" not in html
    login(client, world.lead)
    assert "Weber Jonas" in client.get(f"/tickets/{mine.id}").get_data(as_text=True)


def test_lead_accepts_on_the_card_and_the_customers_become_one(
    client: Any, session: Any, world: Any, lookalikes: Any, published: Any
) -> None:
    first, second, row = lookalikes
    keep, drop = sorted((first.customer_id, second.customer_id))
    login(client, world.lead)
    response = post(
        client, f"/customers/suggestions/{row.id}/accept", {"back": f"/tickets/{second.id}"}, f"/tickets/{second.id}"
    )
    assert response.headers["Location"].endswith(f"/tickets/{second.id}")
    session.expire_all()
    assert session.get(Customer, drop).merged_into_id == keep
    assert first.customer_id == second.customer_id == keep
    assert session.get(MergeSuggestion, row.id).status == "accepted"
    audit = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "customer.suggestion_accepted")).one()
    assert (audit.actor_id, audit.data["kept_id"], audit.data["merged_id"]) == (world.lead.id, keep, drop)
    names = [name for name, _payload in published]
    assert "customer.merged" in names and "customer.suggestion_accepted" in names
    again = post(client, f"/customers/suggestions/{row.id}/accept", {"back": f"/tickets/{second.id}"})
    assert f"Suggestion {row.id} was already decided." in client.get(again.headers["Location"]).get_data(as_text=True)


def test_rejected_pair_is_never_suggested_again(
    client: Any, session: Any, world: Any, lookalikes: Any, published: Any
) -> None:
    first, second, row = lookalikes
    login(client, world.lead)
    post(client, f"/customers/suggestions/{row.id}/reject", {"back": f"/tickets/{first.id}"})
    session.expire_all()
    assert session.get(MergeSuggestion, row.id).status == "rejected"
    assert session.get(Customer, second.customer_id).merged_into_id is None
    assert [n for n, _p in published] == ["customer.suggestion_rejected"]
    audit = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "customer.suggestion_rejected")).one()
    assert audit.actor_id == world.lead.id and audit.data["suggestion_id"] == row.id
    # the finder runs again for either customer: the pair stays dismissed, in both directions
    assert suggest_merges(session, [first.customer_id, second.customer_id]) == 0
    assert "Maybe the same person" not in client.get(f"/tickets/{first.id}").get_data(as_text=True)


def test_agents_may_not_decide_and_the_leads_page_is_hidden_from_them(
    client: Any, session: Any, world: Any, lookalikes: Any
) -> None:
    first, _second, row = lookalikes
    login(client, world.eu)
    assert post(client, f"/customers/suggestions/{row.id}/accept", {}, f"/tickets/{first.id}").status_code == 404
    assert post(client, f"/customers/suggestions/{row.id}/reject", {}, f"/tickets/{first.id}").status_code == 404
    assert client.get("/customers/suggestions").status_code == 404
    assert post(client, "/customers/suggestions", {"decision": "reject", "ids": [row.id]}, "/").status_code == 404
    session.expire_all()
    assert session.get(MergeSuggestion, row.id).status == "open"
    login(client, world.lead)
    assert client.post(f"/customers/suggestions/{row.id}/reject").status_code == 400  # no CSRF token
    assert post(client, "/customers/suggestions/999999/reject", {}, "/").status_code == 404
    assert 'href="/customers/suggestions"' in client.get("/admin/").get_data(as_text=True)


def test_leads_page_lists_pending_and_decides_in_bulk(client: Any, session: Any, world: Any, make_ticket: Any) -> None:
    for a, b in (("jonas_weber", "weber_jonas"), ("maria_rossi", "rossi_maria"), ("li_wei", "wei_li")):
        make_ticket(buyer=a)
        make_ticket(buyer=b)
    rows = {
        frozenset(
            session.scalars(sa.select(Customer.display_name).where(Customer.id.in_([r.customer_id, r.candidate_id])))
        ): r.id
        for r in session.scalars(sa.select(MergeSuggestion))
    }
    jonas, maria, li = (
        rows[frozenset(p)]
        for p in (("Jonas Weber", "Weber Jonas"), ("Maria Rossi", "Rossi Maria"), ("Li Wei", "Wei Li"))
    )
    login(client, world.lead)
    html = client.get("/customers/suggestions").get_data(as_text=True)
    assert all(f'name="ids" value="{i}"' in html for i in (jonas, maria, li))
    response = post(
        client, "/customers/suggestions", {"decision": "reject", "ids": [jonas, maria]}, "/customers/suggestions"
    )
    assert "2 suggestions rejected" in client.get(response.headers["Location"]).get_data(as_text=True)
    post(client, "/customers/suggestions", {"decision": "accept", "ids": [li, jonas]}, "/customers/suggestions")
    html = client.get("/customers/suggestions").get_data(as_text=True)
    assert "1 suggestions accepted" in html and f"Suggestion {jonas} was already decided." in html
    assert "No pending suggestions." in html
    session.expire_all()
    statuses = {i: session.get(MergeSuggestion, i).status for i in (jonas, maria, li)}
    assert statuses == {jonas: "rejected", maria: "rejected", li: "accepted"}


def test_cli_lists_accepts_and_rejects(app: Any, session: Any, world: Any, lookalikes: Any, make_ticket: Any) -> None:
    first, second, row = lookalikes
    drop = max(first.customer_id, second.customer_id)
    make_ticket(buyer="maria_rossi")
    make_ticket(buyer="rossi_maria")
    other = session.scalars(sa.select(MergeSuggestion).where(MergeSuggestion.id != row.id)).one()
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["helpdesk", "customers", "suggestions", "list"])
    assert listed.exit_code == 0, listed.output
    assert "Weber Jonas" in listed.output and "same name, similar e-mail" in listed.output
    rejected = runner.invoke(args=["helpdesk", "customers", "suggestions", "reject", str(other.id)])
    assert rejected.exit_code == 0 and "1 suggestion(s) rejected" in rejected.output
    accepted = runner.invoke(
        args=["helpdesk", "customers", "suggestions", "accept", str(row.id), "--by", world.lead.email]
    )
    assert accepted.exit_code == 0, accepted.output
    again = runner.invoke(args=["helpdesk", "customers", "suggestions", "accept", str(row.id)])
    assert again.exit_code == 1 and "already decided" in again.output
    assert (
        runner.invoke(args=["helpdesk", "customers", "suggestions", "accept", "1", "--by", world.eu.email]).exit_code
        == 2
    )
    session.expire_all()
    assert session.get(Customer, drop).merged_into_id == min(first.customer_id, second.customer_id)
    audits = {
        a.action: a for a in session.scalars(sa.select(AuditEvent).where(AuditEvent.action.like("customer.sugg%")))
    }
    assert audits["customer.suggestion_rejected"].actor_type == "system"
    assert audits["customer.suggestion_rejected"].data["via"] == "cli"
    assert audits["customer.suggestion_accepted"].actor_id == world.lead.id
    assert "No pending suggestions." in runner.invoke(args=["helpdesk", "customers", "suggestions", "list"]).output
