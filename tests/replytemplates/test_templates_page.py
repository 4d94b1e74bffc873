"""Leads manage the reply templates that agents insert in the composer."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from helpdesk.tickets.models import ReplyTemplate
from tests.web import login, post


def test_agents_do_not_see_the_page(app: Any, world: Any) -> None:
    client = app.test_client()
    login(client, world.eu)
    assert client.get("/templates/").status_code == 404
    assert "/templates/" not in client.get("/").get_data(as_text=True)


def test_lead_adds_a_template_that_agents_can_pick(app: Any, session: Any, world: Any, make_ticket: Any) -> None:
    lead = app.test_client()
    login(lead, world.lead)
    response = post(
        lead,
        "/templates/",
        {"name": "Tracking (de)", "language": "de", "body": "Hallo, Ihr Paket…"},
        token_from="/templates/",
    )
    assert response.status_code == 302
    assert session.scalar(sa.select(ReplyTemplate.body).where(ReplyTemplate.name == "Tracking (de)")) == (
        "Hallo, Ihr Paket…"
    )
    ticket = make_ticket("shop-de")
    agent = app.test_client()
    login(agent, world.eu)
    assert "Tracking (de)" in agent.get(f"/tickets/{ticket.id}").get_data(as_text=True)


def test_invalid_or_duplicate_template_says_why(app: Any, session: Any, world: Any) -> None:
    lead = app.test_client()
    login(lead, world.lead)
    empty = post(lead, "/templates/", {"name": "x", "body": "  "}, token_from="/templates/")
    assert "The template has no text." in empty.get_data(as_text=True)
    post(lead, "/templates/", {"name": "Thanks", "body": "Thank you!"}, token_from="/templates/")
    again = post(lead, "/templates/", {"name": "Thanks", "body": "Thanks again"}, token_from="/templates/")
    assert "A template named Thanks already exists." in again.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count(ReplyTemplate.id))) == 1


def test_lead_deletes_a_template(app: Any, session: Any, world: Any) -> None:
    session.add(ReplyTemplate(name="Old", body="text"))
    session.commit()
    template_id = session.scalar(sa.select(ReplyTemplate.id))
    lead = app.test_client()
    login(lead, world.lead)
    assert post(lead, f"/templates/{template_id}/delete", {}, token_from="/templates/").status_code == 302
    assert session.scalar(sa.select(sa.func.count(ReplyTemplate.id))) == 0
    assert post(lead, f"/templates/{template_id}/delete", {}, token_from="/templates/").status_code == 404
