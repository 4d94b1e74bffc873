"""The inbox's ticket queries: saved views, filters, sorting and keyset pagination.

Every query here is backed by an index and reads one page at a time.  The
default sort is SLA due ascending with tickets without a due date last; to
keep that index-friendly on both backends the list is walked in two
segments — tickets with a due date by ``(sla_due_at, id)``, then those
without one by ``id`` — and the cursor says which segment it stands in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from helpdesk.accounts.models import User
from helpdesk.params import MAX_ID, is_id
from helpdesk.tickets.models import OPEN_STATUSES, Ticket, TicketStatus, TicketTag

PAGE_SIZE = 50
SORTS = ("sla", "newest", "oldest")
FIXED_VIEWS = ("mine", "unassigned", "open", "at_risk", "breached", "pending", "solved")
DEFAULT_VIEW = "open"


class BadCursor(ValueError):
    """A pagination cursor that this code did not write."""


@dataclass(frozen=True)
class Filters:
    """What an agent narrowed the list to; every field is optional."""

    platform: str | None = None
    account_id: int | None = None
    status: str | None = None
    priority: str | None = None
    language: str | None = None
    tag: str | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    team_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    ticket_ids: Sequence[int] | None = None  # the hits of a search, already ranked


@dataclass
class Page:
    tickets: list[Ticket]
    next_cursor: str | None
    sort: str
    view: str
    extra: dict[str, Any] = field(default_factory=dict)
    number: int = 1  # 1 for the first page; keyset pages have no offset, so the link carries it
    limit: int = PAGE_SIZE
    total: int = 0  # tickets in the list, up to ``COUNT_CAP``
    capped: bool = False  # True when there are more than ``total``

    @property
    def first(self) -> int:
        """Position of the page's first ticket in the whole list (1-based)."""
        return (self.number - 1) * self.limit + 1 if self.tickets else 0

    @property
    def last(self) -> int:
        return self.first + len(self.tickets) - 1 if self.tickets else 0

    @property
    def shown_total(self) -> int:
        """The count to print: never below the position already reached, even past the cap."""
        return max(self.total, self.last)


def visibility(user: User, visible_ids: set[int] | None) -> sa.ColumnElement[bool]:
    """Tickets the user may see: every one for leads and admins, their teams' accounts for agents."""
    if visible_ids is None:
        return sa.true()
    return Ticket.channel_account_id.in_(sorted(visible_ids) or [-1])


def view_clause(view: str, user: User) -> sa.ColumnElement[bool]:
    """The condition of a saved view; ``platform:<name>`` and ``account:<id>`` are open tickets of one kind."""
    is_open = Ticket.status.in_([str(s) for s in OPEN_STATUSES])
    if view == "mine":
        return sa.and_(is_open, Ticket.assignee_id == user.id)
    if view == "unassigned":
        return sa.and_(is_open, Ticket.assignee_id.is_(None))
    if view == "open":
        return is_open
    if view == "at_risk":
        return sa.and_(is_open, Ticket.sla_state == "warning")
    if view == "breached":
        return sa.and_(is_open, Ticket.sla_state == "breached")
    if view == "pending":
        return Ticket.status == TicketStatus.PENDING
    if view == "solved":
        return Ticket.status == TicketStatus.SOLVED
    kind, _, value = view.partition(":")
    if kind == "platform" and value:
        return sa.and_(is_open, Ticket.platform == value)
    if kind == "account" and is_id(value):
        return sa.and_(is_open, Ticket.channel_account_id == int(value))
    raise ValueError(f"unknown view {view!r}")


def _local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz))


def filter_clauses(filters: Filters, tz: str = "UTC") -> list[sa.ColumnElement[bool]]:
    """Conditions for the filter bar; dates are whole days in the agent's own time zone."""
    clauses: list[sa.ColumnElement[bool]] = []
    if filters.platform:
        clauses.append(Ticket.platform == filters.platform)
    if filters.account_id is not None:
        clauses.append(Ticket.channel_account_id == filters.account_id)
    if filters.status:
        clauses.append(Ticket.status == filters.status)
    if filters.priority:
        clauses.append(Ticket.priority == filters.priority)
    if filters.language:
        clauses.append(Ticket.language == filters.language)
    if filters.tag:
        clauses.append(
            sa.exists().where(TicketTag.ticket_id == Ticket.id, TicketTag.tag == filters.tag.strip().lower())
        )
    if filters.unassigned:
        clauses.append(Ticket.assignee_id.is_(None))
    elif filters.assignee_id is not None:
        clauses.append(Ticket.assignee_id == filters.assignee_id)
    if filters.team_id is not None:
        clauses.append(Ticket.team_id == filters.team_id)
    if filters.date_from:
        clauses.append(Ticket.created_at >= _local_midnight(filters.date_from, tz))
    if filters.date_to:
        clauses.append(Ticket.created_at < _local_midnight(filters.date_to + timedelta(days=1), tz))
    if filters.ticket_ids is not None:
        clauses.append(Ticket.id.in_(list(filters.ticket_ids) or [-1]))
    return clauses


# --- cursors -------------------------------------------------------------------------------------


def _encode(kind: str, at: datetime | None, ticket_id: int) -> str:
    return f"{kind}~{at.isoformat() if at else ''}~{ticket_id}"


def _decode(cursor: str) -> tuple[str, datetime | None, int]:
    try:
        kind, at, ticket_id = cursor.split("~")
        last_id = int(ticket_id)
        parsed = datetime.fromisoformat(at) if at else None
        if parsed is not None and parsed.tzinfo is not None:
            parsed.astimezone(UTC)  # year 1 at +05:00 is no instant the database can hold
    except (ValueError, OverflowError) as exc:
        raise BadCursor(cursor) from exc
    if not 0 <= last_id <= MAX_ID:  # a row id: anything else was not written here (and would overflow)
        raise BadCursor(cursor)
    return kind, parsed, last_id


def _with_tz(at: datetime | None) -> datetime | None:
    if at is not None and at.tzinfo is None:
        raise BadCursor("cursor time without zone")
    return at


# --- the page ------------------------------------------------------------------------------------


def _base(conditions: list[sa.ColumnElement[bool]]) -> sa.Select[tuple[Ticket]]:
    return sa.select(Ticket).where(*conditions).options(selectinload(Ticket.tags))


def fetch_page(
    session: Session,
    conditions: list[sa.ColumnElement[bool]],
    *,
    sort: str = "sla",
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[Ticket], str | None]:
    """One page of tickets matching ``conditions`` after ``cursor``, and the cursor of the next page."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    if sort == "sla":
        return _sla_page(session, conditions, cursor, limit)
    newest = sort == "newest"
    stmt = _base(conditions)
    if cursor:
        kind, at, last_id = _decode(cursor)
        at = _with_tz(at)
        if kind != "c" or at is None:
            raise BadCursor(cursor)
        if newest:
            stmt = stmt.where(sa.or_(Ticket.created_at < at, sa.and_(Ticket.created_at == at, Ticket.id < last_id)))
        else:
            stmt = stmt.where(sa.or_(Ticket.created_at > at, sa.and_(Ticket.created_at == at, Ticket.id > last_id)))
    order = (Ticket.created_at.desc(), Ticket.id.desc()) if newest else (Ticket.created_at.asc(), Ticket.id.asc())
    rows = list(session.scalars(stmt.order_by(*order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_encode("c", rows[-1].created_at, rows[-1].id) if more and rows else None)


def _sla_page(
    session: Session, conditions: list[sa.ColumnElement[bool]], cursor: str | None, limit: int
) -> tuple[list[Ticket], str | None]:
    segment, at, last_id = ("d", None, None) if not cursor else _decode(cursor)
    at = _with_tz(at)
    rows: list[Ticket] = []
    if segment == "d":
        stmt = _base(conditions).where(Ticket.sla_due_at.is_not(None))
        if at is not None and last_id is not None:
            stmt = stmt.where(sa.or_(Ticket.sla_due_at > at, sa.and_(Ticket.sla_due_at == at, Ticket.id > last_id)))
        rows = list(session.scalars(stmt.order_by(Ticket.sla_due_at, Ticket.id).limit(limit + 1)))
        if len(rows) > limit:
            rows = rows[:limit]
            return rows, _encode("d", rows[-1].sla_due_at, rows[-1].id)
        segment, last_id = "n", None
    elif segment != "n":
        raise BadCursor(cursor or "")
    room = limit - len(rows)
    stmt = _base(conditions).where(Ticket.sla_due_at.is_(None))
    if last_id is not None:
        stmt = stmt.where(Ticket.id > last_id)
    tail = list(session.scalars(stmt.order_by(Ticket.id).limit(room + 1)))
    more = len(tail) > room
    rows.extend(tail[:room])
    return rows, (_encode("n", None, rows[-1].id) if more and rows else None)


def count(session: Session, conditions: list[sa.ColumnElement[bool]]) -> int:
    return session.scalar(sa.select(sa.func.count(Ticket.id)).where(*conditions)) or 0


#: A list's own count stops here ("1,000+"): counting further would read the whole match on every page load.
COUNT_CAP = 1000


def count_upto(session: Session, conditions: list[sa.ColumnElement[bool]], cap: int = COUNT_CAP) -> int:
    """How many tickets match, reading at most ``cap + 1`` index entries; ``cap + 1`` means "more"."""
    inner = sa.select(Ticket.id).where(*conditions).limit(cap + 1).subquery()
    return session.scalar(sa.select(sa.func.count()).select_from(inner)) or 0


COUNTED_STATUSES = (*[str(s) for s in OPEN_STATUSES], str(TicketStatus.SOLVED))


def view_counts(session: Session, user: User, visible: sa.ColumnElement[bool]) -> dict[str, int]:
    """Every saved view's count from one grouped pass over an index-only scan.

    Tickets are grouped by (status, account, platform, SLA state, mine?) — a
    few hundred groups at most — and the views are summed from the groups in
    Python, instead of one COUNT query per view.
    """
    mine = sa.case((Ticket.assignee_id == user.id, 1), (Ticket.assignee_id.is_(None), 0), else_=2)
    stmt = (
        sa.select(Ticket.status, Ticket.channel_account_id, Ticket.platform, Ticket.sla_state, mine, sa.func.count())
        .where(visible, Ticket.status.in_(COUNTED_STATUSES))
        .group_by(Ticket.status, Ticket.channel_account_id, Ticket.platform, Ticket.sla_state, mine)
    )
    counts: dict[str, int] = dict.fromkeys(
        ("mine", "unassigned", "open", "at_risk", "breached", "pending", "solved"), 0
    )
    open_values = {str(s) for s in OPEN_STATUSES}
    for status, account_id, platform, sla_state, owner, n in session.execute(stmt):
        if status == TicketStatus.PENDING:
            counts["pending"] += n
        if status == TicketStatus.SOLVED:
            counts["solved"] += n
        if status not in open_values:
            continue
        counts["open"] += n
        counts["mine"] += n if owner == 1 else 0
        counts["unassigned"] += n if owner == 0 else 0
        counts["at_risk"] += n if sla_state == "warning" else 0
        counts["breached"] += n if sla_state == "breached" else 0
        if platform:
            counts[f"platform:{platform}"] = counts.get(f"platform:{platform}", 0) + n
        counts[f"account:{account_id}"] = counts.get(f"account:{account_id}", 0) + n
    return counts
