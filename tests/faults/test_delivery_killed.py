"""A worker killed with SIGKILL while it delivers webhooks, then started again, against a real receiver.

The worker runs its queued delivery jobs one after the other (each under its
delivery's task lease, 1 s here) and is killed at a random point: before a
POST, while the receiver reads it, while it waits for the answer, or after
the answer and before its commit.  The receiver on loopback holds the last
delivery's answer, so the worker is still at work when the kill lands.

After the restart — the queued jobs, then the stranded-delivery sweep for the
ones whose job died with the worker — every delivery is delivered.  What a
receiver sees, and what docs/reliability.md promises: each event at least
once, and when twice, with the same ``X-Helpdesk-Delivery``.  The delivery
log is truthful: every POST the receiver saw is an attempt on record, and a
call cut off by the kill says so.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk.webhooks.services import NO_ANSWER
from tests.faults.harness import (
    CHILD_LEASE_TTL_S,
    TRIALS,
    child_env,
    drain_queue,
    engine_for,
    forked_work,
    kill_at_progress,
    leases_held,
    restart,
    scalar,
)
from tests.faults.receiver import Receiver

DELIVERIES = 10


def _pending_deliveries(session: Any) -> list[int]:
    """One pending delivery per event, each about its own ticket (so none waits for another)."""
    from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription

    sub = session.scalars(sa.select(WebhookSubscription)).one()
    rows = [
        WebhookDelivery(subscription_id=sub.id, event="ticket.created", payload={"ticket_id": n}, ticket_id=n)
        for n in range(1, DELIVERIES + 1)
    ]
    session.add_all(rows)
    session.commit()
    return [row.id for row in rows]


def _worker(ids: list[int]) -> int:
    """The doomed worker: the relay queued a job per delivery; its consumer runs them, one by one."""
    from helpdesk import tasks
    from helpdesk.webhooks import services
    from helpdesk.webhooks.tasks import deliver_task

    tasks.TASK_LEASE_TTL = timedelta(seconds=CHILD_LEASE_TTL_S)
    services.TIMEOUT_S = 120  # the held call must not time out before its kill, however slow the machine
    for delivery_id in ids:
        deliver_task(delivery_id)
    drain_queue()
    return 0


def _restarted_worker() -> int:
    """The restarted worker: the jobs still queued, then the sweep until every delivery is sent (leases lapse)."""
    from helpdesk import tasks
    from helpdesk.extensions import db
    from helpdesk.webhooks.tasks import requeue_stranded

    tasks.TASK_LEASE_TTL = timedelta(seconds=CHILD_LEASE_TTL_S)
    deadline = time.monotonic() + CHILD_LEASE_TTL_S + 10
    drain_queue()
    while db.session.scalar(sa.text("SELECT COUNT(*) FROM webhook_delivery WHERE status <> 'delivered'")):
        db.session.rollback()
        if time.monotonic() > deadline:
            return 3  # a delivery stayed stuck
        requeue_stranded(timedelta(0))  # the sweep, without its ten minutes
        drain_queue()
        time.sleep(0.1)
    return 0


@pytest.mark.parametrize("seed", range(TRIALS))
def test_a_worker_killed_while_delivering_and_restarted_delivers_each_event(
    app: Any, session: Any, subscribed: Receiver, database_url: str, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    ids = _pending_deliveries(session)
    subscribed.held = ids[-1]
    env = child_env(database_url, tmp_path / "worker")
    with engine_for(database_url) as engine:
        target = rng.randint(0, DELIVERIES - 2)
        kill = kill_at_progress(forked_work(env, lambda: _worker(ids)), subscribed.count, target, rng)
        assert kill.killed, f"the worker ended before its kill: {kill}"
        subscribed.release.set()

        # nothing is on record as delivered that the receiver did not get
        with engine.connect() as conn:
            sql = "SELECT id FROM webhook_delivery WHERE status = 'delivered'"
            delivered = set(conn.exec_driver_sql(sql).scalars())
        assert delivered <= set(subscribed.by_delivery()), delivered
        assert len(delivered) < DELIVERIES  # it really was cut short

        assert restart(env, _restarted_worker) == 0

        assert scalar(engine, "SELECT COUNT(*) FROM webhook_delivery WHERE status = 'delivered'") == DELIVERIES
        # each event arrived, and every copy of an event carried the same delivery id
        seen = subscribed.by_delivery()
        assert set(seen) == set(ids)
        events = {}
        for delivery, event, ticket in subscribed.calls:
            assert events.setdefault((event, ticket), delivery) == delivery
        assert len(events) == DELIVERIES
        # at most the delivery in flight at the kill arrived twice
        assert sum(n - 1 for n in seen.values()) <= 1, seen
        # the log is truthful: an attempt on record for every POST that arrived, the cut-off one named as such
        with engine.connect() as conn:
            attempts = dict(
                conn.exec_driver_sql("SELECT delivery_id, COUNT(*) FROM webhook_attempt GROUP BY delivery_id").all()
            )
            counts = dict(conn.exec_driver_sql("SELECT id, attempts FROM webhook_delivery").all())
            outcomes = conn.exec_driver_sql("SELECT response_status, error FROM webhook_attempt").all()
        for delivery, posts in seen.items():
            assert attempts.get(delivery) == counts[delivery] >= posts, (delivery, posts, attempts, counts)
        assert all(status is not None or error for status, error in outcomes)  # answered, or why not
        assert sum(error == NO_ANSWER for _, error in outcomes) <= 1  # the call the kill cut off, if any
        assert leases_held(engine) == []
