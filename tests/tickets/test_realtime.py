"""Socket.IO on the ticket page: who may join, presence and typing reach the others in the room."""

from __future__ import annotations

from typing import Any

import pytest

from helpdesk.extensions import socketio
from helpdesk.tickets.services import add_reply
from tests.web import fresh_request_globals, login


@pytest.fixture(autouse=True)
def _handlers_inline(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run event handlers in the emitting thread, so acks and emits are there when emit returns."""
    monkeypatch.setattr(socketio.server, "async_handlers", False)


def connect(app: Any, user: Any) -> Any:
    http = app.test_client()
    login(http, user)
    fresh_request_globals()
    client = socketio.test_client(app, flask_test_client=http)
    assert client.is_connected()
    return client


def emit(client: Any, *args: Any, **kwargs: Any) -> Any:
    """Emit as that client: each event loads its own user, as on a real server."""
    fresh_request_globals()
    return client.emit(*args, **kwargs)


def names(received: list[dict[str, Any]], event: str) -> list[tuple[str, str]]:
    return [(r["args"][0]["name"], r["args"][0]["state"]) for r in received if r["name"] == event]


def test_only_agents_who_may_see_the_ticket_join_its_room(app: Any, world: Any, make_ticket: Any) -> None:
    ticket = make_ticket("shop-jp")
    outsider = connect(app, world.eu)
    assert emit(outsider, "ticket.join", {"ticket_id": ticket.id}, callback=True) is False
    insider = connect(app, world.asia_agent)
    assert emit(insider, "ticket.join", {"ticket_id": ticket.id}, callback=True) is True
    assert emit(outsider, "ticket.join", {"ticket_id": "1 OR 1=1"}, callback=True) is False


def test_presence_and_typing_reach_the_other_viewer(app: Any, world: Any, make_ticket: Any) -> None:
    ticket = make_ticket()
    emil = connect(app, world.eu)
    lena = connect(app, world.lead)
    emit(emil, "ticket.join", {"ticket_id": ticket.id}, callback=True)
    emil.get_received()
    emit(lena, "ticket.join", {"ticket_id": ticket.id}, callback=True)
    assert names(emil.get_received(), "presence") == [("Lena", "join")]
    emit(emil, "ticket.here", {"ticket_id": ticket.id})
    emit(lena, "ticket.typing", {"ticket_id": ticket.id})
    assert names(lena.get_received(), "presence") == [("Emil", "here")]
    assert names(emil.get_received(), "typing") == [("Lena", "typing")]
    fresh_request_globals()
    lena.disconnect()
    assert names(emil.get_received(), "presence") == [("Lena", "leave")]


def test_typing_outside_a_joined_room_goes_nowhere(app: Any, world: Any, make_ticket: Any) -> None:
    ticket = make_ticket("shop-jp")
    viewer = connect(app, world.asia_agent)
    emit(viewer, "ticket.join", {"ticket_id": ticket.id}, callback=True)
    spy = connect(app, world.eu)
    emit(spy, "ticket.typing", {"ticket_id": ticket.id})
    assert viewer.get_received() == []


def test_new_messages_reach_only_agents_of_that_store(app: Any, session: Any, world: Any, make_ticket: Any) -> None:
    ticket = make_ticket("shop-jp")
    asia = connect(app, world.asia_agent)
    europe = connect(app, world.eu)
    add_reply(session, ticket, world.lead, "hello", internal=True)
    session.commit()
    events = [r for r in asia.get_received() if r["name"] == "message.created"]
    assert events and events[0]["args"][0]["ticket_id"] == ticket.id
    assert europe.get_received() == []


def test_sla_breach_reaches_the_inbox_of_that_store_only(app: Any, session: Any, world: Any, make_message: Any) -> None:
    from channels.base import Party
    from helpdesk.ingest.pipeline import ingest
    from helpdesk.sla.policies import seed_defaults

    seed_defaults(session)
    session.commit()
    asia = connect(app, world.asia_agent)
    europe = connect(app, world.eu)
    # a buyer message from January, ingested now: its 24-hour Amazon clock is already breached on write
    ingest(
        session,
        [make_message(account="shop-jp", channel="amazon", sender=Party(email="b@example.test"))],
        source="test",
    )
    session.commit()
    breached = [r["args"][0] for r in asia.get_received() if r["name"] == "sla.breached"]
    assert len(breached) == 1
    assert breached[0]["clock"] == "first_response"
    assert not [r for r in europe.get_received() if r["name"].startswith("sla.")]


def test_a_status_change_reaches_the_open_page_once(app: Any, session: Any, world: Any, make_ticket: Any) -> None:
    """A lead with the ticket open is in ``all`` and in the ticket's room: the change arrives once, not twice."""
    from helpdesk.tickets.services import set_status

    ticket = make_ticket("shop-jp")
    lena = connect(app, world.lead)
    assert emit(lena, "ticket.join", {"ticket_id": ticket.id}, callback=True) is True
    lena.get_received()
    set_status(session, ticket, "pending", world.asia_agent)
    session.commit()
    updates = [r["args"][0] for r in lena.get_received() if r["name"] == "ticket.updated"]
    assert len(updates) == 1
    assert updates[0]["ticket_id"] == ticket.id
    assert updates[0]["changes"] == {"status": "pending"}
