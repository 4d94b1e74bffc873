"""Two sweeps at once — a sweeper frozen past its lease and the one that took over — announce each clock once.

The sweep runs under a lease, but a lease only saves work: a holder that
froze (a long GC pause, a suspended VM) past its TTL finds another sweeping
beside it when it wakes, and an admin's ``helpdesk sla sweep`` is another.
Both read the same due clocks; only the one whose update changed a clock
may announce it, or the receivers of ``sla.breached`` hear it twice.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from channels.base import Party
from helpdesk.outbox.models import OutboxEvent
from helpdesk.sla import services
from tests.sla.test_engine import MON, amazon, run

__all__ = ["amazon"]


def _blocked_on_a_lock(session: Any) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return False
    with session.get_bind().connect() as conn:
        waiting = conn.exec_driver_sql("SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        return bool(waiting.scalar())


def _announced(session: Any, name: str) -> list[Any]:
    session.expire_all()
    rows = session.scalars(sa.select(OutboxEvent.payloads).where(OutboxEvent.name == name)).all()
    return [(p["ticket_id"], p["clock"]) for batch in rows for p in batch]


def test_two_sweeps_at_once_announce_each_breach_and_warning_once(
    app: Any, session: Any, make_message: Any, amazon: Any
) -> None:
    from helpdesk.extensions import db

    run(session, make_message(account="amz-us", channel="email", sent_at=MON, external_thread_id="a"))
    later = MON + timedelta(hours=7)
    buyer = Party(platform_id="buyer_2")
    run(session, make_message(account="amz-us", channel="email", sent_at=later, external_thread_id="b", sender=buyer))
    at = MON + timedelta(hours=25)  # the first clock is past due, the second past its warning
    first = services.sweep(session, at)
    session.flush()  # the first sweep marked both clocks and holds them until it commits
    assert (first.breached, first.warned) == (1, 1)
    outcome: dict[str, Any] = {}

    def second_sweep() -> None:
        with app.app_context(), Session(db.engine) as other:
            try:
                outcome["result"] = services.sweep(other, at)
                other.commit()
            except sa.exc.OperationalError as exc:  # SQLite: the later writer's snapshot is stale, it is refused
                outcome["refused"] = exc

    thread = threading.Thread(target=second_sweep)
    thread.start()
    deadline = time.monotonic() + 5
    while not _blocked_on_a_lock(session) and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.05)
    session.commit()
    thread.join(30)
    assert _announced(session, "sla.breached") == [(1, "first_response")]
    assert len(_announced(session, "sla.warning")) == 1
    if "result" in outcome:
        assert (outcome["result"].breached, outcome["result"].warned) == (0, 0)
