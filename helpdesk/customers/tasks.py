"""Background jobs of the customers feature."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from helpdesk.customers.services import suggest_merges
from helpdesk.events import Payload, listen_once
from helpdesk.extensions import db
from helpdesk.tasks import task


@task(retries=2, retry_delay=30)
def suggest_merges_task(customer_ids: list[int]) -> int:
    return suggest_merges(db.session, customer_ids)


@listen_once("customers.merge_suggestions", "customer.created")
def _queue_suggestions(session: Session, name: str, payloads: list[Payload]) -> Callable[[], None]:
    batches = [list(payload["customer_ids"]) for payload in payloads]

    def queue() -> None:
        for customer_ids in batches:
            suggest_merges_task(customer_ids)

    return queue
