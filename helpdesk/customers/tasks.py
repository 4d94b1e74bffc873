"""Background jobs of the customers feature."""

from __future__ import annotations

from helpdesk.customers.services import suggest_merges
from helpdesk.events import Payload, listen
from helpdesk.extensions import db
from helpdesk.tasks import task


@task(retries=2, retry_delay=30)
def suggest_merges_task(customer_ids: list[int]) -> int:
    return suggest_merges(db.session, customer_ids)


@listen("customer.created")
def _queue_suggestions(name: str, payload: Payload) -> None:
    suggest_merges_task(list(payload["customer_ids"]))
