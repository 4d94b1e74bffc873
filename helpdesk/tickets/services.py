"""What agents do to tickets: reply, note, assign, change status, priority and tags.

Services flush and publish; the request (or task) that called them commits,
and events go out only after that commit.  Every change is audited with the
acting user.  Permission to see a ticket is checked by the caller (views
return 404); rules about *what* may change live here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, object_session

from channels import registry
from channels.base import AttachmentData
from helpdesk.accounts.models import User, team_channel_accounts, team_members
from helpdesk.audit.models import AuditEvent
from helpdesk.db import utcnow
from helpdesk.events import publish
from helpdesk.tickets.models import DeliveryState, Message, Priority, Ticket, TicketStatus, TicketTag
from macros.policy import Violation, check_reply

try:  # the SLA feature keeps clocks in step with replies and status changes once it ships its services
    from helpdesk.sla import services as sla_services
except ImportError:
    sla_services = None

MAX_TAG = 64
MAX_BODY = 100_000


class TicketError(ValueError):
    """A change was refused; the message says why and is safe to show."""


class PolicyViolation(TicketError):
    """The reply breaks rules its platform sets for messages to buyers; nothing was queued."""

    def __init__(self, platform: str | None, violations: list[Violation]) -> None:
        super().__init__(f"the reply breaks {platform}'s rules: " + "; ".join(v.code for v in violations))
        self.platform = platform
        self.violations = violations


def reply_violations(ticket: Ticket, body: str) -> list[Violation]:
    """What the ticket's platform would refuse in ``body`` (its connector package declares the rules)."""
    return check_reply(registry.reply_policy(ticket.platform), body, known_numbers=own_numbers(ticket))


def own_numbers(ticket: Ticket) -> tuple[str | None, ...]:
    """The ticket's order and tracking numbers: quoting them to the buyer is never a rule broken."""
    from helpdesk.orders.models import Order

    order = object_session(ticket).get(Order, ticket.order_id) if ticket.order_id else None  # type: ignore[union-attr]
    return (ticket.order_number, order.order_number if order else None, order.tracking_number if order else None)


@dataclass(frozen=True)
class Collision(Exception):
    """Someone else wrote on the ticket since the agent loaded it."""

    messages: tuple[Message, ...]


def _payload(ticket: Ticket, **extra: Any) -> dict[str, Any]:
    return {"ticket_id": ticket.id, "channel_account_id": ticket.channel_account_id, "team_id": ticket.team_id, **extra}


def _audit(session: Session, ticket: Ticket, actor: User, action: str, data: dict[str, Any]) -> None:
    session.add(
        AuditEvent(
            actor_type="user",
            actor_id=actor.id,
            action=action,
            ticket_id=ticket.id,
            customer_id=ticket.customer_id,
            data=data,
        )
    )


def _updated(session: Session, ticket: Ticket, actor: User, changes: dict[str, Any]) -> None:
    ticket.updated_at = utcnow()
    _audit(session, ticket, actor, "ticket.updated", changes)
    publish(session, "ticket.updated", _payload(ticket, changes=changes, actor_id=actor.id))


def newer_messages(session: Session, ticket: Ticket, seen_message_id: int | None, author: User) -> list[Message]:
    """Messages added after ``seen_message_id`` that the author did not write themselves."""
    if seen_message_id is None:
        return []
    stmt = (
        sa.select(Message)
        .where(
            Message.ticket_id == ticket.id,
            Message.id > seen_message_id,
            sa.or_(Message.author_user_id.is_(None), Message.author_user_id != author.id),
        )
        .order_by(Message.id)
    )
    return list(session.scalars(stmt))


def add_reply(
    session: Session,
    ticket: Ticket,
    author: User,
    body: str,
    *,
    internal: bool = False,
    seen_message_id: int | None = None,
    force: bool = False,
    at: datetime | None = None,
    policy_override: str | None = None,
    attachments: Sequence[AttachmentData] = (),
    mentions: Sequence[int] = (),
) -> Message:
    """Add an agent reply (queued for sending) or an internal note (never sent).

    ``attachments`` must keep the limits of the ticket's channel (a note: the
    helpdesk's own); ``AttachmentRefused`` names the limit they break.
    ``mentions`` are the colleagues a note's author picked after ``@``; those
    still named in the text who may see the ticket are kept with the note.

    Raises ``Collision`` when someone else wrote since ``seen_message_id``
    and the agent has not confirmed with ``force``; the draft is not lost,
    the caller shows it again with the new messages.
    """
    if ticket.merged_into_id is not None:
        raise TicketError(
            _l("This ticket was merged into #%(id)s. Reply on that ticket instead.", id=ticket.merged_into_id)
        )
    from helpdesk.tickets import attachments as files

    body = body.strip()
    if not body and not attachments:
        raise TicketError("The message is empty.")
    if len(body) > MAX_BODY:
        raise TicketError("The message is too long.")
    blocking = [] if internal else [v for v in reply_violations(ticket, body) if v.blocking]
    if blocking and not (policy_override and author.sees_everything):
        raise PolicyViolation(ticket.platform, blocking)
    files.check(files.limits_for(session, ticket, internal=internal), attachments, internal=internal)
    if not force and not internal:
        newer = newer_messages(session, ticket, seen_message_id, author)
        if newer:
            raise Collision(tuple(newer))
    now = at or utcnow()
    message = Message(
        ticket_id=ticket.id,
        channel_account_id=ticket.channel_account_id,
        direction="out",
        is_internal=internal,
        author_user_id=author.id,
        author_name=author.name,
        subject=_reply_subject(ticket.subject),
        body_text=body,
        stripped_text=body,
        sent_at=now,
        received_at=now,
        delivery_state=DeliveryState.RECEIVED if internal else DeliveryState.QUEUED,
        meta={},
    )
    session.add(message)
    ticket.message_count += 1
    ticket.updated_at = now
    if not internal:
        ticket.last_message_at = now
        if ticket.first_response_at is None:
            ticket.first_response_at = now
        if ticket.status == TicketStatus.NEW:
            ticket.status = TicketStatus.OPEN
        if ticket.assignee_id is None:
            ticket.assignee_id = author.id
    session.flush()
    files.attach(session, message, attachments)
    if internal:
        from helpdesk.notifications import services as notifications

        notifications.record_mentions(session, message, notifications.resolve_mentions(session, ticket, body, mentions))
    _audit(session, ticket, author, "note.added" if internal else "reply.queued", {"message_id": message.id})
    if blocking:  # a lead sent it anyway: keep who, why and which rules, for the leads' list
        from helpdesk.macros.models import PolicyOverride

        session.add(
            PolicyOverride(
                ticket_id=ticket.id,
                message_id=message.id,
                user_id=author.id,
                platform=ticket.platform,
                rules=sorted({v.code for v in blocking}),
                reason=(policy_override or "")[:2000],
            )
        )
    publish(
        session,
        "message.created",
        _payload(ticket, message_id=message.id, direction="out", is_internal=internal, author_id=author.id),
    )
    if not internal and sla_services is not None and hasattr(sla_services, "on_agent_reply"):
        sla_services.on_agent_reply(session, ticket, now)
    return message


def _reply_subject(subject: str) -> str:
    if not subject or subject.lower().startswith(("re:", "aw:", "回复")):
        return subject
    return f"Re: {subject}"[:500]


def may_see_account(session: Session, user: User, account_id: int) -> bool:
    """Whether ``user`` may see tickets of the channel account (and so be assigned them)."""
    if user.sees_everything:
        return True
    stmt = (
        sa.select(team_channel_accounts.c.channel_account_id)
        .join(team_members, team_members.c.team_id == team_channel_accounts.c.team_id)
        .where(team_members.c.user_id == user.id, team_channel_accounts.c.channel_account_id == account_id)
        .limit(1)
    )
    return session.scalar(stmt) is not None


def assign(session: Session, ticket: Ticket, assignee_id: int | None, actor: User) -> None:
    """Give the ticket to an active user who may see it (None: unassign)."""
    if assignee_id == ticket.assignee_id:
        return
    if assignee_id is not None:
        assignee = session.get(User, assignee_id)
        if assignee is None or not assignee.active:
            raise TicketError("That user does not exist or is inactive.")
        if not may_see_account(session, assignee, ticket.channel_account_id):
            raise TicketError("That user cannot see this store's tickets.")
    ticket.assignee_id = assignee_id
    _updated(session, ticket, actor, {"assignee_id": assignee_id})


def set_status(session: Session, ticket: Ticket, status: str, actor: User, at: datetime | None = None) -> None:
    if status not in set(TicketStatus):
        raise TicketError("Unknown status.")
    old = ticket.status
    if status == old:
        return
    if ticket.merged_into_id is not None:  # it stays closed while merged: an undo restores its old status
        raise TicketError(
            _l(
                "Ticket #%(id)s is merged into #%(target)s. Undo the merge to work on it again.",
                id=ticket.id,
                target=ticket.merged_into_id,
            )
        )
    now = at or utcnow()
    ticket.status = status
    if status == TicketStatus.SOLVED:
        ticket.solved_at = now
    elif status == TicketStatus.CLOSED:
        ticket.closed_at = now
    _updated(session, ticket, actor, {"status": status})
    if sla_services is not None and hasattr(sla_services, "on_status_change"):
        sla_services.on_status_change(session, ticket, old, status, now)


def set_priority(session: Session, ticket: Ticket, priority: str, actor: User) -> None:
    if priority not in set(Priority):
        raise TicketError("Unknown priority.")
    if priority != ticket.priority:
        ticket.priority = priority
        _updated(session, ticket, actor, {"priority": priority})


def set_team(session: Session, ticket: Ticket, team_id: int | None, actor: User) -> None:
    """Hand the ticket to another team that serves its store (None: no team).

    Ingest gives a ticket the first team of its store; a store served by
    several teams (a language desk, a night shift) is routed on from there.
    A team that does not serve the store is refused: its members could not
    even see the ticket.  The same words answer for a team that does not
    exist, so the refusal says nothing about other stores' teams.
    """
    if team_id == ticket.team_id:
        return
    if team_id is not None:
        serves = session.scalar(
            sa.select(team_channel_accounts.c.team_id)
            .where(
                team_channel_accounts.c.team_id == team_id,
                team_channel_accounts.c.channel_account_id == ticket.channel_account_id,
            )
            .limit(1)
        )
        if serves is None:
            raise TicketError("No team with that id serves this ticket's store.")
    ticket.team_id = team_id
    _updated(session, ticket, actor, {"team_id": team_id})


def normalise_tags(raw: Iterable[str]) -> list[str]:
    """Lower-case, trimmed, unique tags; commas split."""
    tags: list[str] = []
    for chunk in raw:
        for part in chunk.split(","):
            tag = part.strip().lower()[:MAX_TAG]
            if tag and tag not in tags:
                tags.append(tag)
    return tags


def set_tags(session: Session, ticket: Ticket, tags: Iterable[str], actor: User) -> None:
    wanted = set(normalise_tags(tags))
    current = {t.tag for t in ticket.tags}
    if wanted == current:
        return
    ticket.tags = [t for t in ticket.tags if t.tag in wanted] + [
        TicketTag(ticket_id=ticket.id, tag=tag) for tag in sorted(wanted - current)
    ]
    _updated(session, ticket, actor, {"tags": sorted(wanted)})


def add_tags(session: Session, ticket: Ticket, tags: Iterable[str], actor: User) -> None:
    set_tags(session, ticket, [*ticket.tag_names, *normalise_tags(tags)], actor)


def merge_candidates(
    session: Session, ticket: Ticket, visible: sa.ColumnElement[bool], limit: int = 20
) -> list[Ticket]:
    """Other unmerged tickets of the same customer, newest first (none for a ticket merged away itself)."""
    if ticket.merged_into_id is not None:
        return []
    stmt = (
        sa.select(Ticket)
        .where(
            Ticket.customer_id == ticket.customer_id,
            Ticket.id != ticket.id,
            Ticket.merged_into_id.is_(None),
            visible,
        )
        .order_by(Ticket.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
