"""Retries wait longer each time (jittered), every event arrives once, and an endpoint down for a day is disabled.

Time is moved through ``deliver``'s clock: a simulated day passes in a
second.  The scheduler here plays the task queue: it runs each delivery when
the ``retry_in`` the previous failure asked for has passed.
"""

from __future__ import annotations

import heapq
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk.audit.models import AuditEvent
from helpdesk.tasks import huey
from helpdesk.webhooks import retries, services
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription
from helpdesk.webhooks.tasks import deliver_task

SECRET_ENV = "HELPDESK_TEST_WEBHOOK_SECRET"


@dataclass
class Receiver:
    url: str = ""
    fail_first: int = 0  # answer 503 to this many calls, then 200; -1: always 503
    calls: int = 0
    accepted: list[int] = field(default_factory=list)  # delivery ids answered 200


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    boxes = (Receiver(), Receiver())
    servers = []
    for box in boxes:

        class Handler(BaseHTTPRequestHandler):
            target = box

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                me = self.target
                me.calls += 1
                ok = me.fail_first >= 0 and me.calls > me.fail_first
                if ok:
                    me.accepted.append(body["delivery_id"])
                self.send_response(200 if ok else 503)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        box.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    yield boxes
    for server in servers:
        server.shutdown()
        server.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _subscribe(session: Any, name: str, url: str) -> WebhookSubscription:
    sub = WebhookSubscription(name=name, url=url, secret_env=SECRET_ENV, events=["*"])
    session.add(sub)
    session.commit()
    return sub


def _run(session: Any, clock: Clock, queue: list[tuple[float, int]], until: float) -> list[float]:
    """Run due deliveries in time order up to ``until`` (simulated); the delays the failures asked for."""
    delays = []
    while queue and queue[0][0] <= until:
        due, delivery_id = heapq.heappop(queue)
        clock.now = max(clock.now, due)
        try:
            services.deliver(session, delivery_id, clock=clock)
        except services.DeliveryFailed as exc:
            if exc.retry_in is not None:
                delays.append(exc.retry_in)
                heapq.heappush(queue, (clock.now + exc.retry_in, delivery_id))
        session.commit()
    clock.now = max(clock.now, until)
    return delays


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(SECRET_ENV, "s3cret")
    services.forget_cache()
    yield
    services.forget_cache()


def test_backoff_doubles_from_ten_seconds_with_twenty_percent_jitter_and_a_cap() -> None:
    low, high = (lambda: 0.0), (lambda: 1.0 - 1e-12)
    assert [round(retries.backoff(n, lambda: 0.5)) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert retries.backoff(1, low) == pytest.approx(8.0) and retries.backoff(1, high) == pytest.approx(12.0)
    assert retries.backoff(30, lambda: 0.5) == retries.MAX_DELAY_S  # capped, 2^29 × 10 s would be 170 years
    spread = {round(retries.backoff(5), 3) for _ in range(50)}
    assert len(spread) > 10 and all(128 <= d <= 192 for d in spread)  # 160 s ± 20 %, not all the same


def test_a_receiver_failing_the_first_attempts_gets_each_event_once(
    session: Any, receivers: tuple[Receiver, Receiver]
) -> None:
    flaky, _ = receivers
    flaky.fail_first = 5
    _subscribe(session, "flaky", flaky.url)
    clock = Clock()
    ids = [services.queue_deliveries(session, "ticket.created", {"ticket_id": n})[0] for n in (1, 2, 3)]
    session.commit()
    queue = [(clock.now, i) for i in ids]
    heapq.heapify(queue)
    delays = _run(session, clock, queue, until=clock.now + 3600)
    assert sorted(flaky.accepted) == ids  # every event accepted exactly once
    assert flaky.calls == 5 + 3 and queue == []
    # the waits grew: two deliveries failed twice, one once, in a run of 5 failures
    assert len(delays) == 5 and all(8 <= d <= 12 for d in delays[:3]) and all(16 <= d <= 24 for d in delays[3:])
    session.expire_all()
    rows = session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert [(d.status, d.next_attempt_at) for d in rows] == [("delivered", None)] * 3
    assert sum(d.attempts for d in rows) == 8
    sub = session.scalars(sa.select(WebhookSubscription)).one()
    assert sub.active and sub.failing_since is None


def test_an_endpoint_down_for_a_day_is_disabled_and_others_keep_receiving(
    app: Any, session: Any, receivers: tuple[Receiver, Receiver]
) -> None:
    down, up = receivers
    down.fail_first = -1
    _subscribe(session, "down", down.url)
    _subscribe(session, "up", up.url)
    clock = Clock()
    start = clock.now
    queue: list[tuple[float, int]] = []
    for hour in range(30):  # an event every hour for 30 hours
        _run(session, clock, queue, until=start + hour * 3600)
        for delivery_id in services.queue_deliveries(session, "ticket.created", {"hour": hour}):
            heapq.heappush(queue, (clock.now, delivery_id))
        session.commit()
    _run(session, clock, queue, until=start + 40 * 3600)
    session.expire_all()
    by_name = {s.name: s for s in session.scalars(sa.select(WebhookSubscription))}
    assert not by_name["down"].active
    disabled_after = by_name["down"].auto_disabled_at.timestamp() - start
    assert 24 * 3600 - 1 <= disabled_after <= 24 * 3600 + 6 * 3600 * 1.2  # at the first failure after a day (PG: µs)
    assert by_name["up"].active and by_name["up"].auto_disabled_at is None
    assert len(up.accepted) == 30  # the healthy endpoint got every event, on time, throughout
    calls_when_disabled = down.calls
    # nothing more is sent to the disabled one, and nothing is left waiting to be retried
    delivery_id = services.queue_deliveries(session, "ticket.created", {"late": True})
    assert len(delivery_id) == 1  # only "up" is still subscribed
    pending = session.scalars(
        sa.select(WebhookDelivery).where(
            WebhookDelivery.subscription_id == by_name["down"].id, WebhookDelivery.next_attempt_at.is_not(None)
        )
    ).all()
    assert pending == [] and down.calls == calls_when_disabled
    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "webhook.auto_disabled")).one()
    assert event.actor_type == "system" and event.data["name"] == "down"
    listing = app.test_cli_runner().invoke(args=["helpdesk", "webhooks", "list"])
    assert "after 24 h of failures" in listing.output.splitlines()[0]  # "down" sorts first
    # an admin enabling it again starts a fresh 24-hour count
    from helpdesk.webhooks.subscriptions import set_active

    set_active(session, None, by_name["down"], True)
    assert by_name["down"].failing_since is None and by_name["down"].auto_disabled_at is None


def test_a_failing_job_schedules_its_own_retry(session: Any, receivers: tuple[Receiver, Receiver]) -> None:
    down, _ = receivers
    down.fail_first = -1
    _subscribe(session, "down", down.url)
    [delivery_id] = services.queue_deliveries(session, "ticket.created", {"ticket_id": 1})
    session.commit()
    before = len(huey.scheduled())
    deliver_task(delivery_id)  # inline in tests: fails, and asks the queue to run it again later
    assert down.calls == 1
    assert len(huey.scheduled()) == before + 1
    session.expire_all()
    delivery = session.get(WebhookDelivery, delivery_id)
    wait = delivery.next_attempt_at - delivery.created_at
    assert timedelta(seconds=7) <= wait <= timedelta(seconds=15)
    huey.storage.flush_schedule()
