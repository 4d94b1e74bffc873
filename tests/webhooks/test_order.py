"""An endpoint receives one ticket's events in order, retries included; other tickets' events are not held up.

The deliveries go through the real job (``deliver_task``, inline in tests)
to a loopback receiver.  Retries the jobs schedule are run by the test when
they fall due, with the clock moved there by time-machine, so a day of
back-off passes in a second.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine

from helpdesk.tasks import huey
from helpdesk.webhooks import services
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription
from helpdesk.webhooks.tasks import deliver_task, requeue_stranded
from tests.web import fresh_globals_per_request, login

__all__ = ["fresh_globals_per_request"]

SECRET_ENV = "HELPDESK_TEST_WEBHOOK_SECRET"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@dataclass
class Receiver:
    """Answers 503 to the first ``fail_first[ticket]`` calls about a ticket, and always to ``refuse`` events."""

    url: str = ""
    fail_first: dict[int | None, int] = field(default_factory=dict)
    refuse: set[str] = field(default_factory=set)
    calls: dict[int | None, int] = field(default_factory=dict)
    accepted: list[tuple[int | None, str]] = field(default_factory=list)  # (ticket, event's "seq") answered 200


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    box = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["data"]
            ticket = data.get("ticket_id")
            box.calls[ticket] = box.calls.get(ticket, 0) + 1
            ok = box.calls[ticket] > box.fail_first.get(ticket, 0) and data["seq"] not in box.refuse
            if ok:
                box.accepted.append((ticket, data["seq"]))
            self.send_response(200 if ok else 503)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv(SECRET_ENV, "s3cret")
    services.forget_cache()
    huey.storage.flush_schedule()
    yield box
    huey.storage.flush_schedule()
    services.forget_cache()
    server.shutdown()
    server.server_close()


def _subscribe(session: Any, url: str) -> WebhookSubscription:
    sub = WebhookSubscription(name="erp", url=url, secret_env=SECRET_ENV, events=["*"])
    session.add(sub)
    session.commit()
    return sub


def _send(session: Any, events: list[tuple[int | None, str]]) -> list[int]:
    """Queue one delivery per (ticket, seq) in that order and start their jobs, as the outbox listener does."""
    ids = services.queue_batch(session, "ticket.updated", [{"ticket_id": t, "seq": s} for t, s in events])
    session.commit()
    for delivery_id in ids:
        deliver_task(delivery_id)
    return ids


def _run_retries(traveller: Any, until: datetime) -> int:
    """Run every retry the jobs scheduled, in time order, moving the clock to each; how many ran."""
    ran = 0
    while True:
        due = sorted(huey.scheduled(), key=lambda t: t.eta)
        if not due or due[0].eta.replace(tzinfo=UTC) > until:
            return ran
        traveller.move_to(max(due[0].eta.replace(tzinfo=UTC), datetime.now(UTC)))
        for task in huey.read_schedule(due[0].eta):
            huey.execute(task)
            ran += 1


def _statuses(session: Any) -> list[tuple[str, int]]:
    session.expire_all()
    rows = session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id))
    return [(d.status, d.attempts) for d in rows]


def test_one_tickets_events_arrive_once_and_in_order_after_retries_while_other_tickets_go_on(
    app: Any, session: Any, receiver: Receiver, make_user: Any
) -> None:
    receiver.fail_first = {1: 3}  # ticket 1's first three calls fail; ticket 2 and ticket-less events never do
    sub = _subscribe(session, receiver.url)
    events = [(1, "1a"), (2, "2a"), (1, "1b"), (None, "x"), (2, "2b"), (1, "1c"), (2, "2c")]
    with time_machine.travel(START, tick=False) as traveller:
        ids = _send(session, events)
        # at once: ticket 2 and the ticket-less event went through; 1b and 1c wait behind the failing 1a, unsent
        assert [seq for ticket, seq in receiver.accepted if ticket == 2] == ["2a", "2b", "2c"]
        assert (None, "x") in receiver.accepted and len(receiver.accepted) == 4
        assert receiver.calls[1] == 1
        assert [s for s, _ in _statuses(session)] == [
            "failed",
            "delivered",
            "waiting",
            "delivered",
            "delivered",
            "waiting",
            "delivered",
        ]
        assert services.released_by(session, ids[0]) is None  # 1a, with a retry due, still holds the line
        # the admin page says why they have not gone
        client = app.test_client()
        login(client, make_user("admin@example.test", role="admin"))
        page = client.get(f"/admin/webhooks/{sub.id}").get_data(as_text=True)
        assert page.count("waiting its turn") == 2
        assert "Sent once the older deliveries about ticket #1 have arrived or been given up." in page
        retries = _run_retries(traveller, START + timedelta(hours=1))
    assert [seq for ticket, seq in receiver.accepted if ticket == 1] == ["1a", "1b", "1c"]
    assert receiver.calls[1] == 3 + 3  # three failures of 1a, then each of ticket 1's events once
    assert retries == 3  # only 1a was retried; 1b and 1c were released at once when 1a got through
    assert _statuses(session) == [
        ("delivered", 4),
        ("delivered", 1),
        ("delivered", 1),
        ("delivered", 1),
        ("delivered", 1),
        ("delivered", 1),
        ("delivered", 1),
    ]


def test_a_given_up_delivery_lets_the_next_of_its_ticket_go(session: Any, receiver: Receiver) -> None:
    receiver.refuse = {"1a"}  # the receiver chokes on this one event, answering others
    _subscribe(session, receiver.url)
    with time_machine.travel(START, tick=False) as traveller:
        first, second = _send(session, [(1, "1a"), (1, "1b")])
        released_at = None
        for hour in range(1, 37):  # other tickets' events succeed now and then: the endpoint is not disabled
            _run_retries(traveller, START + timedelta(hours=hour))
            traveller.move_to(START + timedelta(hours=hour))
            if hour % 4 == 0:
                _send(session, [(100 + hour, "other")])
            if released_at is None and (1, "1b") in receiver.accepted:
                released_at = hour
        assert _run_retries(traveller, START + timedelta(days=3)) == 0
    # 1b waited while 1a was retried, and went out with the first failure of 1a past a day (retries are ≤ 7.2 h apart)
    assert released_at is not None and 24 <= released_at <= 32
    assert receiver.accepted.count((1, "1b")) == 1 and (1, "1a") not in receiver.accepted
    session.expire_all()
    given_up, delivered = session.get(WebhookDelivery, first), session.get(WebhookDelivery, second)
    assert (given_up.status, given_up.next_attempt_at) == ("failed", None)
    assert delivered.status == "delivered" and delivered.attempts == 1
    assert session.scalars(sa.select(WebhookSubscription)).one().active


def test_a_disabled_endpoint_fails_the_waiting_deliveries_without_calling_and_a_sweep_leaves_waiters_alone(
    session: Any, receiver: Receiver
) -> None:
    receiver.fail_first = {1: 10_000}
    sub = _subscribe(session, receiver.url)
    with time_machine.travel(START, tick=False) as traveller:
        ids = _send(session, [(1, "1a"), (1, "1b"), (1, "1c")])
        _run_retries(traveller, START + timedelta(hours=1))
        traveller.move_to(START + timedelta(hours=1))
        # the sweep requeues lost jobs, not deliveries waiting their turn (1b and 1c have no job on purpose)
        assert services.stranded(session, timedelta(minutes=10)) == []
        session.rollback()
        _run_retries(traveller, START + timedelta(days=2))
        session.expire_all()
        assert not session.get(WebhookSubscription, sub.id).active
        assert receiver.calls[1] > 10  # 1a, retried for a day
        assert receiver.accepted == []
        # disabling released the line: the waiting ones failed at once, without a call, for an admin to retry
        rows = [session.get(WebhookDelivery, i) for i in ids]
        assert [(d.status, d.attempts, d.next_attempt_at) for d in rows[1:]] == [("failed", 0, None)] * 2
        assert "disabled" in rows[1].last_error
        assert requeue_stranded() == 0
