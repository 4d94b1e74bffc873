"""Background jobs of the customers feature."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from helpdesk.customers.services import suggest_merges
from helpdesk.events import Payload, listen_once
from helpdesk.extensions import db
from helpdesk.tasks import task

JOB_SIZE = 1000


@task(retries=2, retry_delay=30)
def suggest_merges_task(customer_ids: list[int]) -> int:
    return suggest_merges(db.session, customer_ids)


@listen_once("customers.merge_suggestions", "customer.created")
def _queue_suggestions(session: Session, name: str, payloads: list[Payload]) -> Callable[[], None]:
    # The batches of this pass together, in jobs of up to JOB_SIZE customers: each job reads the whole
    # candidate pool of their countries, so a stream of small batches (webhook deliveries) would otherwise
    # read it once per batch.
    customer_ids = list(dict.fromkeys(i for payload in payloads for i in payload["customer_ids"]))

    def queue() -> None:
        for start in range(0, len(customer_ids), JOB_SIZE):
            suggest_merges_task(customer_ids[start : start + JOB_SIZE])

    return queue
