"""The outbox relay killed with SIGKILL mid-batch, then a worker started again: every event relayed once.

Events are outbox rows, one per event (as many transactions would write
them).  The relay runs as a worker runs it — its ``outbox:once`` lease (1 s
here) and small batches — and turns each event into a webhook delivery in
the transaction that moves its cursor.  After the kill the deliveries stored
are exactly the events the cursor passed.  The restarted worker waits for
the dead relay's lease to lapse, relays the rest, runs the delivery jobs the
dead one queued and the sweep for the ones it died before queueing; the
receiver on loopback then has seen each event exactly once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk.outbox.models import OutboxConsumer, OutboxEvent
from tests.faults.harness import (
    CHILD_LEASE_TTL_S,
    TRIALS,
    child_env,
    drain_queue,
    duplicates,
    engine_for,
    forked_work,
    hold,
    kill_at_progress,
    leases_held,
    scalar,
)
from tests.faults.receiver import Receiver

EVENTS = 16
BATCH = 2  # outbox rows a relay pass reads per transaction
WEBHOOKS = "webhooks"  # the once-only consumer that turns events into deliveries


def _write_events(engine: sa.Engine) -> None:
    """One ``ticket.created`` per row, as sixteen transactions of the desk would have written them, a while ago."""
    from helpdesk.db import utcnow

    written = utcnow() - timedelta(minutes=10)  # long enough unrelayed for health to say so
    rows = [
        {"name": "ticket.created", "payloads": [{"ticket_id": n, "channel_account_id": 1}], "created_at": written}
        for n in range(1, EVENTS + 1)
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(OutboxEvent), rows)


def _relay(*, hold_at_last: bool) -> Callable[[], int]:
    """A worker's relay pass in the child, in small batches with a short lease.

    With ``hold_at_last`` the webhook listener stops (until killed) inside
    the transaction of the batch that carries the last event: the kill lands
    before the relay's work is done, however fast the machine.
    """

    def work() -> int:
        from flask import current_app

        from helpdesk import events
        from helpdesk.outbox.relay import Relay

        if hold_at_last:
            names, listener = events.once_listeners[WEBHOOKS]

            def held(session: Any, name: str, payloads: list[Any]) -> Any:
                after = listener(session, name, payloads)
                if any(p.get("ticket_id") == EVENTS for p in payloads):
                    hold()
                return after

            events.once_listeners[WEBHOOKS] = (names, held)
        relay = Relay(current_app._get_current_object(), batch=BATCH, lease_ttl=timedelta(seconds=CHILD_LEASE_TTL_S))
        relay.run_once()
        return 0

    return work


def _restarted_worker() -> int:
    """What a restarted worker does: relay once the dead relay's lease lapsed, then send what is queued or stranded."""
    from flask import current_app

    from helpdesk import tasks
    from helpdesk.extensions import db
    from helpdesk.outbox import store
    from helpdesk.outbox.relay import Relay
    from helpdesk.webhooks.tasks import requeue_stranded

    tasks.TASK_LEASE_TTL = timedelta(seconds=CHILD_LEASE_TTL_S)
    relay = Relay(current_app._get_current_object(), lease_ttl=timedelta(seconds=CHILD_LEASE_TTL_S))
    deadline = time.monotonic() + CHILD_LEASE_TTL_S + 10
    while True:
        with db.engine.connect() as conn:
            if store.positions(conn).get(WEBHOOKS, 0) >= store.end(conn):
                break
        if time.monotonic() > deadline:
            return 3  # the dead relay's lease never lapsed
        relay.run_once()
        time.sleep(0.05)
    drain_queue()  # the jobs the dead relay queued after its commits
    requeue_stranded(timedelta(0))  # and the ones it died before queueing (the sweep, without its 10 minutes)
    drain_queue()
    return 0


def _position(engine: sa.Engine, consumer: str) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(OutboxConsumer.position).where(OutboxConsumer.name == consumer)) or 0)


@pytest.mark.parametrize("seed", range(TRIALS))
def test_a_relay_killed_mid_batch_and_restarted_relays_each_event_once(
    app: Any, subscribed: Receiver, database_url: str, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    env = child_env(database_url, tmp_path / "worker")
    with engine_for(database_url) as engine:
        _write_events(engine)
        target = rng.randint(0, EVENTS - 2 * BATCH)
        kill = kill_at_progress(
            forked_work(env, _relay(hold_at_last=True)),
            lambda: scalar(engine, "SELECT COUNT(*) FROM webhook_delivery"),
            target,
            rng,
        )
        assert kill.killed, f"the relay ended before its kill: {kill}"

        # the deliveries stored are exactly the events the cursor passed: moved together or not at all
        passed = _position(engine, WEBHOOKS)
        with engine.connect() as conn:
            ids = conn.execute(sa.select(OutboxEvent.id).where(OutboxEvent.id <= passed)).scalars().all()
            stored = conn.exec_driver_sql("SELECT ticket_id FROM webhook_delivery").scalars().all()
        assert sorted(stored) == list(range(1, len(ids) + 1)), (passed, stored)
        assert len(stored) < EVENTS  # it really was cut short
        health = app.test_client().get("/health").json  # the relay is dead: events are waiting, and health says so
        assert health["status"] == "degraded" and health["outbox"]["behind_s"] >= 600, health

        restarted = forked_work(env, _restarted_worker, paused=False)
        restarted.join(120)
        assert restarted.exitcode == 0

        # each event reached the receiver once: one delivery, one POST
        assert subscribed.by_event() == {("ticket.created", n): 1 for n in range(1, EVENTS + 1)}
        assert all(n == 1 for n in subscribed.by_delivery().values())
        assert duplicates(engine, "webhook_delivery", "ticket_id") == []
        assert scalar(engine, "SELECT COUNT(*) FROM webhook_delivery WHERE status = 'delivered'") == EVENTS
        with engine.connect() as conn:
            end = conn.scalar(sa.select(sa.func.max(OutboxEvent.id)))
            positions = dict(conn.execute(sa.select(OutboxConsumer.name, OutboxConsumer.position)).all())
        assert positions and all(p == end for p in positions.values()), positions  # every once-only listener
        assert leases_held(engine) == []
        assert app.test_client().get("/health").json["outbox"] == {"behind_s": 0}
        assert app.test_client().get("/health").json["status"] == "ok"
