"""Inbox rules: which views an agent has, their counts, one page of tickets, bulk actions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from helpdesk.accounts.models import Team, User
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.inbox import queries
from helpdesk.inbox.queries import Filters, Page
from helpdesk.params import is_id
from helpdesk.tickets import merging
from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import Ticket

VIEW_LABELS = {
    "mine": _l("My open tickets"),
    "unassigned": _l("Unassigned"),
    "open": _l("All open"),
    "at_risk": _l("SLA at risk"),
    "breached": _l("SLA breached"),
    "pending": _l("Pending"),
    "solved": _l("Solved"),
}
BULK_ACTIONS = ("assign", "status", "priority", "tag", "merge")
MAX_BULK = 500


@dataclass(frozen=True)
class ViewEntry:
    key: str
    label: str
    count: int | None
    group: str  # "views", "platforms" or "stores"


def visible_accounts(session: Session, visible_ids: set[int] | None) -> list[ChannelAccount]:
    stmt = sa.select(ChannelAccount).order_by(ChannelAccount.display_name)
    if visible_ids is not None:
        stmt = stmt.where(ChannelAccount.id.in_(sorted(visible_ids) or [-1]))
    return list(session.scalars(stmt))


def sidebar_views(session: Session, visible_ids: set[int] | None) -> list[ViewEntry]:
    """The saved views a user has, without counts: the page loads those from /inbox/counts.

    Counting every view reads the whole (open) ticket index — tens of
    milliseconds at 100,000 tickets — so it is kept out of the page's own
    request and refreshed by the browser, also after live events.
    """
    entries = [ViewEntry(key, str(label), None, "views") for key, label in VIEW_LABELS.items()]
    accounts = visible_accounts(session, visible_ids)
    for platform in sorted({a.platform for a in accounts if a.platform}):
        entries.append(ViewEntry(f"platform:{platform}", platform, None, "platforms"))
    entries.extend(ViewEntry(f"account:{a.id}", a.display_name, None, "stores") for a in accounts)
    return entries


def view_counts(session: Session, user: User, visible_ids: set[int] | None) -> dict[str, int]:
    """Ticket count of every view in the sidebar (zero for views with no tickets)."""
    counts = queries.view_counts(session, user, queries.visibility(user, visible_ids))
    return {e.key: counts.get(e.key, 0) for e in sidebar_views(session, visible_ids)}


def may_open_view(view: str, visible_ids: set[int] | None) -> bool:
    """A store's view only for those who see the store: its page would name the store in its title."""
    kind, _, value = view.partition(":")
    return kind != "account" or visible_ids is None or (is_id(value) and int(value) in visible_ids)


def view_label(view: str, session: Session) -> str:
    if view in VIEW_LABELS:
        return str(VIEW_LABELS[view])
    kind, _, value = view.partition(":")
    if kind == "account" and is_id(value):
        account = session.get(ChannelAccount, int(value))
        return account.display_name if account else view
    return value or view


def inbox_page(
    session: Session,
    user: User,
    visible_ids: set[int] | None,
    *,
    view: str = queries.DEFAULT_VIEW,
    filters: Filters | None = None,
    sort: str = "sla",
    cursor: str | None = None,
    limit: int = queries.PAGE_SIZE,
    number: int = 1,
) -> Page:
    """One page of the user's view, filtered and sorted, with the list's count up to ``COUNT_CAP``.

    The exact count of an unfiltered view is the sidebar's (``view_counts``),
    which the page fetches anyway; a filtered list says "1,000+" past the
    cap rather than count a large match on every page.  Raises ValueError on
    an unknown view or sort.
    """
    filters = filters or Filters()
    conditions = [
        queries.visibility(user, visible_ids),
        queries.view_clause(view, user),
        *queries.filter_clauses(filters, user.timezone or "UTC"),
    ]
    rows, next_cursor = queries.fetch_page(session, conditions, sort=sort, cursor=cursor, limit=limit)
    total = queries.count_upto(session, conditions)
    return Page(
        tickets=rows,
        next_cursor=next_cursor,
        sort=sort,
        view=view,
        number=number,
        limit=limit,
        total=min(total, queries.COUNT_CAP),
        capped=total > queries.COUNT_CAP,
    )


def ticket_matches(
    session: Session, user: User, visible_ids: set[int] | None, ticket_id: int, view: str, filters: Filters
) -> Ticket | None:
    """The ticket if it belongs in the user's current list (for rows that arrive live)."""
    conditions = [
        Ticket.id == ticket_id,
        queries.visibility(user, visible_ids),
        queries.view_clause(view, user),
        *queries.filter_clauses(filters, user.timezone or "UTC"),
    ]
    return session.scalar(sa.select(Ticket).where(*conditions))


def filter_options(session: Session, visible_ids: set[int] | None) -> dict[str, Any]:
    """Choices for the filter bar, limited to what the user may see."""
    accounts = visible_accounts(session, visible_ids)
    return {
        "accounts": accounts,
        "platforms": sorted({a.platform for a in accounts if a.platform}),
        "teams": list(session.scalars(sa.select(Team).order_by(Team.name))),
        "assignees": list(session.scalars(sa.select(User).where(User.active.is_(True)).order_by(User.name))),
        "languages": sorted({a.default_language for a in accounts if a.default_language}),
    }


def visible_tickets(session: Session, user: User, visible_ids: set[int] | None, ids: Sequence[int]) -> list[Ticket]:
    """The tickets among ``ids`` that the user may see; the rest are silently ignored."""
    ids = list(dict.fromkeys(ids))[:MAX_BULK]
    if not ids:
        return []
    stmt = sa.select(Ticket).where(Ticket.id.in_(ids), queries.visibility(user, visible_ids)).order_by(Ticket.id)
    return list(session.scalars(stmt))


def bulk(session: Session, user: User, rows: list[Ticket], action: str, value: str) -> int:
    """Apply one action to many tickets; returns how many changed.  Merge folds all into the oldest."""
    if action not in BULK_ACTIONS:
        raise tickets.TicketError("Unknown bulk action.")
    if action == "merge":
        if len(rows) < 2:
            raise tickets.TicketError("Select at least two tickets of the same customer to merge.")
        target, *sources = sorted(rows, key=lambda t: t.id)
        for source in sources:  # each merge is recorded on its own, so each can be undone from the ticket
            merging.merge(session, source, target, user)
        return len(sources)
    if action == "assign" and value and not is_id(value):
        raise tickets.TicketError("That user does not exist or is inactive.")
    changed = 0
    for ticket in rows:
        if action == "status" and ticket.merged_into_id is not None:
            continue  # a merged ticket stays closed until its merge is undone
        changed += 1
        if action == "assign":
            tickets.assign(session, ticket, int(value) if value else None, user)
        elif action == "status":
            tickets.set_status(session, ticket, value, user)
        elif action == "priority":
            tickets.set_priority(session, ticket, value, user)
        elif action == "tag":
            tickets.add_tags(session, ticket, [value], user)
    return changed
