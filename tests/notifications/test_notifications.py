"""Mentions, assignments and SLA warnings become notifications for the right people; the bell's count stays right."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk import events
from helpdesk.api.tokens import create_token
from helpdesk.extensions import socketio
from helpdesk.notifications import services
from helpdesk.notifications.models import Mention, Notification
from helpdesk.tickets.models import Message
from tests.web import csrf_token, fresh_request_globals, login, post


def note(client: Any, ticket: Any, body: str, mentions: list[int] = ()) -> Any:
    data = {"body": body, "internal": "1", "csrf_token": csrf_token(client, f"/tickets/{ticket.id}")}
    data["mention"] = [str(m) for m in mentions]
    return client.post(f"/tickets/{ticket.id}/reply", data=data)


def notes_of(session: Any, user: Any) -> list[tuple[str, int]]:
    session.expire_all()
    rows = session.scalars(sa.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id))
    return [(n.kind, n.ticket_id) for n in rows]


def test_a_note_mentions_only_colleagues_who_may_see_the_ticket(client, session, world, make_user, make_ticket):
    ticket = make_ticket()  # shop-de: team Europe and leads see it; Aiko (team Asia) does not
    mia = make_user("mia@example.test", name="Mia Park", teams=[world.europe])
    gone = make_user("gone@example.test", name="Gone", teams=[world.europe])
    gone.active = False
    session.commit()
    login(client, world.eu)

    body = "@Lena please check. @Aiko too. @Gone and asia@example.test. Mail @mia@example.test; @Emil is me"
    response = note(client, ticket, body, [world.lead.id, world.asia_agent.id, gone.id, world.eu.id])

    assert response.status_code == 302
    message = session.scalars(sa.select(Message).where(Message.is_internal.is_(True))).one()
    stored = set(session.scalars(sa.select(Mention.user_id).where(Mention.message_id == message.id)))
    assert stored == {world.lead.id, mia.id, world.eu.id}  # Mia by her typed address; not Aiko, not an inactive user
    assert notes_of(session, world.lead) == [("mention", ticket.id)]
    assert notes_of(session, mia) == [("mention", ticket.id)]
    assert notes_of(session, world.asia_agent) == []
    assert notes_of(session, world.eu) == []  # mentioning yourself is no news
    assert services.unread_count(session, world.lead.id) == 1


def test_a_picked_colleague_whose_name_was_deleted_is_not_mentioned_and_replies_mention_nobody(
    client, session, world, make_ticket
):
    ticket = make_ticket()
    login(client, world.eu)
    assert note(client, ticket, "Changed my mind, nobody", [world.lead.id]).status_code == 302
    data = {"body": "@Lena hello buyer", "mention": [str(world.lead.id)]}
    assert post(client, f"/tickets/{ticket.id}/reply", data, token_from=f"/tickets/{ticket.id}").status_code == 302
    assert session.scalar(sa.select(sa.func.count()).select_from(Mention)) == 0
    assert notes_of(session, world.lead) == []


def test_suggestions_list_only_who_may_see_the_ticket(client, world, make_user, make_ticket):
    ticket = make_ticket()
    make_user("anna@example.test", name="Anna Asia", teams=[world.asia])
    make_user("eric@example.test", name="Eric Europe", teams=[world.europe])
    login(client, world.eu)

    everyone = client.get(f"/tickets/{ticket.id}/mentionable").get_json()["users"]
    assert [u["name"] for u in everyone] == ["Eric Europe", "Lena"]  # not Anna of team Asia, not Emil himself
    by_mail = client.get(f"/tickets/{ticket.id}/mentionable?q=ERIC@").get_json()["users"]
    assert [(u["name"], u["email"]) for u in by_mail] == [("Eric Europe", "eric@example.test")]
    # e-mails match from their start only: "ex" is not everyone at example.test; names starting with it come first
    assert client.get(f"/tickets/{ticket.id}/mentionable?q=ex").get_json()["users"] == []
    assert [u["name"] for u in client.get(f"/tickets/{ticket.id}/mentionable?q=e").get_json()["users"]] == [
        "Eric Europe",
        "Lena",
    ]

    login(client, world.asia_agent)
    assert client.get(f"/tickets/{ticket.id}/mentionable").status_code == 404


def test_assignment_by_a_colleague_notifies_taking_it_yourself_does_not(client, session, world, make_ticket):
    ticket = make_ticket()
    login(client, world.eu)
    post(client, f"/tickets/{ticket.id}/assign", {"assignee": "me"}, token_from=f"/tickets/{ticket.id}")
    assert notes_of(session, world.eu) == []

    login(client, world.lead)
    post(client, f"/tickets/{ticket.id}/assign", {"assignee": ""}, token_from=f"/tickets/{ticket.id}")
    post(client, f"/tickets/{ticket.id}/assign", {"assignee": str(world.eu.id)}, token_from=f"/tickets/{ticket.id}")
    assert notes_of(session, world.eu) == [("assigned", ticket.id)]
    assert services.unread_count(session, world.eu.id) == 1

    login(client, world.eu)
    page = client.get("/notifications/").get_data(as_text=True)
    assert f"Lena assigned #{ticket.id} to you" in page
    (notification,) = session.scalars(sa.select(Notification))
    opened = post(client, f"/notifications/{notification.id}/open", {}, token_from="/notifications/")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/tickets/{ticket.id}")
    assert services.unread_count(session, world.eu.id) == 0

    # given away and back again: the notice is news again, still one row
    login(client, world.lead)
    post(client, f"/tickets/{ticket.id}/assign", {"assignee": ""}, token_from=f"/tickets/{ticket.id}")
    post(client, f"/tickets/{ticket.id}/assign", {"assignee": str(world.eu.id)}, token_from=f"/tickets/{ticket.id}")
    assert notes_of(session, world.eu) == [("assigned", ticket.id)]
    assert services.unread_count(session, world.eu.id) == 1


def test_sla_warnings_and_breaches_reach_the_assignee_once(session, world, make_ticket):
    mine = make_ticket(assignee_id=world.eu.id)
    nobodys = make_ticket()
    payload = {"channel_account_id": mine.channel_account_id, "team_id": None, "clock": "first_response"}
    warning = {**payload, "ticket_id": mine.id, "due_at": "2026-01-05T10:00:00+00:00"}

    for _ in range(2):  # a relay may hand the same event over twice
        events.publish(session, "sla.warning", warning)
        session.commit()
    events.publish(session, "sla.warning", {**payload, "ticket_id": nobodys.id, "due_at": "2026-01-05T10:00:00+00:00"})
    events.publish(session, "sla.breached", warning)
    session.commit()

    assert notes_of(session, world.eu) == [("sla_warning", mine.id), ("sla_breached", mine.id)]
    assert services.unread_count(session, world.eu.id) == 2
    assert session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 2


def test_unread_count_is_kept_through_read_and_read_all_and_recount_agrees(client, session, world, make_ticket):
    tickets = [make_ticket() for _ in range(3)]
    login(client, world.lead)
    for t in tickets:
        post(client, f"/tickets/{t.id}/assign", {"assignee": str(world.eu.id)}, token_from=f"/tickets/{t.id}")
    login(client, world.eu)
    assert services.unread_count(session, world.eu.id) == 3
    page = client.get("/").get_data(as_text=True)
    assert 'id="bell-count">3</span>' in page
    assert client.get("/notifications/unread").get_json() == {"unread": 3}

    first = session.scalars(sa.select(Notification).order_by(Notification.id)).first()
    post(client, f"/notifications/{first.id}/read", {}, token_from="/notifications/")
    post(client, f"/notifications/{first.id}/read", {}, token_from="/notifications/")  # twice is once
    assert services.unread_count(session, world.eu.id) == 2
    assert services.recount(session) == {}

    login(client, world.lead)  # someone else's notification: not found, nothing changes
    assert post(client, f"/notifications/{first.id}/read", {}, token_from="/notifications/").status_code == 404
    assert post(client, f"/notifications/{first.id}/open", {}, token_from="/notifications/").status_code == 404

    login(client, world.eu)
    post(client, "/notifications/read-all", {}, token_from="/notifications/")
    assert services.unread_count(session, world.eu.id) == 0
    assert 'id="bell-count" hidden>0</span>' in client.get("/").get_data(as_text=True)
    assert services.recount(session) == {}

    session.execute(sa.text("update notification_count set unread = 7"))
    session.commit()
    assert services.recount(session) == {world.eu.id: (7, 0)}
    services.recount(session, fix=True)
    session.commit()
    assert services.recount(session) == {}


def test_marking_read_needs_the_csrf_token(client, world):
    login(client, world.eu)
    assert client.post("/notifications/read-all").status_code == 400


def test_the_api_lists_the_tokens_own_notifications(client, session, world, make_ticket):
    ticket = make_ticket()
    login(client, world.lead)
    post(client, f"/tickets/{ticket.id}/assign", {"assignee": str(world.eu.id)}, token_from=f"/tickets/{ticket.id}")
    _, raw = create_token(session, world.eu, "notifier")
    _, other = create_token(session, world.lead, "lead")
    session.commit()

    mine = client.get("/api/v1/notifications", headers={"Authorization": f"Bearer {raw}"}).get_json()
    assert mine["unread"] == 1
    assert [(n["kind"], n["ticket_id"], n["actor"], n["read"]) for n in mine["notifications"]] == [
        ("assigned", ticket.id, "Lena", False)
    ]
    theirs = client.get("/api/v1/notifications", headers={"Authorization": f"Bearer {other}"}).get_json()
    assert theirs == {"unread": 0, "notifications": [], "next_before": None}
    assert client.get("/api/v1/notifications").status_code == 401


@pytest.fixture
def _handlers_inline(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socketio.server, "async_handlers", False)


@pytest.mark.usefixtures("_handlers_inline")
def test_a_mention_is_pushed_to_the_persons_own_room_only(app, client, world, make_ticket):
    ticket = make_ticket()

    def connect(user: Any) -> Any:
        http = app.test_client()
        login(http, user)
        fresh_request_globals()
        return socketio.test_client(app, flask_test_client=http)

    lena, emil = connect(world.lead), connect(world.eu)
    lena.get_received(), emil.get_received()
    login(client, world.eu)
    note(client, ticket, "@Lena look", [world.lead.id])

    pushed = [r["args"][0] for r in lena.get_received() if r["name"] == "notification.created"]
    assert [(p["user_id"], p["kind"], p["ticket_id"]) for p in pushed] == [(world.lead.id, "mention", ticket.id)]
    assert [r for r in emil.get_received() if r["name"] == "notification.created"] == []


@pytest.mark.usefixtures("_handlers_inline")
def test_a_read_pushes_the_new_unread_count_to_the_persons_other_tabs(app, client, session, world, make_ticket):
    """One tab reads; the person's other connections (and only theirs) hear the count after it."""
    tickets = [make_ticket() for _ in range(3)]
    login(client, world.lead)
    for t in tickets:
        post(client, f"/tickets/{t.id}/assign", {"assignee": str(world.eu.id)}, token_from=f"/tickets/{t.id}")

    def connect(user: Any) -> Any:
        http = app.test_client()
        login(http, user)
        fresh_request_globals()
        return socketio.test_client(app, flask_test_client=http)

    other_tab, lena = connect(world.eu), connect(world.lead)
    other_tab.get_received(), lena.get_received()

    def counts(ws: Any) -> list[int]:
        return [r["args"][0]["unread"] for r in ws.get_received() if r["name"] == "notification.read"]

    login(client, world.eu)
    first = session.scalars(sa.select(Notification).where(Notification.user_id == world.eu.id)).first()
    post(client, f"/notifications/{first.id}/read", {}, token_from="/notifications/")
    assert counts(other_tab) == [2]
    post(client, f"/notifications/{first.id}/read", {}, token_from="/notifications/")  # already read: no news
    assert counts(other_tab) == []
    post(client, "/notifications/read-all", {}, token_from="/notifications/")
    assert counts(other_tab) == [0]
    post(client, "/notifications/read-all", {}, token_from="/notifications/")
    assert counts(other_tab) == []
    assert counts(lena) == []  # another person's room hears nothing of it


def test_a_ticket_no_longer_visible_keeps_its_notice_but_not_its_subject(client, session, world, make_ticket):
    ticket = make_ticket(subject="Refund for order 1042")
    login(client, world.lead)
    post(client, f"/tickets/{ticket.id}/assign", {"assignee": str(world.eu.id)}, token_from=f"/tickets/{ticket.id}")
    login(client, world.eu)
    assert "Refund for order 1042" in client.get("/notifications/").get_data(as_text=True)

    session.execute(sa.text("delete from team_member"))  # Emil leaves team Europe
    session.commit()
    page = client.get("/notifications/").get_data(as_text=True)
    assert "Refund for order 1042" not in page and "You no longer see this ticket." in page
    (notification,) = session.scalars(sa.select(Notification))
    opened = post(client, f"/notifications/{notification.id}/open", {}, token_from="/notifications/")
    assert client.get(opened.headers["Location"]).status_code == 404
