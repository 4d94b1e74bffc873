"""Listeners that turn events into notifications, and the job that writes them.

Listeners are once-only (``listen_once``): whichever process relays the
outbox hears each event once, after the commit that caused it.  They only
pick the events that concern someone and queue one job per batch, once the
relay's cursor has moved; the job writes the notifications in its own
transaction.  A notification's key makes a job that runs twice harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from helpdesk.events import Payload, listen_once
from helpdesk.extensions import db
from helpdesk.notifications import services
from helpdesk.tasks import task


@listen_once("notifications.mentions", "message.created")
def _on_notes(session: Session, name: str, payloads: list[Payload]) -> Callable[[], None] | None:
    notes = [int(p["message_id"]) for p in payloads if p.get("is_internal")]
    return (lambda: mentions_task(notes)) if notes else None


@listen_once("notifications.assignments", "ticket.updated")
def _on_assignments(session: Session, name: str, payloads: list[Payload]) -> Callable[[], None] | None:
    assigned = [
        {"ticket_id": p["ticket_id"], "assignee_id": p["changes"]["assignee_id"], "actor_id": p.get("actor_id")}
        for p in payloads
        if isinstance(p.get("changes"), dict) and p["changes"].get("assignee_id") is not None
    ]
    wanted = [a for a in assigned if a["assignee_id"] != a["actor_id"]]  # taking a ticket yourself is no news
    return (lambda: assignments_task(wanted)) if wanted else None


@listen_once("notifications.sla", "sla.warning", "sla.breached")
def _on_sla(session: Session, name: str, payloads: list[Payload]) -> Callable[[], None] | None:
    rows = [dict(p) for p in payloads]
    return (lambda: sla_task(name, rows)) if rows else None


@task(retries=2, retry_delay=10)
def mentions_task(message_ids: list[int]) -> int:
    return services.notify_mentions(db.session, message_ids)


@task(retries=2, retry_delay=10)
def assignments_task(assignments: list[dict[str, Any]]) -> int:
    return services.notify_assignments(db.session, assignments)


@task(retries=2, retry_delay=10)
def sla_task(name: str, payloads: list[dict[str, Any]]) -> int:
    return services.notify_sla(db.session, name, payloads)
