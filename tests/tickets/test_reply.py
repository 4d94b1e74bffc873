"""Replies go out through the ticket's own channel in a background task; notes never leave."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa

from channels import registry
from channels.base import (
    AuthError,
    Capability,
    Connector,
    Diagnosis,
    DiagnosisCode,
    FetchResult,
    OutboundReply,
    SendResult,
    TransientChannelError,
)
from helpdesk import events
from helpdesk.tickets import delivery
from helpdesk.tickets.models import Message
from tests.conftest import T0
from tests.web import login, post


class OutboxConnector(Connector):
    """Records replies; ``FAILURES`` are raised, in order, before anything is sent."""

    def check_connection(self) -> Diagnosis:
        return Diagnosis(DiagnosisCode.OK)

    kind = "test-outbox"
    capabilities = frozenset({Capability.SEND_REPLY})
    sent: ClassVar[list[OutboundReply]] = []
    FAILURES: ClassVar[list[Exception]] = []

    def fetch(self, cursor: str | None, limit: int = 500) -> FetchResult:
        return FetchResult(messages=[], cursor=cursor)

    def send_reply(self, reply: OutboundReply) -> SendResult:
        if self.FAILURES:
            raise self.FAILURES.pop(0)
        type(self).sent.append(reply)
        return SendResult(external_id=f"out-{reply.message_id}", sent_at=T0 + timedelta(days=1))


class ReadOnlyConnector(Connector):
    kind = "test-readonly"
    capabilities = frozenset({Capability.FETCH_MESSAGES})

    def fetch(self, cursor: str | None, limit: int = 500) -> FetchResult:
        return FetchResult(messages=[], cursor=cursor)


registry.register(OutboxConnector)
registry.register(ReadOnlyConnector)


@pytest.fixture(autouse=True)
def _reset() -> None:
    OutboxConnector.sent = []
    OutboxConnector.FAILURES = []


def outgoing(session: Any, ticket: Any) -> list[Message]:
    session.expire_all()
    return list(session.scalars(sa.select(Message).where(Message.ticket_id == ticket.id, Message.direction == "out")))


def reply(client: Any, ticket: Any, **data: Any) -> Any:
    page = f"/tickets/{ticket.id}"
    return post(client, f"{page}/reply", {"body": "Your parcel ships today.", **data}, page)


@pytest.fixture
def outbox_ticket(world: Any, make_ticket: Any) -> Any:
    world.de.kind = "test-outbox"
    return make_ticket()


def test_reply_is_queued_then_sent_by_the_task(client: Any, session: Any, world: Any, outbox_ticket: Any) -> None:
    heard: list[tuple[str, Any]] = []

    def listener(name: str, payload: Any) -> None:
        heard.append((name, dict(payload)))

    events.listen("message.created", "message.delivery")(listener)
    try:
        login(client, world.eu)
        response = reply(client, outbox_ticket)
    finally:
        events.unlisten(listener)
    assert response.status_code == 302
    [message] = outgoing(session, outbox_ticket)
    assert message.delivery_state == "sent"
    assert message.external_id == f"out-{message.id}"
    assert message.author_user_id == world.eu.id
    [sent] = OutboxConnector.sent
    assert sent.account == "shop-de"
    assert sent.to.platform_id == "buyer_1"
    assert sent.in_reply_to is not None and sent.body_text == "Your parcel ships today."
    assert [(n, p.get("state")) for n, p in heard] == [
        ("message.created", None),
        ("message.delivery", "sending"),
        ("message.delivery", "sent"),
    ]
    session.refresh(outbox_ticket)
    assert outbox_ticket.status == "open" and outbox_ticket.assignee_id == world.eu.id


def test_internal_note_is_never_sent(client: Any, session: Any, world: Any, outbox_ticket: Any) -> None:
    login(client, world.eu)
    reply(client, outbox_ticket, internal="1", body="Customer called, be nice.")
    [note] = outgoing(session, outbox_ticket)
    assert note.is_internal and note.delivery_state == "received"
    assert OutboxConnector.sent == []
    assert delivery.start(session, note.id) == delivery.Outcome("received")


def test_permanent_failure_marks_failed_with_the_reason(
    client: Any, session: Any, world: Any, outbox_ticket: Any
) -> None:
    OutboxConnector.FAILURES = [AuthError("token revoked")]
    login(client, world.eu)
    reply(client, outbox_ticket)
    [message] = outgoing(session, outbox_ticket)
    assert message.delivery_state == "failed"
    assert "token revoked" in message.delivery_error
    page = client.get(f"/tickets/{outbox_ticket.id}").get_data(as_text=True)
    assert "token revoked" in page


def test_transient_failure_stays_queued_for_a_retry(session: Any, world: Any, outbox_ticket: Any) -> None:
    from helpdesk.tickets.services import add_reply

    message = add_reply(session, outbox_ticket, world.eu, "hello")
    session.commit()
    OutboxConnector.FAILURES = [TransientChannelError("503", retry_after=120)]
    claimed = delivery.start(session, message.id)
    assert not isinstance(claimed, delivery.Outcome)
    outcome = delivery.send(session, *claimed)
    assert outcome.state == "queued" and outcome.retry_in == 120
    assert message.delivery_attempts == 1 and "will retry" in message.delivery_error
    claimed = delivery.start(session, message.id)
    assert delivery.send(session, *claimed).state == "sent"
    assert message.delivery_attempts == 2


def test_gives_up_after_the_last_attempt(session: Any, world: Any, outbox_ticket: Any) -> None:
    from helpdesk.tickets.services import add_reply

    message = add_reply(session, outbox_ticket, world.eu, "hello")
    message.delivery_attempts = delivery.MAX_ATTEMPTS - 1
    OutboxConnector.FAILURES = [TransientChannelError("timeout")]
    outcome = delivery.send(session, *delivery.start(session, message.id))  # type: ignore[misc]
    assert outcome.state == "failed" and "gave up" in (message.delivery_error or "")


def test_backoff_grows_and_respects_retry_after() -> None:
    assert [delivery.backoff(n) for n in (1, 2, 3)] == [30, 60, 120]
    assert delivery.backoff(1, retry_after=600) == 600
    assert delivery.backoff(30) == delivery.MAX_DELAY_S


@pytest.mark.parametrize(("kind", "reason"), [("ebay-unknown", "no connector"), ("test-readonly", "cannot send")])
def test_channel_that_cannot_send_fails_naming_the_kind(
    client: Any, session: Any, world: Any, make_ticket: Any, kind: str, reason: str
) -> None:
    world.de.kind = kind
    ticket = make_ticket()
    login(client, world.eu)
    reply(client, ticket)
    [message] = outgoing(session, ticket)
    assert message.delivery_state == "failed"
    assert reason in message.delivery_error and kind in message.delivery_error
    assert message.body_text == "Your parcel ships today."  # the reply is kept


def test_collision_warns_before_sending_and_keeps_the_draft(
    client: Any, session: Any, world: Any, outbox_ticket: Any, make_message: Any
) -> None:
    from helpdesk.tickets.services import add_reply

    first_id = session.scalar(sa.select(Message.id).where(Message.ticket_id == outbox_ticket.id))
    add_reply(session, outbox_ticket, world.lead, "Lena answered meanwhile.")
    session.commit()
    login(client, world.eu)
    response = reply(client, outbox_ticket, seen=first_id, body="My draft")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "My draft" in html and "Someone else wrote on this ticket" in html
    assert 'name="force" value="1"' in html
    assert len(outgoing(session, outbox_ticket)) == 1
    confirmed = reply(client, outbox_ticket, seen=first_id, body="My draft", force="1")
    assert confirmed.status_code == 302
    assert len(outgoing(session, outbox_ticket)) == 2


def test_own_earlier_reply_is_not_a_collision(client: Any, session: Any, world: Any, outbox_ticket: Any) -> None:
    first_id = session.scalar(sa.select(Message.id).where(Message.ticket_id == outbox_ticket.id))
    login(client, world.eu)
    reply(client, outbox_ticket, seen=first_id, body="one")
    assert reply(client, outbox_ticket, seen=first_id, body="two").status_code == 302


def test_empty_reply_is_refused(client: Any, session: Any, world: Any, outbox_ticket: Any) -> None:
    login(client, world.eu)
    assert reply(client, outbox_ticket, body="   ").status_code == 422
    assert outgoing(session, outbox_ticket) == []


def test_replies_and_status_changes_keep_the_sla_clocks_in_step(
    session: Any, world: Any, outbox_ticket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from helpdesk.tickets import services

    calls: list[tuple[str, Any]] = []
    fake = SimpleNamespace(
        on_agent_reply=lambda s, ticket, at: calls.append(("reply", ticket.id)),
        on_status_change=lambda s, ticket, old, new, at: calls.append(("status", (old, new))),
    )
    monkeypatch.setattr(services, "sla_services", fake)
    services.add_reply(session, outbox_ticket, world.eu, "note", internal=True)
    services.add_reply(session, outbox_ticket, world.eu, "public answer")
    services.set_status(session, outbox_ticket, "pending", world.eu)
    assert calls == [("reply", outbox_ticket.id), ("status", ("open", "pending"))]
