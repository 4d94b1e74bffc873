"""Clock bookkeeping shared by the ingestion step and the inbox services.

Loads a set of tickets' clocks in one query, lets the caller apply the
transitions of :mod:`helpdesk.sla.clock`, then writes new and changed rows,
the tickets' ``sla_due_at`` / ``sla_state`` and the warning and breach
events, each in one set-based statement.  The caller owns the transaction.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from helpdesk.db import any_of_param, bulk_insert, bulk_update, list_param
from helpdesk.events import publish_many
from helpdesk.sla import clock as clocks
from helpdesk.sla.calendar import BusinessCalendar
from helpdesk.sla.clock import ClockState, ClockStatus
from helpdesk.sla.models import ClockKind, SlaClock
from helpdesk.sla.policies import Policy

_STATE_RANK = {None: 0, "ok": 1, "warning": 2, "breached": 3}
_CHUNK = 5000
# sla_clock's columns: what a clock is (fixed at its start), then the state transitions change.
_IDENTITY_COLUMNS = (
    "id",
    "ticket_id",
    "kind",
    "channel_account_id",
    "platform",
    "policy_id",
    "message_id",
    "started_at",
    "target_s",
    "warn_share",
)
_STATE_COLUMNS = (
    "due_at",
    "warning_at",
    "status",
    "paused_at",
    "paused_total_s",
    "remaining_s",
    "breached_at",
    "stopped_at",
    "warned_at",
    "next_check_at",
    "elapsed_s",
)
_ROW_COLUMNS = _IDENTITY_COLUMNS + _STATE_COLUMNS


@dataclass(eq=False, slots=True)
class Clock:
    """One clock row in memory; ``id`` is None until inserted."""

    id: int | None
    ticket_id: int
    kind: str
    channel_account_id: int
    platform: str | None
    policy_id: int | None
    message_id: int | None
    state: ClockState
    warned_at: datetime | None = None
    dirty: bool = False

    @property
    def is_live(self) -> bool:
        return self.state.is_live

    @property
    def is_response(self) -> bool:
        return self.kind != ClockKind.RESOLUTION

    def next_check_at(self) -> datetime | None:
        """When the sweep must look again: warning instant, then due instant, then never."""
        s = self.state
        if not s.is_live or s.status is not ClockStatus.RUNNING or s.breached_at is not None:
            return None
        return s.warning_at if self.warned_at is None else s.due_at


@dataclass(frozen=True, slots=True)
class TicketRef:
    """What an event about a ticket needs."""

    id: int
    channel_account_id: int
    team_id: int | None
    platform: str | None = None


@dataclass
class Ledger:
    """The clocks of some tickets, and what changed.

    ``response`` and ``resolution`` index each ticket's live clock of that
    family (a ticket has at most one of each), so the per-message work of a
    batch is a dictionary look-up, not a scan.
    """

    by_ticket: dict[int, list[Clock]] = field(default_factory=lambda: defaultdict(list))
    had_first: set[int] = field(default_factory=set)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    touched: set[int] = field(default_factory=set)
    response: dict[int, Clock] = field(default_factory=dict)
    resolution: dict[int, Clock] = field(default_factory=dict)
    paused: set[int] = field(default_factory=set)

    def add(self, c: Clock) -> None:
        self.by_ticket[c.ticket_id].append(c)
        if c.is_live:
            (self.response if c.is_response else self.resolution)[c.ticket_id] = c
            if c.state.status is ClockStatus.PAUSED:
                self.paused.add(c.ticket_id)
        if c.kind == ClockKind.FIRST_RESPONSE:
            self.had_first.add(c.ticket_id)

    def live(self, ticket_id: int) -> list[Clock]:
        return [c for c in (self.response.get(ticket_id), self.resolution.get(ticket_id)) if c is not None]

    def live_response(self, ticket_id: int) -> Clock | None:
        return self.response.get(ticket_id)

    def live_resolution(self, ticket_id: int) -> Clock | None:
        return self.resolution.get(ticket_id)

    def change(self, c: Clock, state: ClockState) -> None:
        if state is c.state:
            return
        c.state = state
        c.dirty = True
        self.touched.add(c.ticket_id)
        if state.status is ClockStatus.PAUSED:
            self.paused.add(c.ticket_id)
        if not state.is_live:
            family = self.response if c.is_response else self.resolution
            if family.get(c.ticket_id) is c:
                del family[c.ticket_id]

    def start(
        self,
        ticket: TicketRef,
        kind: str,
        policy: Policy,
        calendar: BusinessCalendar,
        at: datetime,
        message_id: int | None = None,
    ) -> Clock | None:
        """Start a clock when the policy has a target for ``kind``; None when it has none."""
        target = policy.target(kind)
        if target is None or target <= timedelta(0):
            return None
        ticket_id = ticket.id
        c = Clock(
            id=None,
            ticket_id=ticket_id,
            kind=kind,
            channel_account_id=ticket.channel_account_id,
            platform=ticket.platform,
            policy_id=policy.id,
            message_id=message_id,
            state=clocks.start(calendar, at, target, policy.warn_share),
            dirty=True,
        )
        self.add(c)
        self.touched.add(ticket_id)
        return c


def load(session: Session, ticket_ids: Iterable[int]) -> Ledger:
    """Live clocks of the tickets, and which of them ever had a first-response clock."""
    ledger = Ledger()
    ids = sorted(set(ticket_ids))
    if not ids:
        return ledger
    conn = session.connection()
    dialect = conn.dialect.name
    for part in _chunks(ids):
        for row in conn.execute(_live_clocks_statement(dialect), {"ids": list_param(part, dialect)}):
            if row.kind == ClockKind.FIRST_RESPONSE:
                ledger.had_first.add(row.ticket_id)
            if row.stopped_at is not None or row.status == ClockStatus.CANCELLED:
                continue
            ledger.add(_from_row(row))
    return ledger


@functools.cache
def _live_clocks_statement(dialect: str) -> sa.Select[Any]:
    t = SlaClock.__table__.c
    return sa.select(*(t[name] for name in _ROW_COLUMNS)).where(
        any_of_param(t.ticket_id, "ids", dialect),
        sa.or_(sa.and_(t.stopped_at.is_(None), t.status != ClockStatus.CANCELLED), t.kind == ClockKind.FIRST_RESPONSE),
    )


def check_on_write(ledger: Ledger, refs: dict[int, TicketRef], now: datetime) -> None:
    """Record warnings and breaches that are already due when a change is written.

    An old message imported late starts a clock that is overdue at once; the
    sweep would find it within a minute, but the inbox should not show it as
    fine meanwhile.
    """
    response, resolution = ledger.response, ledger.resolution
    for ticket_id in ledger.touched:
        for c in (response.get(ticket_id), resolution.get(ticket_id)):
            if c is None:
                continue
            s = c.state
            if s.status is not ClockStatus.RUNNING or s.breached_at is not None:
                continue
            if now > s.due_at:
                ledger.change(c, clocks.mark_breached(s, now))
                ledger.events.append(("sla.breached", _payload(refs[ticket_id], c)))
            elif c.warned_at is None and now >= s.warning_at:
                c.warned_at = now
                c.dirty = True
                ledger.events.append(("sla.warning", _payload(refs[ticket_id], c)))


def note_stop(ledger: Ledger, c: Clock, before: ClockState, ref: TicketRef) -> None:
    """Emit ``sla.breached`` when stopping a clock is what revealed its breach."""
    if c.state.breached_at is not None and before.breached_at is None:
        ledger.events.append(("sla.breached", _payload(ref, c)))


def summary(clock_list: Iterable[Clock], now: datetime) -> tuple[datetime | None, str | None]:
    """(sla_due_at, sla_state) of one ticket from its clocks.

    Due: the earliest due instant of a running (or overdue, unanswered)
    clock; paused clocks have none.  State: the worst of the live clocks,
    None when no clock is live.
    """
    due: datetime | None = None
    state: str | None = None
    for c in clock_list:
        if not c.is_live:
            continue
        s = c.state
        if s.status is not ClockStatus.PAUSED and (due is None or s.due_at < due):
            due = s.due_at
        verdict = clocks.check(s, now)
        if verdict == "warning" and c.warned_at is None and s.status is not ClockStatus.PAUSED:
            verdict = "ok"  # the sweep has not announced it yet; it will within a minute
        if verdict == "breached" and s.breached_at is None:
            verdict = "warning"
        if _STATE_RANK[verdict] > _STATE_RANK[state]:
            state = verdict
    return due, state


def save(session: Session, ledger: Ledger, now: datetime) -> dict[int, tuple[datetime | None, str | None]]:
    """Write new and changed clocks, the touched tickets' summaries, and queue events.

    Returns the new summary per touched ticket, for callers that hold the
    ticket as an ORM object and must not overwrite it with stale values.
    """
    conn = session.connection()
    write_clocks(conn, ledger)
    summaries = summarize(ledger, now)
    from helpdesk.tickets.models import Ticket

    bulk_update(
        conn,
        Ticket.__table__,
        [{"id": tid, "sla_due_at": due, "sla_state": st} for tid, (due, st) in summaries.items()],
    )
    publish_events(session, ledger)
    return summaries


def summarize(ledger: Ledger, now: datetime) -> dict[int, tuple[datetime | None, str | None]]:
    """(sla_due_at, sla_state) of every touched ticket; forgets which were touched."""
    out = {tid: summary(ledger.by_ticket.get(tid, ()), now) for tid in ledger.touched}
    ledger.touched.clear()
    return out


def write_clocks(connection: sa.Connection, ledger: Ledger) -> None:
    """Insert the ledger's new clocks (giving them ids) and update its changed ones."""
    new = [c for clock_list in ledger.by_ticket.values() for c in clock_list if c.id is None]
    changed = [c for clock_list in ledger.by_ticket.values() for c in clock_list if c.id is not None and c.dirty]
    if new:
        rows = [_to_row(c) for c in new]
        for c, new_id in zip(new, bulk_insert(connection, SlaClock.__table__, rows, return_ids=True), strict=True):
            c.id = new_id
            c.dirty = False
    if changed:
        # only what a transition changes: naming the indexed identity columns would rewrite their index entries
        rows = [{key: value for key, value in _to_row(c).items() if key in _STATE_COLUMNS} for c in changed]
        bulk_update(connection, SlaClock.__table__, [{**row, "id": c.id} for row, c in zip(rows, changed, strict=True)])
        for c in changed:
            c.dirty = False


def publish_events(session: Session, ledger: Ledger) -> None:
    """Queue the ledger's warnings and breaches for delivery after the commit."""
    by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for name, payload in ledger.events:
        by_name[name].append(payload)
    for name, payloads in by_name.items():
        publish_many(session, name, payloads)
    ledger.events.clear()


def _payload(ref: TicketRef, c: Clock) -> dict[str, Any]:
    return {
        "ticket_id": ref.id,
        "channel_account_id": ref.channel_account_id,
        "team_id": ref.team_id,
        "clock": c.kind,
        "due_at": c.state.due_at.isoformat(),
    }


def _to_row(c: Clock) -> dict[str, Any]:
    s = c.state
    return {
        "ticket_id": c.ticket_id,
        "kind": c.kind,
        "channel_account_id": c.channel_account_id,
        "platform": c.platform,
        "policy_id": c.policy_id,
        "message_id": c.message_id,
        "started_at": s.started_at,
        "target_s": int(s.target.total_seconds()),
        "warn_share": s.warn_share,
        "due_at": s.due_at,
        "warning_at": s.warning_at,
        "status": str(s.status),
        "paused_at": s.paused_at,
        "paused_total_s": s.paused_total.total_seconds(),
        "remaining_s": None if s.remaining is None else s.remaining.total_seconds(),
        "breached_at": s.breached_at,
        "stopped_at": s.stopped_at,
        "warned_at": c.warned_at,
        "next_check_at": c.next_check_at(),
        "elapsed_s": (s.stopped_at - s.started_at).total_seconds()
        if s.stopped_at is not None and s.status is not ClockStatus.CANCELLED
        else None,
    }


def _from_row(row: Any) -> Clock:
    (
        clock_id,
        ticket_id,
        kind,
        channel_account_id,
        platform,
        policy_id,
        message_id,
        started_at,
        target_s,
        warn_share,
        due_at,
        warning_at,
        status,
        paused_at,
        paused_total_s,
        remaining_s,
        breached_at,
        stopped_at,
        warned_at,
        _next_check_at,
        _elapsed_s,
    ) = row  # _ROW_COLUMNS, in that order
    return Clock(
        id=clock_id,
        ticket_id=ticket_id,
        kind=kind,
        channel_account_id=channel_account_id,
        platform=platform,
        policy_id=policy_id,
        message_id=message_id,
        warned_at=warned_at,
        state=ClockState(
            started_at=started_at,
            target=timedelta(seconds=target_s),
            warn_share=warn_share,
            due_at=due_at,
            warning_at=warning_at,
            status=_STATUS[status],
            paused_at=paused_at,
            paused_total=timedelta(seconds=paused_total_s or 0),
            remaining=None if remaining_s is None else timedelta(seconds=remaining_s),
            breached_at=breached_at,
            stopped_at=stopped_at,
        ),
    )


_STATUS = {str(s): s for s in ClockStatus}


def _chunks(values: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i : i + _CHUNK]
