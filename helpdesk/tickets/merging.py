"""Merging two tickets of one customer, and undoing a merge exactly.

A merge moves every message of the source onto the target, gives the target
the source's tags, and closes the source as "merged into #target" (ingest then
threads the source's later messages onto the target).  What moved is written
into the merge's audit event — message ids, tags added, the source's status,
assignee and tags before — because an undo must move back exactly those
messages and nothing that arrived on the target afterwards.

The source's event (``ticket.merged``) holds the record; the target gets a
``ticket.merged_from`` event pointing at it, so both tickets' histories show
the merge and either can undo it.  An undo writes ``ticket.unmerged`` on both.

Undo is refused, with a reason an agent can act on, when it can no longer be
done cleanly: it was undone already, one of the tickets no longer exists, the
target was itself merged on since (undo that merge first: merges unwind last
first), or some moved messages are no longer on the target.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.audit.models import AuditEvent
from helpdesk.db import utcnow
from helpdesk.events import publish
from helpdesk.tickets.models import Attachment, Message, Ticket, TicketStatus, TicketTag
from helpdesk.tickets.services import TicketError, sla_services

MERGED = "ticket.merged"
MERGED_FROM = "ticket.merged_from"
UNMERGED = "ticket.unmerged"
HISTORY_ACTIONS = (MERGED, MERGED_FROM, UNMERGED)


class MergeConflict(TicketError):
    """One of the tickets was merged already: the state, not the request, is in the way (the API answers 409)."""


class MergeNotFound(TicketError):
    """The audit event is not a merge (or does not exist): the caller answers 404."""


@dataclass(frozen=True)
class MergePreview:
    """What a merge would move, for the confirmation page."""

    source: Ticket
    target: Ticket
    messages: int  # buyer messages and replies
    notes: int  # internal notes
    attachments: int
    tags_added: list[str]


@dataclass(frozen=True)
class HistoryEntry:
    """One merge-related line of a ticket's history."""

    event: AuditEvent
    actor_name: str
    other_ticket_id: int | None
    merge_event_id: int | None
    undo_refusal: str | None  # why it cannot be undone now; None when it can (or is not an undoable entry)
    undone: bool

    @property
    def undoable(self) -> bool:
        return self.event.action in (MERGED, MERGED_FROM) and not self.undone and self.undo_refusal is None


def check(source: Ticket, target: Ticket) -> None:
    """Raise TicketError when ``source`` may not be merged into ``target``."""
    if source.id == target.id:
        raise TicketError("A ticket cannot be merged into itself.")
    if source.customer_id != target.customer_id:
        raise TicketError("Only tickets of the same customer can be merged.")
    if source.merged_into_id is not None or target.merged_into_id is not None:
        raise MergeConflict("One of these tickets was already merged.")


def preview(session: Session, source: Ticket, target: Ticket) -> MergePreview:
    """Counts of what would move; raises TicketError when the merge is not allowed."""
    check(source, target)
    counts = dict(
        session.execute(
            sa.select(Message.is_internal, sa.func.count(Message.id))
            .where(Message.ticket_id == source.id)
            .group_by(Message.is_internal)
        ).all()
    )
    attachments = session.scalar(
        sa.select(sa.func.count(Attachment.id))
        .join(Message, Message.id == Attachment.message_id)
        .where(Message.ticket_id == source.id)
    )
    return MergePreview(
        source=source,
        target=target,
        messages=counts.get(False, 0),
        notes=counts.get(True, 0),
        attachments=attachments or 0,
        tags_added=sorted(set(source.tag_names) - set(target.tag_names)),
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _payload(ticket: Ticket, **extra: Any) -> dict[str, Any]:
    return {"ticket_id": ticket.id, "channel_account_id": ticket.channel_account_id, "team_id": ticket.team_id, **extra}


def _lock(session: Session, ticket_id: int) -> Ticket | None:
    """The ticket, re-read and row-locked (PostgreSQL) so two merges or undos of it cannot interleave."""
    stmt = sa.select(Ticket).where(Ticket.id == ticket_id).with_for_update().execution_options(populate_existing=True)
    return session.scalar(stmt)


def merge(session: Session, source: Ticket, target: Ticket, actor: User) -> AuditEvent:
    """Move every message of ``source`` onto ``target`` and close ``source``; returns the merge's audit event."""
    for ticket_id in sorted((source.id, target.id)):
        _lock(session, ticket_id)
    check(source, target)
    now = utcnow()
    message_ids = list(
        session.scalars(sa.select(Message.id).where(Message.ticket_id == source.id).order_by(Message.id))
    )
    tags_added = sorted(set(source.tag_names) - set(target.tag_names))
    record = {
        "source_id": source.id,
        "target_id": target.id,
        "message_ids": message_ids,
        "tags_added": tags_added,
        "source": {
            "status": source.status,
            "assignee_id": source.assignee_id,
            "tags": source.tag_names,
            "closed_at": _iso(source.closed_at),
            "message_count": source.message_count,
        },
        "target": {"message_count": target.message_count, "last_message_at": _iso(target.last_message_at)},
    }
    if message_ids:
        session.execute(
            sa.update(Message).where(Message.id.in_(message_ids)).values(ticket_id=target.id),
            execution_options={"synchronize_session": False},
        )
    session.expire(source, ["messages"])
    session.expire(target, ["messages"])
    target.message_count += len(message_ids)
    target.last_message_at = max(target.last_message_at, source.last_message_at)
    target.tags.extend(TicketTag(ticket_id=target.id, tag=tag) for tag in tags_added)
    target.updated_at = now
    old = source.status
    source.message_count = 0
    source.merged_into_id = target.id
    source.status = TicketStatus.CLOSED
    source.closed_at = now
    source.updated_at = now
    event = AuditEvent(
        at=now,
        actor_type="user",
        actor_id=actor.id,
        action=MERGED,
        ticket_id=source.id,
        customer_id=source.customer_id,
        data=record,
    )
    session.add(event)
    session.flush()
    session.add(
        AuditEvent(
            at=now,
            actor_type="user",
            actor_id=actor.id,
            action=MERGED_FROM,
            ticket_id=target.id,
            customer_id=target.customer_id,
            data={"merge_event_id": event.id, "source_id": source.id, "moved": len(message_ids)},
        )
    )
    publish(
        session,
        "ticket.updated",
        _payload(source, changes={"status": TicketStatus.CLOSED, "merged_into_id": target.id}, actor_id=actor.id),
    )
    publish(
        session,
        "ticket.updated",
        _payload(
            target,
            changes={"merged_from_id": source.id, "message_count": target.message_count, "tags": target.tag_names},
            actor_id=actor.id,
        ),
    )
    if sla_services is not None and hasattr(sla_services, "on_status_change"):
        sla_services.on_status_change(session, source, old, TicketStatus.CLOSED, now)
    return event


def merge_event(session: Session, audit_event_id: int) -> AuditEvent:
    """The ``ticket.merged`` event behind ``audit_event_id`` (which may be either side's event)."""
    event = session.get(AuditEvent, audit_event_id)
    if event is not None and event.action == MERGED_FROM:
        event = session.get(AuditEvent, int(event.data.get("merge_event_id") or 0))
    if event is None or event.action != MERGED:
        raise MergeNotFound("That merge does not exist.")
    return event


def tickets_of(event: AuditEvent) -> tuple[int, int]:
    """(source id, target id) of a ``ticket.merged`` event."""
    return int(event.data["source_id"]), int(event.data["target_id"])


def _undone(session: Session, event: AuditEvent) -> bool:
    source_id, target_id = tickets_of(event)
    rows = session.scalars(
        sa.select(AuditEvent.data).where(
            AuditEvent.action == UNMERGED, AuditEvent.ticket_id.in_([source_id, target_id])
        )
    )
    return any(int(data.get("merge_event_id") or 0) == event.id for data in rows)


def undo_refusal(session: Session, event: AuditEvent) -> str | None:
    """Why the merge cannot be undone cleanly now (translated, says what to do), or None when it can."""
    source_id, target_id = tickets_of(event)
    if _undone(session, event):
        return str(_l("This merge was already undone."))
    source, target = session.get(Ticket, source_id), session.get(Ticket, target_id)
    for ticket_id, ticket in ((source_id, source), (target_id, target)):
        if ticket is None:
            return str(_l("Ticket #%(id)s no longer exists, so this merge cannot be undone.", id=ticket_id))
    assert source is not None
    assert target is not None
    if source.merged_into_id != target.id:
        return str(_l("Ticket #%(source)s is no longer merged into #%(target)s.", source=source_id, target=target_id))
    if target.merged_into_id is not None:
        return str(
            _l(
                "Ticket #%(target)s was merged into #%(later)s since. Undo that merge first.",
                target=target_id,
                later=target.merged_into_id,
            )
        )
    ids = [int(i) for i in event.data.get("message_ids", [])]
    if ids:
        still = session.scalar(
            sa.select(sa.func.count(Message.id)).where(Message.id.in_(ids), Message.ticket_id == target.id)
        )
        if still != len(ids):
            return str(
                _l(
                    "Some of the moved messages are no longer on ticket #%(target)s, so the merge cannot be undone "
                    "exactly.",
                    target=target_id,
                )
            )
    return None


def _recount(session: Session, ticket: Ticket) -> None:
    ticket.message_count = (
        session.scalar(sa.select(sa.func.count(Message.id)).where(Message.ticket_id == ticket.id)) or 0
    )


def unmerge(session: Session, audit_event_id: int, actor: User) -> AuditEvent:
    """Undo a merge: exactly the moved messages go back, the source gets its status, assignee and tags back.

    Messages that reached the target after the merge stay on the target; the
    tags the merge gave the target are taken off it again.  Raises
    ``MergeNotFound`` for an id that is no merge and ``TicketError`` (with
    the reason) when the merge can no longer be undone cleanly.
    """
    event = merge_event(session, audit_event_id)
    source_id, target_id = tickets_of(event)
    for ticket_id in sorted((source_id, target_id)):
        _lock(session, ticket_id)
    refusal = undo_refusal(session, event)
    if refusal is not None:
        raise TicketError(refusal)
    source, target = session.get(Ticket, source_id), session.get(Ticket, target_id)
    assert source is not None
    assert target is not None
    now = utcnow()
    record: dict[str, Any] = event.data
    before: dict[str, Any] = record.get("source", {})
    ids = [int(i) for i in record.get("message_ids", [])]
    if ids:
        session.execute(
            sa.update(Message).where(Message.id.in_(ids), Message.ticket_id == target.id).values(ticket_id=source.id),
            execution_options={"synchronize_session": False},
        )
    session.expire(source, ["messages"])
    session.expire(target, ["messages"])
    _recount(session, source)
    _recount(session, target)
    latest = session.scalar(
        sa.select(sa.func.max(Message.sent_at)).where(Message.ticket_id == target.id, Message.is_internal.is_(False))
    )
    recorded = record.get("target", {}).get("last_message_at")
    candidates = [d for d in (latest, datetime.fromisoformat(recorded) if recorded else None) if d is not None]
    if candidates:
        target.last_message_at = max(candidates)
    removed = [t for t in record.get("tags_added", []) if t in target.tag_names]
    target.tags = [t for t in target.tags if t.tag not in removed]
    target.updated_at = now
    old_status = source.status
    source.merged_into_id = None
    source.status = before.get("status", TicketStatus.OPEN)
    closed_at = before.get("closed_at")
    source.closed_at = datetime.fromisoformat(closed_at) if closed_at else None
    assignee = session.get(User, before["assignee_id"]) if before.get("assignee_id") else None
    source.assignee_id = assignee.id if assignee is not None and assignee.active else None
    wanted = set(before.get("tags", []))
    source.tags = [t for t in source.tags if t.tag in wanted] + [
        TicketTag(ticket_id=source.id, tag=tag) for tag in sorted(wanted - set(source.tag_names))
    ]
    source.updated_at = now
    data = {
        "merge_event_id": event.id,
        "source_id": source.id,
        "target_id": target.id,
        "message_ids": ids,
        "tags_removed": removed,
    }
    undo = AuditEvent(
        at=now,
        actor_type="user",
        actor_id=actor.id,
        action=UNMERGED,
        ticket_id=source.id,
        customer_id=source.customer_id,
        data=data,
    )
    session.add(undo)
    session.add(
        AuditEvent(
            at=now,
            actor_type="user",
            actor_id=actor.id,
            action=UNMERGED,
            ticket_id=target.id,
            customer_id=target.customer_id,
            data=data,
        )
    )
    session.flush()
    publish(
        session,
        "ticket.updated",
        _payload(
            source,
            changes={
                "status": source.status,
                "merged_into_id": None,
                "assignee_id": source.assignee_id,
                "tags": source.tag_names,
                "message_count": source.message_count,
            },
            actor_id=actor.id,
        ),
    )
    publish(
        session,
        "ticket.updated",
        _payload(
            target,
            changes={
                "unmerged_id": source.id,
                "removed_message_ids": ids,
                "message_count": target.message_count,
                "tags": target.tag_names,
            },
            actor_id=actor.id,
        ),
    )
    if sla_services is not None and hasattr(sla_services, "on_status_change"):
        sla_services.on_status_change(session, source, old_status, source.status, now)
    return undo


def history(session: Session, ticket: Ticket, limit: int = 20) -> list[HistoryEntry]:
    """The ticket's merges and undos, newest first, each merge with whether (and why not) it can be undone."""
    rows = session.execute(
        sa.select(AuditEvent, User.name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.ticket_id == ticket.id, AuditEvent.action.in_(HISTORY_ACTIONS))
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    ).all()
    entries = []
    for event, name in rows:
        merge_id: int | None = None
        refusal: str | None = None
        undone = False
        if event.action == MERGED:
            merge_id, other = event.id, event.data.get("target_id")
        elif event.action == MERGED_FROM:
            merge_id, other = int(event.data.get("merge_event_id") or 0), event.data.get("source_id")
        else:
            other = (
                event.data.get("target_id") if event.data.get("source_id") == ticket.id else event.data.get("source_id")
            )
        if merge_id:
            merged = session.get(AuditEvent, merge_id)
            if merged is None or merged.action != MERGED:
                refusal = str(_l("The record of this merge is gone, so it cannot be undone."))
            else:
                undone = _undone(session, merged)
                refusal = None if undone else undo_refusal(session, merged)
        entries.append(HistoryEntry(event, name or "", other, merge_id, refusal, undone))
    return entries
