"""SLA services: what the inbox calls on replies and status changes, and the sweep.

Each function changes clocks in the caller's transaction and queues its
``sla.*`` events for after the commit; none of them commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from helpdesk.db import any_of, utcnow
from helpdesk.events import publish_many
from helpdesk.sla import clock as clocks
from helpdesk.sla import engine
from helpdesk.sla.clock import ClockStatus
from helpdesk.sla.engine import TicketRef
from helpdesk.sla.models import ClockKind, SlaClock
from helpdesk.sla.policies import Policy, PolicyResolver
from helpdesk.tickets.models import Ticket, TicketStatus

_DONE = (TicketStatus.SOLVED, TicketStatus.CLOSED)


def _policy(resolver: PolicyResolver, ledger: engine.Ledger, ticket: Ticket) -> Policy:
    live = ledger.by_ticket.get(ticket.id)
    if live:
        return resolver.by_id(live[0].policy_id, ticket.platform)
    return resolver.choose(ticket.channel_account_id, ticket.platform, ticket.priority, None)


def _ref(ticket: Ticket) -> TicketRef:
    return TicketRef(ticket.id, ticket.channel_account_id, ticket.team_id, ticket.platform)


def _save(session: Session, ledger: engine.Ledger, ticket: Ticket, now: datetime) -> None:
    engine.check_on_write(ledger, {ticket.id: _ref(ticket)}, now)
    summaries = engine.save(session, ledger, now)
    if ticket.id in summaries:
        # keep the ORM object in step with the row, so a later flush does not write stale values
        ticket.sla_due_at, ticket.sla_state = summaries[ticket.id]


def on_agent_reply(session: Session, ticket: Ticket, at: datetime) -> None:
    """An agent sent a public reply through the channel at ``at``: stop the running response clock.

    Internal notes must not call this; they are not an answer to the buyer.
    """
    ledger = engine.load(session, [ticket.id])
    running = ledger.live_response(ticket.id)
    if running is not None and at >= running.state.started_at:
        before = running.state
        ledger.change(running, clocks.stop(running.state, at))
        engine.note_stop(ledger, running, before, _ref(ticket))
    _save(session, ledger, ticket, utcnow())


def on_status_change(session: Session, ticket: Ticket, old: str, new: str, at: datetime) -> None:
    """Follow a status change made at ``at``.

    Pending pauses every live clock when the policy says so (the ticket
    waits on the buyer); leaving pending resumes them.  Solved or closed
    stops the resolution clock; response clocks keep running, because the
    buyer is still unanswered.  Reopening starts a new resolution clock.
    """
    if old == new:
        return
    ledger = engine.load(session, [ticket.id])
    resolver = PolicyResolver(session)
    policy = _policy(resolver, ledger, ticket)
    calendar = resolver.calendar(policy, ticket.channel_account_id)
    live = ledger.live(ticket.id)
    if new == TicketStatus.PENDING and policy.pause_when_pending:
        for c in live:
            if c.state.status is ClockStatus.RUNNING and at >= c.state.started_at:
                before = c.state
                ledger.change(c, clocks.pause(c.state, calendar, at))
                engine.note_stop(ledger, c, before, _ref(ticket))
    elif old == TicketStatus.PENDING:
        for c in live:
            if c.state.paused_at is not None and at >= c.state.paused_at:
                ledger.change(c, clocks.resume(c.state, calendar, at))
    if new in _DONE and old not in _DONE:
        resolution = ledger.live_resolution(ticket.id)
        if resolution is not None and at >= resolution.state.started_at:
            before = resolution.state
            ledger.change(resolution, clocks.stop(resolution.state, at))
            engine.note_stop(ledger, resolution, before, _ref(ticket))
    elif old in _DONE and new not in _DONE and ledger.live_resolution(ticket.id) is None:
        ledger.start(_ref(ticket), ClockKind.RESOLUTION, policy, calendar, at)
    ledger.touched.add(ticket.id)
    _save(session, ledger, ticket, utcnow())


@dataclass(frozen=True)
class SweepResult:
    breached: int
    warned: int
    more: bool = False
    """True when ``limit`` stopped the sweep early: run it again (after committing)."""


SWEEP_LIMIT = 50_000
"""Clocks one sweep transaction handles at most, so a catch-up after downtime never holds the write lock long."""


def sweep(session: Session, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> SweepResult:
    """Record breaches and warnings that came due by ``now``; set-based over ``next_check_at``.

    Only clocks whose next check has come are read (an index range, the
    earliest first), each is marked once, and ``next_check_at`` moves on (to
    the due instant after a warning, to NULL after a breach), so a clock is
    never announced twice.  A breach is strictly after the due instant.
    """
    now = now or utcnow()
    c = SlaClock.__table__.c
    t = Ticket.__table__.c
    rows = session.execute(
        sa.select(c.id, c.ticket_id, c.kind, c.due_at, c.warned_at, c.policy_id, t.channel_account_id, t.team_id)
        .join(Ticket.__table__, t.id == c.ticket_id)
        .where(c.next_check_at <= now, c.status == ClockStatus.RUNNING)
        .order_by(c.next_check_at)
        .limit(limit)
    ).all()
    breached = [r for r in rows if r.due_at < now]
    warned = [r for r in rows if r.due_at >= now and r.warned_at is None]
    dialect = session.get_bind().dialect.name
    breached_ids, warned_ids = [r.id for r in breached], [r.id for r in warned]
    # Another sweep may have marked some of these since they were read (a sweeper frozen past its lease, an
    # admin's `sla sweep`): only the clocks this update changed are this sweep's to announce.
    if breached_ids:
        won = set(
            session.scalars(
                sa.update(SlaClock.__table__)
                .where(any_of(c.id, breached_ids, dialect), c.status == ClockStatus.RUNNING)
                .values(status=ClockStatus.BREACHED, breached_at=now, next_check_at=None)
                .returning(c.id)
            )
        )
        breached = [r for r in breached if r.id in won]
    if breached:
        session.execute(
            sa.update(Ticket.__table__)
            .where(any_of(t.id, {r.ticket_id for r in breached}, dialect))
            .values(sla_state="breached")
        )
    if warned_ids:
        won = set(
            session.scalars(
                sa.update(SlaClock.__table__)
                .where(any_of(c.id, warned_ids, dialect), c.status == ClockStatus.RUNNING, c.warned_at.is_(None))
                .values(warned_at=now, next_check_at=c.due_at)
                .returning(c.id)
            )
        )
        warned = [r for r in warned if r.id in won]
    if warned:
        session.execute(
            sa.update(Ticket.__table__)
            .where(
                any_of(t.id, {r.ticket_id for r in warned}, dialect), sa.or_(t.sla_state.is_(None), t.sla_state == "ok")
            )
            .values(sla_state="warning")
        )
    publish_many(session, "sla.breached", [_payload(r) for r in breached])
    publish_many(session, "sla.warning", [_payload(r) for r in warned])
    if breached:
        escalate(session, breached, now)
    return SweepResult(breached=len(breached), warned=len(warned), more=len(rows) == limit and bool(breached or warned))


def escalate(session: Session, breached: list[Any], now: datetime) -> None:
    """Apply the escalation rules of the breached clocks' policies.

    ``escalation`` on a policy may hold ``reassign_to_user_id`` (the ticket
    goes to that user) and ``notify_lead`` (an audit entry names the leads
    of the ticket's team, which the inbox shows as a notification).  Only
    policies with rules are read, once per sweep.
    """
    from helpdesk.accounts.models import Role, User, team_members
    from helpdesk.audit.models import AuditEvent
    from helpdesk.db import bulk_insert
    from helpdesk.sla.models import SlaPolicy

    rules = {
        p.id: p.escalation
        for p in session.scalars(sa.select(SlaPolicy).where(SlaPolicy.enabled.is_(True)))
        if p.escalation
    }
    hits = [r for r in breached if r.policy_id in rules]
    if not hits:
        return
    leads: dict[int, list[int]] = {}
    if any(rules[r.policy_id].get("notify_lead") for r in hits):
        stmt = sa.select(team_members.c.team_id, User.id).join(User, User.id == team_members.c.user_id)
        for team_id, user_id in session.execute(stmt.where(User.role == Role.LEAD)):
            leads.setdefault(team_id, []).append(user_id)
    audit, updates = [], []
    for r in hits:
        rule = rules[r.policy_id]
        target = rule.get("reassign_to_user_id")
        if target:
            session.execute(
                sa.update(Ticket.__table__).where(Ticket.__table__.c.id == r.ticket_id).values(assignee_id=int(target))
            )
            updates.append(
                {
                    "ticket_id": r.ticket_id,
                    "channel_account_id": r.channel_account_id,
                    "team_id": r.team_id,
                    "changes": {"assignee_id": int(target)},
                }
            )
        audit.append(
            {
                "at": now,
                "actor_type": "system",
                "action": "sla.escalated",
                "ticket_id": r.ticket_id,
                "customer_id": None,
                "data": {
                    "clock": r.kind,
                    "reassigned_to": target,
                    "notify": leads.get(r.team_id, []) if rule.get("notify_lead") else [],
                },
            }
        )
    bulk_insert(session.connection(), AuditEvent.__table__, audit)
    publish_many(session, "ticket.updated", updates)


def sweep_all(session: Session, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> SweepResult:
    """Sweep in committed chunks until nothing due is left (the task and the CLI use this)."""
    now = now or utcnow()
    breached = warned = 0
    while True:
        result = sweep(session, now, limit)
        session.commit()
        breached += result.breached
        warned += result.warned
        if not result.more:
            return SweepResult(breached, warned)


def _payload(row: Any) -> dict[str, Any]:
    return {
        "ticket_id": row.ticket_id,
        "channel_account_id": row.channel_account_id,
        "team_id": row.team_id,
        "clock": row.kind,
        "due_at": row.due_at.isoformat(),
    }


def create_policy(session: Session, values: dict[str, Any]) -> Any:
    """A new policy from cleaned values (see :mod:`helpdesk.sla.schemas`)."""
    from helpdesk.sla.models import SlaPolicy

    policy = SlaPolicy(source_note="", **values)
    session.add(policy)
    session.flush()
    return policy


def update_policy(session: Session, policy: Any, values: dict[str, Any]) -> Any:
    """Apply cleaned values; running clocks keep the due instants they were started with."""
    for key, value in values.items():
        setattr(policy, key, value)
    policy.updated_at = utcnow()
    session.flush()
    return policy
