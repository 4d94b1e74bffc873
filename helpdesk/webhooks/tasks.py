"""Webhook jobs: one once-only listener for every event, one retried job per delivery.

The listener runs in the outbox relay's transaction: the delivery rows and
the relay's cursor commit together, so each event becomes exactly one
delivery per subscription, however many processes relay and whenever one
dies.  The POSTs are jobs queued after that commit; a sweep queues again
any delivery whose job was lost between the commit and the queue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from huey import crontab
from sqlalchemy.orm import Session

from helpdesk.events import Payload, listen_once
from helpdesk.extensions import db
from helpdesk.tasks import huey, in_app, task, task_lease
from helpdesk.webhooks import services

#: A delivery still unattempted this long after its row was written lost its job (jobs start within seconds).
STRANDED_AFTER = timedelta(minutes=10)


@task()
def deliver_task(delivery_id: int) -> None:
    # Two jobs for one delivery (the sweep's and a late original) never POST at once; the later one
    # finds it delivered and stops.  The back-off is ours (retries.backoff: growing, jittered, given up
    # after a day), not the queue's fixed delay, so a failure schedules the next attempt itself.
    # A delivery that no longer holds its ticket's queue (delivered, given up, refused) lets the next
    # delivery of that ticket go now, after the commit that its job will read.
    with task_lease(f"webhook-delivery:{delivery_id}"):
        try:
            services.deliver(db.session, delivery_id, checkpoint=db.session.commit)
        except services.DeliveryFailed as exc:
            if exc.retry_in is not None:
                db.session.commit()  # keep the attempt on record before the next one is scheduled
                deliver_task.schedule(args=(delivery_id,), delay=exc.retry_in)
                return
        released = services.released_by(db.session, delivery_id)
        db.session.commit()
    if released is not None:
        deliver_task(released)


@task(retries=2, retry_delay=10)
def fan_out_task(event: str, payload: dict[str, Any]) -> list[int]:
    ids = services.queue_deliveries(db.session, event, payload)
    db.session.commit()
    for delivery_id in ids:
        deliver_task(delivery_id)
    return ids


@listen_once("webhooks", "*")
def _on_events(session: Session, name: str, payloads: list[Payload]) -> Callable[[], None] | None:
    wanted = services.subscribed_events(session.connection)  # the relay's own: it holds the write lock
    if not wanted or ("*" not in wanted and name not in wanted):
        return None  # the common case: nobody subscribed, no query
    ids = services.queue_batch(session, name, payloads)
    if not ids:
        return None

    def send() -> None:
        for delivery_id in ids:
            deliver_task(delivery_id)

    return send


def requeue_stranded(older_than: timedelta = STRANDED_AFTER) -> int:
    """Queue a job for every delivery whose job was lost; how many."""
    ids = services.stranded(db.session, older_than)
    db.session.rollback()  # only read: end the transaction before the jobs (inline in tests) write
    for delivery_id in ids:
        deliver_task(delivery_id)
    return len(ids)


@huey.periodic_task(crontab(minute="*/10"))
def requeue_stranded_task() -> None:
    in_app(requeue_stranded)
