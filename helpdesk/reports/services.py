"""SLA figures for team leads, from the clock history, on SQLite and PostgreSQL alike.

Definitions (``docs/sla.md`` explains them to users):

* A report covers the response clocks (first and next response) that
  *started* in the date range, dates read in the viewer's time zone.
* A clock is *decided* when it was met or breached (answered late, or
  still unanswered past its due); running, paused and cancelled ("no
  response needed") clocks are left out.  Compliance = met / decided.
* First-response time: wall-clock time from the buyer's first message to
  the first answer, over answered first-response clocks.  Resolution time:
  ticket creation to solving, over tickets whose first-response clock
  started in the range.  Percentiles are nearest-rank.
* Backlog: open tickets now, by age since creation.
* Groups: platform, store (channel account), team and agent (the ticket's
  current assignee); "—" for none.

Two bounded queries read the range's clocks through the ``started_at``
index: counts are aggregated in SQL per group and local day (DST-exact, see
:func:`_day_index`), and only the durations the percentiles need come back
to Python, as numbers rather than datetimes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from helpdesk.accounts.models import Team, User
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.db import utcnow
from helpdesk.reports.sqlfuncs import epoch, floor_int
from helpdesk.sla.models import RESPONSE_KINDS, ClockKind, SlaClock
from helpdesk.tickets.models import OPEN_STATUSES, Ticket

GROUPS = ("platform", "store", "team", "agent")
NONE_LABEL = "—"
BACKLOG_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("< 4 h", timedelta(hours=4)),
    ("4–24 h", timedelta(hours=24)),
    ("1–3 d", timedelta(days=3)),
    ("3–7 d", timedelta(days=7)),
    ("> 7 d", None),
)
MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class ReportQuery:
    start: date
    end: date  # inclusive
    timezone: str = "UTC"
    group: str = "platform"
    platform: str | None = None
    store: int | None = None  # channel account id
    team: int | None = None  # the ticket's team
    agent: int | None = None  # the ticket's assignee

    def __post_init__(self) -> None:
        if self.group not in GROUPS:
            raise ValueError(f"group must be one of {', '.join(GROUPS)}")
        if self.end < self.start:
            raise ValueError("the end date is before the start date")
        if (self.end - self.start).days >= MAX_RANGE_DAYS:
            raise ValueError(f"a report covers at most {MAX_RANGE_DAYS} days")
        ZoneInfo(self.timezone)

    def ticket_filters(self, t: Any) -> list[sa.ColumnElement[bool]]:
        """The filters as conditions on the ticket table (platform, store, team, assignee)."""
        conds = []
        if self.platform:
            conds.append(t.platform == self.platform)
        if self.store is not None:
            conds.append(t.channel_account_id == self.store)
        if self.team is not None:
            conds.append(t.team_id == self.team)
        if self.agent is not None:
            conds.append(t.assignee_id == self.agent)
        return conds

    def bounds(self) -> tuple[datetime, datetime]:
        """The range as UTC instants: local midnight of ``start`` up to local midnight after ``end``."""
        zone = ZoneInfo(self.timezone)
        lo = datetime.combine(self.start, time(0), zone).astimezone(UTC)
        hi = datetime.combine(self.end + timedelta(days=1), time(0), zone).astimezone(UTC)
        return lo, hi


@dataclass
class Figures:
    """Compliance and timing figures for one group, one day or the total."""

    key: Any
    label: str
    decided: int = 0
    met: int = 0
    breached: int = 0
    first_response_p50_s: float | None = None
    first_response_p90_s: float | None = None
    resolution_p50_s: float | None = None
    resolution_p90_s: float | None = None
    _first: list[float] = field(default_factory=list, repr=False)
    _resolution: list[float] = field(default_factory=list, repr=False)

    @property
    def compliance_pct(self) -> float | None:
        return None if not self.decided else round(100.0 * self.met / self.decided, 1)

    def finish(self) -> None:
        self._first.sort()
        self._resolution.sort()
        self.first_response_p50_s = percentile(self._first, 50)
        self.first_response_p90_s = percentile(self._first, 90)
        self.resolution_p50_s = percentile(self._resolution, 50)
        self.resolution_p90_s = percentile(self._resolution, 90)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "decided": self.decided,
            "met": self.met,
            "breached": self.breached,
            "compliance_pct": self.compliance_pct,
            "first_response_p50_s": self.first_response_p50_s,
            "first_response_p90_s": self.first_response_p90_s,
            "resolution_p50_s": self.resolution_p50_s,
            "resolution_p90_s": self.resolution_p90_s,
        }


@dataclass
class BacklogRow:
    key: Any
    label: str
    counts: list[int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            **{name: n for (name, _), n in zip(BACKLOG_BUCKETS, self.counts, strict=True)},
        }


@dataclass
class Report:
    query: ReportQuery
    groups: list[Figures]
    total: Figures
    days: list[Figures]
    backlog: list[BacklogRow]

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.query.start.isoformat(),
            "to": self.query.end.isoformat(),
            "timezone": self.query.timezone,
            "group": self.query.group,
            "platform": self.query.platform,
            "store": self.query.store,
            "team": self.query.team,
            "agent": self.query.agent,
            "groups": [g.as_dict() for g in self.groups],
            "total": self.total.as_dict(),
            "days": [d.as_dict() for d in self.days],
            "backlog_buckets": [name for name, _ in BACKLOG_BUCKETS],
            "backlog": [b.as_dict() for b in self.backlog],
        }


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of already sorted values (the smallest value with p % at or below it)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _group_column(group: str) -> sa.ColumnElement[Any]:
    t = Ticket.__table__.c
    return {"platform": t.platform, "store": t.channel_account_id, "team": t.team_id, "agent": t.assignee_id}[group]


def _clock_group(group: str) -> tuple[sa.ColumnElement[Any], bool]:
    """The grouping column for clock queries and whether it needs the ticket join.

    Platform and store are copied onto each clock; team and agent are the
    ticket's current ones.
    """
    c = SlaClock.__table__.c
    if group == "platform":
        return c.platform, False
    if group == "store":
        return c.channel_account_id, False
    return _group_column(group), True


def _labels(session: Session, group: str, keys: set[Any]) -> dict[Any, str]:
    ids = [k for k in keys if k is not None]
    if group == "platform":
        return {k: k for k in ids}
    if not ids:
        return {}
    model, col = {"store": (ChannelAccount, "display_name"), "team": (Team, "name"), "agent": (User, "name")}[group]
    rows = session.execute(sa.select(model.id, getattr(model, col)).where(model.id.in_(ids)))
    return {row[0]: row[1] for row in rows}


def sla_report(session: Session, query: ReportQuery, now: datetime | None = None) -> Report:
    """Every figure of the reports page for one date range and grouping.

    Bounded queries over the ``started_at`` index: outcome counts
    aggregated in SQL per group and local day, and the durations the
    percentiles need (answered first responses, solved tickets).
    """
    now = now or utcnow()
    lo, hi = query.bounds()
    c = SlaClock.__table__.c
    t = Ticket.__table__.c
    clocks = SlaClock.__table__
    with_tickets = clocks.join(Ticket.__table__, t.id == c.ticket_id)
    gcol, needs_join = _clock_group(query.group)
    day = _day_index(c.started_at, query)
    outcome = sa.case((c.breached_at.is_not(None), 2), (c.status == "met", 1), else_=0)
    in_range = [c.started_at >= lo, c.started_at < hi]
    if query.platform:
        in_range.append(c.platform == query.platform)
    if query.store is not None:
        in_range.append(c.channel_account_id == query.store)
    # team and assignee are the ticket's: those filters need the join the team and agent groups use anyway
    if query.team is not None:
        in_range.append(t.team_id == query.team)
        needs_join = True
    if query.agent is not None:
        in_range.append(t.assignee_id == query.agent)
        needs_join = True
    counts = (
        sa.select(gcol, day, outcome, sa.func.count())
        .select_from(with_tickets if needs_join else clocks)
        .where(*in_range, c.kind.in_([str(k) for k in RESPONSE_KINDS]))
        .group_by(gcol, day, outcome)
    )
    # one pass over the first-response clocks: answer times (stored) and, joined, resolution times
    durations = (
        sa.select(
            gcol,
            day,
            c.elapsed_s,
            sa.case((t.solved_at.is_not(None), epoch(t.solved_at) - epoch(t.created_at)), else_=None),
        )
        .select_from(with_tickets)
        .where(
            *in_range,
            c.kind == str(ClockKind.FIRST_RESPONSE),
            sa.or_(c.elapsed_s.is_not(None), t.solved_at.is_not(None)),
        )
    )
    groups: dict[Any, Figures] = {}
    days = [Figures(key=d.isoformat(), label=d.isoformat()) for d in _dates(query)]
    total = Figures(key=None, label="total")

    def group(key: Any) -> Figures:
        fig = groups.get(key)
        if fig is None:
            fig = groups[key] = Figures(key=key, label="")
        return fig

    for key, index, result, n in session.execute(counts):
        for f in (group(key), days[index], total):
            if result:
                f.decided += n
                if result == 2:
                    f.breached += n
                else:
                    f.met += n
    for key, index, first, resolution in session.execute(durations):
        targets = (group(key), days[index], total)
        if first is not None:
            for f in targets:
                f._first.append(first)
        if resolution is not None:
            for f in targets:
                f._resolution.append(resolution)
    labels = _labels(session, query.group, set(groups))
    for key, fig in groups.items():
        fig.label = str(labels.get(key, key)) if key is not None else NONE_LABEL
        fig.finish()
    for fig in (*days, total):
        fig.finish()
    ordered = sorted(groups.values(), key=lambda f: (f.key is None, f.label.lower()))
    return Report(query, ordered, total, days, backlog(session, query.group, now, query))


def _day_index(column: sa.ColumnElement[datetime], query: ReportQuery) -> sa.ColumnElement[int]:
    """Which local day of the range (0 = the first) a UTC timestamp falls on, computed in SQL.

    Local wall time is the instant plus the zone's offset then; the offset
    is constant between DST transitions, so a CASE over the few transitions
    inside the range keeps the day exact on 23- and 25-hour days.
    """
    zone = ZoneInfo(query.timezone)
    lo, hi = query.bounds()
    wall_start = datetime.combine(query.start, time(0), UTC).timestamp()
    segments = _offset_segments(zone, lo, hi)
    offset: Any = sa.literal(segments[-1][1])
    for (_, previous), (starts, _) in reversed(list(pairwise(segments))):
        offset = sa.case((column < starts, previous), else_=offset)
    return floor_int((epoch(column) + offset - wall_start) / 86400.0)


def _offset_segments(zone: ZoneInfo, lo: datetime, hi: datetime) -> list[tuple[datetime, float]]:
    """``(from, UTC offset in seconds)`` for each stretch of constant offset between ``lo`` and ``hi``."""

    def offset(at: datetime) -> float:
        value = at.astimezone(zone).utcoffset()
        return value.total_seconds() if value is not None else 0.0

    segments = [(lo, offset(lo))]
    probe = lo
    while probe < hi:
        step = min(probe + timedelta(hours=12), hi)
        if offset(step) != segments[-1][1]:
            before, after = probe, step  # bisect to the second the offset changed
            while after - before > timedelta(seconds=1):
                middle = before + (after - before) / 2
                if offset(middle) == segments[-1][1]:
                    before = middle
                else:
                    after = middle
            after = after.replace(microsecond=0)
            segments.append((after, offset(after)))
        probe = step
    return segments


def backlog(session: Session, group: str, now: datetime, query: ReportQuery | None = None) -> list[BacklogRow]:
    """Open tickets per group, counted by age since creation (within the query's filters, when given)."""
    t = Ticket.__table__.c
    gcol = _group_column(group)
    cases = []
    lower: datetime | None = None
    for _name, upper in BACKLOG_BUCKETS:
        cond = []
        if upper is not None:
            cond.append(t.created_at > now - upper)
        if lower is not None:
            cond.append(t.created_at <= lower)
        cases.append(sa.func.sum(sa.case((sa.and_(*cond), 1), else_=0)) if cond else sa.func.count())
        lower = now - upper if upper is not None else None
    filters = query.ticket_filters(t) if query is not None else []
    stmt = sa.select(gcol, *cases).where(t.status.in_([str(s) for s in OPEN_STATUSES]), *filters).group_by(gcol)
    rows = session.execute(stmt).all()
    labels = _labels(session, group, {r[0] for r in rows})
    out = [
        BacklogRow(r[0], str(labels.get(r[0], r[0])) if r[0] is not None else NONE_LABEL, [int(n or 0) for n in r[1:]])
        for r in rows
    ]
    return sorted(out, key=lambda b: (b.key is None, b.label.lower()))


def _dates(query: ReportQuery) -> list[date]:
    return [query.start + timedelta(days=i) for i in range((query.end - query.start).days + 1)]


@dataclass(frozen=True)
class BreachedRow:
    ticket_id: int
    subject: str
    clock: str
    started_at: datetime
    due_at: datetime
    breached_at: datetime
    stopped_at: datetime | None


def breached_tickets(session: Session, query: ReportQuery, key: str | None, limit: int = 200) -> list[BreachedRow]:
    """The breached response clocks behind a group's figures (drill-down), newest first.

    ``key`` is the group value as text ("" for the "—" group, None for all).
    """
    lo, hi = query.bounds()
    c = SlaClock.__table__.c
    t = Ticket.__table__.c
    gcol, _needs_join = _clock_group(query.group)
    stmt = (
        sa.select(t.id, t.subject, c.kind, c.started_at, c.due_at, c.breached_at, c.stopped_at)
        .join(Ticket.__table__, t.id == c.ticket_id)
        .where(
            c.started_at >= lo,
            c.started_at < hi,
            c.kind.in_([str(k) for k in RESPONSE_KINDS]),
            c.breached_at.is_not(None),
        )
        .order_by(c.started_at.desc())
        .limit(limit)
    )
    stmt = stmt.where(*query.ticket_filters(t))
    if key is not None:
        if key == "":
            stmt = stmt.where(gcol.is_(None))
        elif query.group == "platform":
            stmt = stmt.where(gcol == key)
        else:
            try:
                stmt = stmt.where(gcol == int(key))
            except ValueError:
                return []
    return [BreachedRow(*row) for row in session.execute(stmt)]
