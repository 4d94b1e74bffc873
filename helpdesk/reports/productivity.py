"""Per-agent productivity beside the SLA figures: who answered, who solved, and how fast.

Definitions (``docs/sla.md`` and the page's help text say the same):

* *Replies sent*: public replies an agent wrote (internal notes and
  automatic messages are not replies), counted by the day they were sent.
* *Tickets solved*: tickets whose solving falls in the range, counted for
  the ticket's assignee ("—" when nobody holds it).  A ticket the buyer
  reopened since still counts the solving it had (its last one).
* *One-touch resolutions*: of those, the tickets solved with exactly one
  agent reply in their whole history.
* *Median handle time*: from the ticket's first agent reply to its solving,
  over the solved tickets that had a reply.  It measures how long an agent
  kept working a ticket once they took it up; the wait before the first
  reply is the SLA's first-response time beside it.  Nearest-rank median.

Both queries are index ranges for the period: replies through the partial
``(sent_at, author_user_id)`` index that only agents' messages enter (the
buyers' messages of a busy desk are never read), solved tickets through the
partial ``solved_at`` index; the reply count of each solved ticket is a
probe of the message ``(ticket_id, sent_at)`` index.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.reports.services import NONE_LABEL, ReportQuery, percentile
from helpdesk.reports.sqlfuncs import epoch
from helpdesk.tickets.models import Message, Ticket


@dataclass
class AgentFigures:
    """One agent's work in the period (``agent_id`` None: tickets solved while nobody held them)."""

    agent_id: int | None
    label: str
    replies: int = 0
    solved: int = 0
    one_touch: int = 0
    handle_p50_s: float | None = None
    _handle: list[float] = field(default_factory=list, repr=False)

    @property
    def one_touch_pct(self) -> float | None:
        return None if not self.solved else round(100.0 * self.one_touch / self.solved, 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "label": self.label,
            "replies": self.replies,
            "solved": self.solved,
            "one_touch": self.one_touch,
            "one_touch_pct": self.one_touch_pct,
            "handle_p50_s": self.handle_p50_s,
        }


@dataclass
class Productivity:
    agents: list[AgentFigures]
    total: AgentFigures

    def as_dict(self) -> dict[str, Any]:
        return {"agents": [a.as_dict() for a in self.agents], "total": self.total.as_dict()}


def agent_replies_filter(m: Any) -> list[sa.ColumnElement[bool]]:
    """What makes a message an agent's reply to the buyer (the partial index's condition comes first)."""
    return [m.author_user_id.is_not(None), m.direction == "out", m.is_internal.is_(False), m.auto.is_(None)]


def productivity(session: Session, query: ReportQuery) -> Productivity:
    """Replies, solved tickets, one-touch resolutions and median handle time per agent for the range."""
    lo, hi = query.bounds()
    m = Message.__table__.c
    t = Ticket.__table__.c
    replies = (
        sa.select(m.author_user_id, sa.func.count())
        .where(*agent_replies_filter(m), m.sent_at >= lo, m.sent_at < hi)
        .group_by(m.author_user_id)
    )
    if query.agent is not None:
        replies = replies.where(m.author_user_id == query.agent)  # the agent's own replies, on any ticket
    # platform, store and team are the ticket's; the agent filter means the agent's replies (above), not the assignee
    on_ticket = dataclasses.replace(query, agent=None).ticket_filters(t)
    if on_ticket:
        replies = replies.join(Ticket.__table__, t.id == m.ticket_id).where(*on_ticket)
    inner = Message.__table__.alias("reply")
    reply_count = (
        sa.select(sa.func.count())
        .select_from(inner)
        .where(inner.c.ticket_id == t.id, *agent_replies_filter(inner.c))
        .scalar_subquery()
    )
    solved = sa.select(
        t.assignee_id,
        reply_count,
        epoch(t.solved_at) - epoch(t.first_response_at),
    ).where(t.solved_at >= lo, t.solved_at < hi)  # no status test: it would steer the planner off ix_ticket_solved
    solved = solved.where(*query.ticket_filters(t))

    agents: dict[int | None, AgentFigures] = {}
    total = AgentFigures(agent_id=None, label="total")

    def agent(key: int | None) -> AgentFigures:
        found = agents.get(key)
        if found is None:
            found = agents[key] = AgentFigures(agent_id=key, label="")
        return found

    for key, n in session.execute(replies):
        agent(key).replies += n
        total.replies += n
    for key, n_replies, handle in session.execute(solved):
        for f in (agent(key), total):
            f.solved += 1
            if n_replies == 1:
                f.one_touch += 1
            if handle is not None:
                f._handle.append(max(0.0, float(handle)))
    ids = [k for k in agents if k is not None]
    names = {row[0]: row[1] for row in session.execute(sa.select(User.id, User.name).where(User.id.in_(ids)))}
    for fig in (*agents.values(), total):
        if fig is not total:
            fig.label = names.get(fig.agent_id, str(fig.agent_id)) if fig.agent_id is not None else NONE_LABEL
        fig._handle.sort()
        fig.handle_p50_s = percentile(fig._handle, 50)
    ordered = sorted(agents.values(), key=lambda f: (f.agent_id is None, f.label.lower()))
    return Productivity(ordered, total)
