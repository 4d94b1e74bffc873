"""Listeners that turn events into notifications, and the job that writes them.

Listeners run after the commit that caused the event (today in the same
process; with an outbox, from its relay): they only pick the events that
concern someone and queue one job per batch, which writes the notifications
in its own transaction.  A notification's key makes a job that runs twice
harmless.
"""

from __future__ import annotations

from typing import Any

from helpdesk.events import Payload, listen_batch
from helpdesk.extensions import db
from helpdesk.notifications import services
from helpdesk.tasks import task


@listen_batch("message.created")
def _on_notes(name: str, payloads: list[Payload]) -> None:
    notes = [int(p["message_id"]) for p in payloads if p.get("is_internal")]
    if notes:
        mentions_task(notes)


@listen_batch("ticket.updated")
def _on_assignments(name: str, payloads: list[Payload]) -> None:
    assigned = [
        {"ticket_id": p["ticket_id"], "assignee_id": p["changes"]["assignee_id"], "actor_id": p.get("actor_id")}
        for p in payloads
        if isinstance(p.get("changes"), dict) and p["changes"].get("assignee_id") is not None
    ]
    wanted = [a for a in assigned if a["assignee_id"] != a["actor_id"]]  # taking a ticket yourself is no news
    if wanted:
        assignments_task(wanted)


@listen_batch("sla.warning", "sla.breached")
def _on_sla(name: str, payloads: list[Payload]) -> None:
    if payloads:
        sla_task(name, [dict(p) for p in payloads])


@task(retries=2, retry_delay=10)
def mentions_task(message_ids: list[int]) -> int:
    return services.notify_mentions(db.session, message_ids)


@task(retries=2, retry_delay=10)
def assignments_task(assignments: list[dict[str, Any]]) -> int:
    return services.notify_assignments(db.session, assignments)


@task(retries=2, retry_delay=10)
def sla_task(name: str, payloads: list[dict[str, Any]]) -> int:
    return services.notify_sla(db.session, name, payloads)
