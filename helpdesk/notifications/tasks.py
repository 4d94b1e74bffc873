"""Listeners that turn events into notifications.

They are once-only (``listen_once``): whichever process relays the outbox
hears each event once, and writes the notifications through the relay's own
session, so they commit together with the relay's cursor.  A crash before
that commit relays the events again; after it, nothing is left to lose (a
job queued after the commit could be).  A notification's key still makes a
second delivery harmless.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from helpdesk.events import Payload, listen_once
from helpdesk.notifications import services


@listen_once("notifications.mentions", "message.created")
def _on_notes(session: Session, name: str, payloads: list[Payload]) -> Callable[[], None] | None:
    notes = [int(p["message_id"]) for p in payloads if p.get("is_internal")]
    if notes:
        services.notify_mentions(session, notes)
    return None


@listen_once("notifications.assignments", "ticket.updated")
def _on_assignments(session: Session, name: str, payloads: list[Payload]) -> Callable[[], None] | None:
    assigned = [
        {"ticket_id": p["ticket_id"], "assignee_id": p["changes"]["assignee_id"], "actor_id": p.get("actor_id")}
        for p in payloads
        if isinstance(p.get("changes"), dict) and p["changes"].get("assignee_id") is not None
    ]
    wanted = [a for a in assigned if a["assignee_id"] != a["actor_id"]]  # taking a ticket yourself is no news
    if wanted:
        services.notify_assignments(session, wanted)
    return None


@listen_once("notifications.sla", "sla.warning", "sla.breached")
def _on_sla(session: Session, name: str, payloads: list[Payload]) -> Callable[[], None] | None:
    if payloads:
        services.notify_sla(session, name, [dict(p) for p in payloads])
    return None
