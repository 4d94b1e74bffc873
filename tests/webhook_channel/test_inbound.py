"""POST /api/v1/webhooks/tickets: signed deliveries become tickets exactly once (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

from channels.base import InvalidDelivery
from channels.webhook.signing import sign
from helpdesk.channelaccounts.models import IdempotentResponse
from helpdesk.ingest.models import QuarantinedInput
from helpdesk.tickets.models import Message, Ticket
from tests.webhook_channel.signed import SECRET, delivery, post


def count(session: Any, model: Any) -> int:
    session.expire_all()
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_signed_delivery_makes_one_ticket(client, session, erp):
    response = post(client, delivery())
    assert response.status_code == 201, response.get_data(as_text=True)
    ticket = session.get(Ticket, response.json["ticket_id"])
    message = session.get(Message, response.json["message_id"])
    assert message.ticket_id == ticket.id and "4711 ist noch nicht da" in message.body_text
    assert ticket.subject == "Wo bleibt meine Lampe?"
    assert count(session, Ticket) == 1
    again = post(client, delivery())  # same external id, no idempotency key: the pipeline's dedupe
    assert again.status_code == 200 and again.json == response.json
    assert count(session, Ticket) == 1 and count(session, Message) == 1


@pytest.mark.parametrize(
    "case",
    ["tampered", "wrong_secret", "unknown_key", "stale", "future", "unsigned"],
)
def test_refusals_are_401_and_store_nothing(client, session, erp, case):
    body = delivery()
    now = int(time.time())
    kwargs: dict[str, Any] = {
        "tampered": {"signature": sign(SECRET, body.replace(b"4711", b"4712"))},
        "wrong_secret": {"secret": "not-the-secret-at-all"},
        "unknown_key": {"key_id": "someone-else"},
        "stale": {"t": now - 301},
        "future": {"t": now + 330},  # a slow machine may take seconds before the check: keep clear of the edge
        "unsigned": {"signature": "nothing"},
    }[case]
    response = post(client, body, **kwargs)
    assert response.status_code == 401
    error = response.json["error"]
    assert error["code"] in {"bad_signature", "unknown_key"} and error["message"] and error["field"]
    assert count(session, Ticket) == 0 and count(session, QuarantinedInput) == 0


def test_within_the_window_is_accepted(client, session, erp):
    assert post(client, delivery(), t=int(time.time()) - 280).status_code == 201


def test_a_disabled_account_is_refused(client, session, erp):
    erp.enabled = False
    session.commit()
    assert post(client, delivery()).status_code == 401


def test_same_idempotency_key_twice_gives_the_first_answer(client, session, erp):
    first = post(client, delivery(), idem="k-1")
    # a retry with the same key is answered from the store, even if the sender changed the body meanwhile
    second = post(client, delivery(external_id="ERP-1002"), idem="k-1")
    assert first.status_code == second.status_code == 201
    assert first.get_data() == second.get_data()
    assert count(session, Ticket) == 1 and count(session, IdempotentResponse) == 1


def test_concurrent_duplicates_make_one_ticket(app, client, session, erp):
    body = delivery()
    results: list[tuple[int, bytes]] = []
    barrier = threading.Barrier(4)

    def send() -> None:
        own = app.test_client()
        barrier.wait()
        response = post(own, body, idem="same-delivery")
        results.append((response.status_code, response.get_data()))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 4
    assert count(session, Ticket) == 1 and count(session, Message) == 1
    assert sum(1 for status, _ in results if status == 201) >= 1
    answered = {data for status, data in results if status in (200, 201)}
    assert len({json.loads(d)["ticket_id"] for d in answered}) == 1
    assert all(status in (200, 201, 409) for status, _ in results)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (delivery(buyer={"email": "not an address"}), "buyer.email"),
        (delivery(buyer={"email": "b" * 250 + "@example.test"}), "buyer.email"),  # longer than the record holds
        (delivery(buyer={"email": "b@example.test", "phone": "+1 " + "5" * 40}), "buyer.phone"),
        (delivery(body=""), "body"),
        (delivery(sent_at="2026-01-05T09:00:00"), "sent_at"),
        (b"{not json", None),
    ],
)
def test_a_bad_body_is_422_and_quarantined_for_replay(client, session, erp, body, field):
    response = post(client, body)
    assert response.status_code == 422
    assert response.json["error"]["field"] == field
    assert count(session, Ticket) == 0
    kept = session.scalars(sa.select(QuarantinedInput)).one()
    assert kept.raw == body and kept.account == "erp" and kept.field == field


def test_a_quarantined_delivery_replays_once_fixed(client, session, erp):
    from helpdesk.ingest.quarantine import RawInput, parse

    post(client, delivery(body=""))
    kept = session.scalars(sa.select(QuarantinedInput)).one()
    with pytest.raises(InvalidDelivery, match="body"):
        parse(RawInput(kept.raw, kept.raw_format, kept.account))
    message = parse(RawInput(delivery(), kept.raw_format, kept.account))
    assert message.account == "erp" and message.order_refs == ("4711",)


def test_housekeeping_forgets_old_answers(client, session, erp):
    from datetime import timedelta

    from helpdesk.db import utcnow
    from helpdesk.hooks.idempotency import prune

    post(client, delivery(), idem="old")
    post(client, delivery(external_id="ERP-2"), idem="new")
    session.execute(
        sa.update(IdempotentResponse)
        .where(IdempotentResponse.key == "old")
        .values(created_at=utcnow() - timedelta(hours=49))
    )
    assert prune(session) == 1
    session.commit()
    assert [r.key for r in session.scalars(sa.select(IdempotentResponse))] == ["new"]


def test_the_cli_adds_an_integration_that_can_post(app, client, session, monkeypatch):
    monkeypatch.setenv("ERP_SIGNING_SECRET", SECRET)
    args = ["channels", "add", "webhook", "--name", "erp2", "--key-id", "erp-two", "--encrypt-secrets"]
    result = app.test_cli_runner().invoke(args=["helpdesk", *args, "--signing-secret-env", "ERP_SIGNING_SECRET"])
    assert result.exit_code == 0, result.output
    monkeypatch.delenv("ERP_SIGNING_SECRET")  # sealed in the database now
    assert post(client, delivery(), key_id="erp-two").status_code == 201
    assert post(client, delivery(external_id="x"), key_id="erp-two", secret="guess-guess-guess").status_code == 401


def _peak_checkouts(engine: sa.Engine) -> dict[str, int]:
    """Connections the engine's pool has out at once, at most, from now on."""
    state = {"out": 0, "peak": 0}

    def checkout(*_: Any) -> None:
        state["out"] += 1
        state["peak"] = max(state["peak"], state["out"])

    def checkin(*_: Any) -> None:
        state["out"] -= 1

    sa.event.listen(engine, "checkout", checkout)
    sa.event.listen(engine, "checkin", checkin)
    return state


def test_a_delivery_holds_one_pooled_connection(app, client, session, erp, monkeypatch):
    """A second connection per request (to read the secret) let a burst of deliveries take every pooled
    connection and then wait for another one each: the server stood still until the pool's timeout."""
    from helpdesk.extensions import db
    from helpdesk.outbox.relay import relay_for

    monkeypatch.setattr(relay_for(app), "immediate", False)  # relay in its own thread, as when served
    session.close()
    connections = _peak_checkouts(db.engine)
    assert post(client, delivery(), idem="SO-1-msg-1").status_code == 201
    assert connections["peak"] == 1


def test_a_delivery_that_failed_can_be_sent_again_with_its_key(client, session, erp, monkeypatch):
    """The claim on the Idempotency-Key commits with the work or not at all: a failed delivery's retry is
    processed, not refused as still running (on SQLite the claim used to commit on its own)."""
    from helpdesk.hooks import tickets

    real = tickets.ingest

    def fails_after_writing(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        raise RuntimeError("the disk filled up")

    monkeypatch.setattr(tickets, "ingest", fails_after_writing)
    with pytest.raises(RuntimeError):
        post(client, delivery(), idem="SO-1-msg-1")
    session.rollback()  # what the request's teardown does with its session
    monkeypatch.setattr(tickets, "ingest", real)
    again = post(client, delivery(), idem="SO-1-msg-1")
    assert again.status_code == 201, again.get_data(as_text=True)
    assert count(session, Ticket) == 1 and count(session, IdempotentResponse) == 1
