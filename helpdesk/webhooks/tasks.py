"""Webhook jobs: one once-only listener for every event, one retried job per delivery.

The listener runs in the outbox relay's transaction: the delivery rows and
the relay's cursor commit together, so each event becomes exactly one
delivery per subscription, however many processes relay and whenever one
dies.  The POSTs are jobs queued after that commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from helpdesk.events import Payload, listen_once
from helpdesk.extensions import db
from helpdesk.tasks import task
from helpdesk.webhooks import services


@task(retries=6, retry_delay=30)
def deliver_task(delivery_id: int) -> None:
    try:
        services.deliver(db.session, delivery_id)
    except services.DeliveryFailed:
        db.session.commit()  # keep the attempt on record before the queue retries
        raise


@task(retries=2, retry_delay=10)
def fan_out_task(event: str, payload: dict[str, Any]) -> list[int]:
    ids = services.queue_deliveries(db.session, event, payload)
    db.session.commit()
    for delivery_id in ids:
        deliver_task(delivery_id)
    return ids


@listen_once("webhooks", "*")
def _on_events(session: Session, name: str, payloads: list[Payload]) -> Callable[[], None] | None:
    wanted = services.subscribed_events(lambda: db.engine)
    if not wanted or ("*" not in wanted and name not in wanted):
        return None  # the common case: nobody subscribed, no query
    ids = services.queue_batch(session, name, payloads)
    if not ids:
        return None

    def send() -> None:
        for delivery_id in ids:
            deliver_task(delivery_id)

    return send
