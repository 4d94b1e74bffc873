"""Concurrent deliveries are stored together, in one transaction, each answered on its own (SQLite and PostgreSQL).

Each test holds a first delivery's batch at its start until the deliveries
under test have all queued behind it, so they run as one batch of their own.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk.channelaccounts.models import IdempotentResponse
from helpdesk.hooks import tickets
from helpdesk.hooks.batcher import GroupCommit
from helpdesk.ingest.models import QuarantinedInput
from helpdesk.tickets.models import Message
from tests.webhook_channel.signed import delivery, post

Sent = tuple[bytes, str | None]  # body, Idempotency-Key
Answer = tuple[int, dict[str, Any]]


def count(session: Any, model: Any, *where: Any) -> int:
    session.expire_all()
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def in_one_batch(
    app: Any, monkeypatch: pytest.MonkeyPatch, sent: Sequence[Sent], *, then: Callable[..., Any] | None = None
) -> tuple[list[Answer], list[int]]:
    """Post ``sent`` concurrently so that they form one batch; their answers, and the sizes of the batches run.

    An opening delivery's batch waits at its start until all of ``sent`` are
    queued; they then make the next batch.  ``then`` replaces the store of
    that second batch (it gets the real store and the deliveries).
    """
    real = tickets.store
    sizes: list[int] = []
    entered, release = threading.Event(), threading.Event()

    def store(session: Any, deliveries: Sequence[Any]) -> Any:
        sizes.append(len(deliveries))
        if len(sizes) == 1:
            entered.set()
            assert release.wait(60)
        elif len(sizes) == 2 and then is not None:
            return then(real, session, deliveries)
        return real(session, deliveries)

    monkeypatch.setattr(tickets, "store", store)
    answers: list[Answer | None] = [None] * len(sent)
    failures: list[BaseException] = []

    def send(index: int | None, body: bytes, key: str | None) -> None:
        try:
            response = post(app.test_client(), body, idem=key)
            if index is not None:
                answers[index] = (response.status_code, json.loads(response.get_data()))
        except BaseException as exc:  # reported by the test, not lost in the thread
            failures.append(exc)

    opener = threading.Thread(target=send, args=(None, delivery(external_id="OPENER"), "opener"))
    opener.start()
    assert entered.wait(60)
    threads = [threading.Thread(target=send, args=(i, body, key)) for i, (body, key) in enumerate(sent)]
    for thread in threads:
        thread.start()
    batcher = tickets.batcher(app)
    deadline = time.monotonic() + 60
    while batcher.pending() < len(sent) and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    for thread in [opener, *threads]:
        thread.join(60)
    assert not failures, failures
    assert sizes == [1, len(sent)]
    assert all(a is not None for a in answers)
    return answers, sizes  # type: ignore[return-value]


def test_concurrent_deliveries_are_stored_together_each_once(app, client, session, erp, monkeypatch):
    sent = [(delivery(external_id=f"ERP-{i}"), f"key-{i}") for i in range(6)]
    answers, _ = in_one_batch(app, monkeypatch, sent)
    assert [status for status, _ in answers] == [201] * 6
    assert len({body["message_id"] for _, body in answers}) == 6
    assert count(session, Message) == 7 and count(session, IdempotentResponse) == 7
    again = post(client, delivery(external_id="ERP-3"), idem="key-3")  # a retry, answered from the store
    assert again.status_code == 201 and again.json == answers[3][1]
    assert count(session, Message) == 7


def test_the_same_key_twice_in_one_batch_makes_one_ticket(app, client, session, erp, monkeypatch):
    """The second copy gets the first's answer, as if it had come just after the first committed;
    that holds even when its body differs (a sender that changed it must use a new key)."""
    sent = [
        (delivery(external_id="ERP-1"), "same"),
        (delivery(external_id="ERP-1"), "same"),
        (delivery(external_id="ERP-2"), "same"),
        (delivery(external_id="ERP-3"), "other"),
    ]
    answers, _ = in_one_batch(app, monkeypatch, sent)
    assert answers[0] == answers[1] == answers[2] and answers[0][0] == 201
    assert answers[3][0] == 201 and answers[3][1]["message_id"] != answers[0][1]["message_id"]
    assert count(session, Message, Message.external_id.in_(["ERP-1", "ERP-2"])) == 1  # whichever queued first
    assert count(session, IdempotentResponse, IdempotentResponse.key == "same") == 1
    assert post(client, delivery(external_id="ERP-1"), idem="same").json == answers[0][1]


def test_same_message_without_keys_in_one_batch_is_one_ticket(app, session, erp, monkeypatch):
    answers, _ = in_one_batch(app, monkeypatch, [(delivery(), None), (delivery(), None)])
    assert sorted(status for status, _ in answers) == [200, 201]
    assert answers[0][1] == answers[1][1]
    assert count(session, Message, Message.external_id == "ERP-1001") == 1


def test_a_bad_body_in_a_batch_is_quarantined_and_the_rest_stored(app, client, session, erp, monkeypatch):
    sent = [
        (delivery(external_id="ERP-1"), "good-1"),
        (delivery(external_id="ERP-2", buyer={"email": "not an address"}), "bad-email"),
        (b"{not json", "bad-json"),
        (delivery(external_id="ERP-3", sent_at="2026-01-05T09:00:00"), None),
        (delivery(external_id="ERP-4"), "good-2"),
    ]
    answers, _ = in_one_batch(app, monkeypatch, sent)
    assert [status for status, _ in answers] == [201, 422, 422, 422, 201]
    assert [body["error"]["field"] for _, body in answers[1:4]] == ["buyer.email", None, "sent_at"]
    assert count(session, Message) == 3  # the opener and the two good ones
    kept = session.scalars(sa.select(QuarantinedInput).order_by(QuarantinedInput.id)).all()
    assert sorted(k.raw for k in kept) == sorted(body for body, _ in sent[1:4])
    again = post(client, delivery(external_id="ERP-2", buyer={"email": "not an address"}), idem="bad-email")
    assert again.status_code == 422 and again.json == answers[1][1]  # the key keeps the first answer


def test_a_failed_batch_answers_500_to_all_and_their_retries_succeed(app, client, session, erp, monkeypatch):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as served: the error becomes an answer

    def fails_after_writing(real: Any, session: Any, deliveries: Any) -> Any:
        real(session, deliveries)
        session.flush()
        raise RuntimeError("the disk filled up")

    sent = [(delivery(external_id=f"ERP-{i}"), f"key-{i}") for i in range(3)]
    sent.append((delivery(external_id="ERP-9", body=""), "bad"))
    answers, _ = in_one_batch(app, monkeypatch, sent, then=fails_after_writing)
    assert [status for status, _ in answers] == [500] * 4
    assert {body["error"]["code"] for _, body in answers} == {"internal_error"}
    assert all("send it again" in body["error"]["message"] for _, body in answers)
    assert count(session, Message) == 1 and count(session, IdempotentResponse) == 1  # the opener only
    assert count(session, QuarantinedInput) == 0
    retries = [post(client, body, idem=key) for body, key in sent]
    assert [r.status_code for r in retries] == [201, 201, 201, 422]
    assert count(session, Message) == 4 and count(session, IdempotentResponse) == 5


# --- the batcher alone ----------------------------------------------------------------------------


def test_a_lone_caller_runs_at_once_in_its_own_thread() -> None:
    seen: list[tuple[list[int], int]] = []

    def run(items: Sequence[int]) -> list[int]:
        seen.append((list(items), threading.get_ident()))
        return [i * 2 for i in items]

    group = GroupCommit(run)
    assert group.submit(21) == 42
    assert seen == [([21], threading.get_ident())]
    assert group.pending() == 0


def test_waiters_behind_a_batch_run_as_the_next_batch_and_errors_reach_every_caller() -> None:
    started, release = threading.Event(), threading.Event()
    batches: list[list[int]] = []

    def run(items: Sequence[int]) -> list[int]:
        batches.append(list(items))
        if len(batches) == 1:
            started.set()
            release.wait(10)
        if 13 in items:
            raise ValueError("unlucky")
        return [i + 1 for i in items]

    group = GroupCommit(run, limit=3)
    results: dict[int, object] = {}

    def call(i: int) -> None:
        try:
            results[i] = group.submit(i)
        except ValueError as exc:
            results[i] = exc

    first = threading.Thread(target=call, args=(0,))
    first.start()
    assert started.wait(10)
    others = [threading.Thread(target=call, args=(i,)) for i in (1, 2, 13, 4)]
    for thread in others:
        thread.start()
    deadline = time.monotonic() + 10
    while group.pending() < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert batches[0] == [0] and sorted(len(b) for b in batches[1:]) == [1, 3]  # ``limit`` caps a batch
    assert results[0] == 1
    failed = next(b for b in batches[1:] if 13 in b)
    for i in (1, 2, 13, 4):
        assert isinstance(results[i], ValueError) if i in failed else results[i] == i + 1
    assert group.pending() == 0
    assert group.submit(7) == 8  # leadership was handed back: a new lone caller leads


def test_an_account_disabled_while_its_deliveries_queue_refuses_them(app, session, erp, monkeypatch):
    """A request checks the signature with the secrets it knows; its batch confirms the account as stored then,
    in its own transaction: an account disabled in between stores nothing, not even the key."""
    from helpdesk.extensions import db

    def disable_then_store(real: Any, batch_session: Any, deliveries: Any) -> Any:
        with db.engine.begin() as conn:  # another process (the admin page, the CLI) disables it
            conn.execute(sa.update(type(erp).__table__).where(type(erp).__table__.c.id == erp.id).values(enabled=False))
        return real(batch_session, deliveries)

    sent = [(delivery(external_id=f"LATE-{n}"), f"late-{n}") for n in range(3)]
    answers, _ = in_one_batch(app, monkeypatch, sent, then=disable_then_store)
    assert [status for status, _ in answers] == [401, 401, 401]
    assert {body["error"]["code"] for _, body in answers} == {"unknown_key"}
    assert count(session, Message, Message.external_id.like("LATE-%")) == 0
    assert count(session, IdempotentResponse, IdempotentResponse.key.like("late-%")) == 0
