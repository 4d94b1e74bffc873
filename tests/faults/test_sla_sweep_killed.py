"""The SLA sweep killed with SIGKILL mid-sweep, then run again: each breach and warning recorded once.

The sweep runs as the worker's minutely task runs it — under its
``sla-sweep`` task lease (1 s here) — in chunks of a few clocks, each chunk
one transaction that marks its clocks and writes their events.  The last
chunk is held before its commit, so the kill lands mid-sweep.  After the
kill, the events in the outbox are exactly those of the clocks marked.  The
restart waits for the dead sweeper's lease, marks the rest; relayed, every
breach and warning is one event and one notification to the assignee.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from channels.base import Party
from tests.faults.harness import (
    TRIALS,
    child_env,
    engine_for,
    events,
    forked_work,
    hold,
    kill_at_progress,
    leases_held,
    restart,
    scalar,
    under_task_lease,
)

BREACHED = 10
WARNED = 3
CHUNK = 2  # clocks a sweep transaction marks; (BREACHED + WARNED) % CHUNK != 0, so the last chunk is a short one
MARKED = "SELECT COUNT(*) FROM sla_clock WHERE breached_at IS NOT NULL OR warned_at IS NOT NULL"


def _due_clocks(session: Any, make_account: Any, make_message: Any, make_user: Any) -> None:
    """Tickets with one running response clock each: some past due, some past their warning; an admin assigned."""
    from helpdesk.db import utcnow
    from helpdesk.ingest.pipeline import ingest
    from helpdesk.sla.models import SlaClock
    from helpdesk.sla.policies import seed_defaults
    from helpdesk.tickets.models import Ticket

    seed_defaults(session)
    make_account()
    now = utcnow()
    agent = make_user(role="admin")
    buyers = BREACHED + WARNED
    sent = now - timedelta(minutes=5)
    messages = [make_message(sender=Party(platform_id=f"buyer-{n}"), sent_at=sent) for n in range(buyers)]
    ingest(session, messages, source="test")
    session.commit()
    session.execute(sa.update(Ticket).values(assignee_id=agent.id))
    clocks = session.scalars(sa.select(SlaClock.id).where(SlaClock.status == "running").order_by(SlaClock.id)).all()
    assert len(clocks) >= buyers
    past_due = {"due_at": now - timedelta(hours=1), "warning_at": now - timedelta(hours=2)}
    warning = {"due_at": now + timedelta(hours=1), "warning_at": now - timedelta(minutes=1)}
    for n, clock_id in enumerate(clocks):
        values = past_due if n < BREACHED else warning if n < buyers else {"due_at": now + timedelta(days=1)}
        values = {**values, "next_check_at": values.get("warning_at", now + timedelta(days=1))}
        session.execute(sa.update(SlaClock).where(SlaClock.id == clock_id).values(**values))
    session.commit()


def _sweep(*, hold_last_chunk: bool) -> int:
    """The worker's sweep under its task lease, in chunks of ``CHUNK`` clocks; the last one held if asked."""
    from helpdesk.extensions import db
    from helpdesk.sla import services

    if hold_last_chunk:
        chunk = services.sweep

        def held(*args: Any, **kwargs: Any) -> Any:
            result = chunk(*args, **kwargs)
            if not result.more:
                hold()
            return result

        services.sweep = held  # type: ignore[assignment]

    def sweep() -> int:
        services.sweep_all(db.session, limit=CHUNK)
        return 0

    return under_task_lease("sla-sweep", sweep)


def _announced(engine: sa.Engine) -> list[tuple[str, int, str]]:
    return sorted(
        (name, int(p["ticket_id"]), str(p["clock"]))
        for name in ("sla.breached", "sla.warning")
        for p in events(engine, name)
    )


@pytest.mark.parametrize("seed", range(TRIALS))
def test_a_sweep_killed_mid_way_and_run_again_records_each_breach_once(
    app: Any,
    session: Any,
    make_account: Any,
    make_message: Any,
    make_user: Any,
    database_url: str,
    tmp_path: Path,
    seed: int,
) -> None:
    from helpdesk.outbox.relay import relay_for

    rng = random.Random(seed)
    _due_clocks(session, make_account, make_message, make_user)
    env = child_env(database_url, tmp_path / "worker")
    with engine_for(database_url) as engine:
        target = rng.randint(0, BREACHED + WARNED - 2 * CHUNK)
        kill = kill_at_progress(
            forked_work(env, lambda: _sweep(hold_last_chunk=True)), lambda: scalar(engine, MARKED), target, rng
        )
        assert kill.killed, f"the sweep ended before its kill: {kill}"

        # the events written are exactly those of the clocks marked: one transaction, or none
        with engine.connect() as conn:
            marked = conn.exec_driver_sql(
                "SELECT CASE WHEN breached_at IS NOT NULL THEN 'sla.breached' ELSE 'sla.warning' END, ticket_id, kind"
                " FROM sla_clock WHERE breached_at IS NOT NULL OR warned_at IS NOT NULL"
            ).all()
        assert _announced(engine) == sorted((name, int(t), str(k)) for name, t, k in marked)
        assert len(marked) < BREACHED + WARNED  # it really was cut short

        assert restart(env, lambda: _sweep(hold_last_chunk=False)) == 0  # skipped while the dead one's lease lives
        relay_for(app).run_once()  # the once-only listeners: notifications (webhooks: none subscribed)

        announced = _announced(engine)
        assert len(announced) == len(set(announced)) == BREACHED + WARNED  # each clock once
        assert [name for name, _, _ in announced].count("sla.breached") == BREACHED
        assert scalar(engine, "SELECT COUNT(*) FROM sla_clock WHERE status = 'breached'") == BREACHED
        assert scalar(engine, "SELECT COUNT(*) FROM sla_clock WHERE warned_at IS NOT NULL") == WARNED
        notified = scalar(engine, "SELECT COUNT(*) FROM notification WHERE kind IN ('sla_breached', 'sla_warning')")
        assert notified == BREACHED + WARNED  # one notification per breach and per warning, none lost
        assert leases_held(engine) == []
