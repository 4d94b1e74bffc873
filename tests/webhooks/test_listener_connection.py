"""The webhooks' once-only listener runs inside the relay's write transaction and must not ask the pool for more."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session


def test_the_listener_reads_subscriptions_on_the_relays_own_connection(app: Any, session: Any) -> None:
    """On a busy server every pooled connection can belong to a request waiting for the relay's write lock
    (SQLite): a listener that then waited for a second connection stopped everything until the pool's
    timeout."""
    from helpdesk.extensions import db
    from helpdesk.webhooks import services
    from helpdesk.webhooks.tasks import _on_events

    session.close()
    services.forget_cache()  # stale: the listener reads the subscriptions
    state = {"out": 0, "peak": 0}

    def checkout(*_: Any) -> None:
        state["out"] += 1
        state["peak"] = max(state["peak"], state["out"])

    def checkin(*_: Any) -> None:
        state["out"] -= 1

    sa.event.listen(db.engine, "checkout", checkout)
    sa.event.listen(db.engine, "checkin", checkin)
    try:
        with Session(db.engine) as relay_session, relay_session.begin():
            relay_session.connection()
            assert _on_events(relay_session, "ticket.created", [{"ticket_id": 1}]) is None  # nobody subscribed
    finally:
        services.forget_cache()
    assert state["peak"] == 1
