"""What an open ticket page redraws when a colleague changes the ticket: header line and details card."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from helpdesk.tickets.models import Ticket
from helpdesk.tickets.services import assign, set_status
from tests.web import login


def test_live_fragment_shows_the_current_status_assignee_and_sla(
    client: Any, session: Any, world: Any, make_ticket: Any
) -> None:
    ticket = make_ticket("shop-de")
    login(client, world.eu)
    set_status(session, ticket, "pending", world.lead)
    assign(session, ticket, world.lead.id, world.lead)
    session.execute(sa.update(Ticket).where(Ticket.id == ticket.id).values(sla_state="breached"))
    session.commit()
    html = client.get(f"/tickets/{ticket.id}/live").get_data(as_text=True)
    assert 'id="ticket-meta"' in html and 'id="ticket-details"' in html
    assert "pending" in html.split('id="ticket-details"')[0]  # the header line
    assert "SLA breached" in html
    assert f'<option value="{world.lead.id}" selected>' in html
    assert '<option value="pending" selected>' in html
    assert 'name="csrf_token"' in html  # the redrawn forms still post


def test_live_fragment_needs_a_sign_in(client: Any, world: Any, make_ticket: Any) -> None:
    ticket = make_ticket("shop-de")
    response = client.get(f"/tickets/{ticket.id}/live")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
