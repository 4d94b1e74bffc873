"""Webhook jobs: one listener for every event, one retried job per delivery."""

from __future__ import annotations

from typing import Any

from helpdesk.events import Payload, listen_batch
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


@listen_batch("*")
def _on_event(name: str, payloads: list[Payload]) -> None:
    wanted = services.subscribed_events(lambda: db.engine)
    if wanted and ("*" in wanted or name in wanted):
        for payload in payloads:
            fan_out_task(name, dict(payload))
