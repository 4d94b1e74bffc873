"""Create, list and read notifications; keep each person's unread count in step.

Services flush; the caller (request, task) commits.  Every change that moves
an unread count moves it in the same transaction, so the bell never scans.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from helpdesk.accounts.models import Role, User
from helpdesk.db import utcnow
from helpdesk.events import publish
from helpdesk.notifications.models import Mention, Notification, NotificationCount, NotificationKind
from helpdesk.tickets.models import Message, Ticket

#: The longest @mention search worth running: no name or e-mail address is longer.
MAX_QUERY = 254

PAGE = 50
MAX_MENTIONS = 20
_EMAIL = re.compile(r"@([\w.+-]+@[\w-]+(?:\.[\w-]+)+)")


def _bump(session: Session, user_id: int, delta: int) -> None:
    """Add ``delta`` to the person's unread count, creating their row on first use (one statement)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(NotificationCount).values(user_id=user_id, unread=max(delta, 0))
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id"], set_={"unread": NotificationCount.__table__.c.unread + delta}
        )
    )


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(sa.select(NotificationCount.unread).where(NotificationCount.user_id == user_id)) or 0


def notify(
    session: Session,
    user_id: int,
    kind: NotificationKind,
    ticket_id: int | None,
    key: str,
    *,
    message_id: int | None = None,
    actor_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> Notification | None:
    """Tell ``user_id`` about something on a ticket (or, ``ticket_id`` None, on the desk); None when they already
    have that unread notice.

    A notice they read already is woken (unread, newest again): being assigned
    the same ticket twice is news twice, an event relayed twice is not.
    """
    existing = session.scalar(
        sa.select(Notification).where(Notification.user_id == user_id, Notification.key == key).with_for_update()
    )
    now = utcnow()
    if existing is not None:
        if existing.read_at is None:
            return None
        existing.read_at, existing.created_at = None, now
        existing.actor_id, existing.message_id, existing.data = actor_id, message_id, data or {}
        note = existing
        session.flush()
    else:
        note = Notification(
            user_id=user_id,
            kind=kind,
            key=key,
            ticket_id=ticket_id,
            message_id=message_id,
            actor_id=actor_id,
            data=data or {},
            created_at=now,
        )
        try:
            with session.begin_nested():  # another process relaying the same event may have been first
                session.add(note)
                session.flush()
        except sa.exc.IntegrityError:
            return None
    _bump(session, user_id, 1)
    publish(
        session,
        "notification.created",
        {"user_id": user_id, "notification_id": note.id, "kind": str(kind), "ticket_id": ticket_id},
    )
    return note


def _announce_read(session: Session, user_id: int) -> None:
    """Tell the person's other tabs the new count (read after the change, in its transaction, so in commit order)."""
    publish(session, "notification.read", {"user_id": user_id, "unread": unread_count(session, user_id)})


def mark_read(session: Session, user: User, notification_id: int) -> Notification | None:
    """Mark one of the person's notifications read; None when it is not theirs."""
    note = session.get(Notification, notification_id)
    if note is None or note.user_id != user.id:
        return None
    if note.read_at is None:
        note.read_at = utcnow()
        session.flush()
        _bump(session, user.id, -1)
        _announce_read(session, user.id)
    return note


def mark_all_read(session: Session, user: User) -> int:
    """Mark every unread notification of the person read; how many there were."""
    done = session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if done:
        _bump(session, user.id, -done)
        _announce_read(session, user.id)
    return int(done or 0)


@dataclass(frozen=True)
class Item:
    """A notification as the list shows it: the ticket's subject and the actor's name joined in.

    ``visible`` is false when the person may no longer see the ticket (moved to
    another team): the notice stays, its subject is not shown.  A notice about
    no ticket has an empty subject and is visible.
    """

    notification: Notification
    subject: str
    actor_name: str | None
    visible: bool = True


def recent(session: Session, user: User, *, before_id: int | None = None, unread_only: bool = False) -> list[Item]:
    """The person's notifications, newest first, a page at a time (keyset on id)."""
    actor = sa.orm.aliased(User)
    stmt = (
        sa.select(Notification, Ticket.subject, actor.name)
        .outerjoin(Ticket, Ticket.id == Notification.ticket_id)
        .outerjoin(actor, actor.id == Notification.actor_id)
        .where(Notification.user_id == user.id)
        .order_by(Notification.id.desc())
        .limit(PAGE)
    )
    if before_id is not None:
        stmt = stmt.where(Notification.id < before_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    from helpdesk.accounts.services import visible_account_ids

    stmt = stmt.add_columns(Ticket.channel_account_id)
    visible = visible_account_ids(user)
    items = []
    for n, subject, name, account_id in session.execute(stmt):
        seen = n.ticket_id is None or visible is None or account_id in visible
        items.append(Item(n, (subject or "") if seen else "", name, seen))
    return items


def recount(session: Session, *, fix: bool = False) -> dict[int, tuple[int, int]]:
    """Count unread notifications from scratch; {user id: (kept, counted)} for every person where they differ."""
    counted = dict(
        session.execute(
            sa.select(Notification.user_id, sa.func.count())
            .where(Notification.read_at.is_(None))
            .group_by(Notification.user_id)
        ).all()
    )
    kept = dict(session.execute(sa.select(NotificationCount.user_id, NotificationCount.unread)).all())
    wrong = {
        uid: (kept.get(uid, 0), counted.get(uid, 0))
        for uid in set(counted) | set(kept)
        if kept.get(uid, 0) != counted.get(uid, 0)
    }
    if fix:
        for uid, (_, right) in wrong.items():
            _bump(session, uid, right - kept.get(uid, 0))
    return wrong


# --- mentions ---------------------------------------------------------------------------------------


def mentionable(
    session: Session, ticket: Ticket, query: str = "", limit: int = 8, exclude: int | None = None
) -> list[User]:
    """Active colleagues who may see the ticket: names containing ``query`` or e-mails starting with it.

    Names that start with it come first.  E-mails only match from their start:
    "le" should find Lena, not everyone at example.com.
    """
    from helpdesk.tickets.services import may_see_account

    stmt = sa.select(User).where(User.active.is_(True))
    if exclude is not None:
        stmt = stmt.where(User.id != exclude)
    q = query.strip().lower()[:MAX_QUERY].replace("%", "").replace("_", "")
    name = sa.func.lower(User.name)
    if q:
        stmt = stmt.where(sa.or_(name.like(f"%{q}%"), sa.func.lower(User.email).like(f"{q}%")))
        stmt = stmt.order_by(sa.case((name.like(f"{q}%"), 0), else_=1))
    stmt = stmt.order_by(User.name, User.id)
    found: list[User] = []
    for user in session.scalars(stmt.limit(200)):
        if may_see_account(session, user, ticket.channel_account_id):
            found.append(user)
            if len(found) >= limit:
                break
    return found


def resolve_mentions(session: Session, ticket: Ticket, body: str, chosen: Iterable[int] = ()) -> list[User]:
    """The colleagues a note mentions: those picked in the composer whose ``@name`` is still in the text,
    and any ``@email`` of a colleague typed by hand; only active users who may see the ticket.
    """
    from helpdesk.tickets.services import may_see_account

    text = body.casefold()
    ids = {int(i) for i in chosen}
    emails = {m.group(1).casefold() for m in _EMAIL.finditer(body)}
    if not ids and not emails:
        return []
    candidates = session.scalars(
        sa.select(User).where(
            User.active.is_(True), sa.or_(User.id.in_(ids or [0]), sa.func.lower(User.email).in_(emails or [""]))
        )
    )
    found = []
    for user in candidates:
        named = f"@{user.name}".casefold() in text or f"@{user.email}".casefold() in text
        if named and may_see_account(session, user, ticket.channel_account_id):
            found.append(user)
    return sorted(found, key=lambda u: u.id)[:MAX_MENTIONS]


def record_mentions(session: Session, message: Message, users: Sequence[User]) -> None:
    """Keep whom the note mentions; the notifications follow from ``message.created``."""
    session.add_all(Mention(message_id=message.id, user_id=u.id) for u in users)
    session.flush()


def mentioned(session: Session, message_id: int) -> list[int]:
    return list(session.scalars(sa.select(Mention.user_id).where(Mention.message_id == message_id)))


# --- from events ------------------------------------------------------------------------------------


def _may_see(session: Session, user_id: int, ticket: Ticket) -> bool:
    from helpdesk.tickets.services import may_see_account

    user = session.get(User, user_id)
    return user is not None and user.active and may_see_account(session, user, ticket.channel_account_id)


def notify_mentions(session: Session, message_ids: Sequence[int]) -> int:
    """Notify everyone these notes mention (not the author; only who may still see the ticket)."""
    made = 0
    for message_id in message_ids:
        message = session.get(Message, message_id)
        if message is None or not message.is_internal:
            continue
        ticket = session.get(Ticket, message.ticket_id)
        assert ticket is not None
        for user_id in mentioned(session, message_id):
            if user_id == message.author_user_id or not _may_see(session, user_id, ticket):
                continue
            key = f"mention:{message_id}"
            made += notify(
                session, user_id, NotificationKind.MENTION, ticket.id, key,
                message_id=message_id, actor_id=message.author_user_id,
            ) is not None  # fmt: skip
    return made


def notify_assignments(session: Session, assignments: Sequence[dict[str, Any]]) -> int:
    """Tell people a colleague gave them a ticket, if it is still theirs and they may see it."""
    made = 0
    for item in assignments:
        ticket = session.get(Ticket, int(item["ticket_id"]))
        user_id = int(item["assignee_id"])
        if ticket is None or ticket.assignee_id != user_id or not _may_see(session, user_id, ticket):
            continue
        actor = item.get("actor_id")
        made += notify(
            session, user_id, NotificationKind.ASSIGNED, ticket.id, f"assigned:{ticket.id}",
            actor_id=int(actor) if actor is not None else None,
        ) is not None  # fmt: skip
    return made


def notify_sla(session: Session, name: str, payloads: Sequence[dict[str, Any]]) -> int:
    """Warn the assignee that a clock on their ticket is about to run out, or ran out."""
    kind = NotificationKind.SLA_BREACHED if name == "sla.breached" else NotificationKind.SLA_WARNING
    made = 0
    for payload in payloads:
        ticket = session.get(Ticket, int(payload["ticket_id"]))
        if ticket is None or ticket.assignee_id is None or not _may_see(session, ticket.assignee_id, ticket):
            continue
        clock, due = str(payload.get("clock", "")), str(payload.get("due_at", ""))
        key = f"{kind}:{ticket.id}:{clock}:{due}"[:200]
        made += (
            notify(session, ticket.assignee_id, kind, ticket.id, key, data={"clock": clock, "due_at": due}) is not None
        )
    return made


def _notify_admins(session: Session, kind: NotificationKind, key: str, data: dict[str, Any]) -> int:
    """One desk-wide notice (no ticket) to every active admin; how many got it as news."""
    admins = session.scalars(
        sa.select(User.id).where(User.role == Role.ADMIN, User.active.is_(True)).order_by(User.id)
    ).all()
    return sum(notify(session, user_id, kind, None, key[:200], data=data) is not None for user_id in admins)


def notify_webhook_disabled(
    session: Session, *, webhook_id: int, name: str, url: str, error: str | None, disabled_at: datetime
) -> int:
    """Tell every active admin that the desk disabled an outbound webhook, and why; how many were told.

    The delivery log says the same, but only to someone who looks: an
    integration that silently stopped receiving events is found out by its
    users, days later.  Admins are the ones who can fix and re-enable it.
    """
    key = f"{NotificationKind.WEBHOOK_DISABLED}:{webhook_id}:{disabled_at.isoformat()}"
    data = {"webhook_id": webhook_id, "name": name, "url": url, "error": error or ""}
    return _notify_admins(session, NotificationKind.WEBHOOK_DISABLED, key, data)


def notify_channel_silent(
    session: Session,
    *,
    account_id: int,
    name: str,
    since: datetime,
    last_attempt: str,
    detail: str | None,
) -> int:
    """Tell every active admin that a store stopped being polled, and what became of the last attempt.

    A store whose mail silently stops is the worst failure a helpdesk can
    have: buyers wait, clocks run, and nothing on the inbox looks wrong.
    One notice per silence (the key holds when it began).
    """
    key = f"{NotificationKind.CHANNEL_SILENT}:{account_id}:{since.isoformat()}"
    data = {
        "account_id": account_id,
        "name": name,
        "since": since.isoformat(),
        "last_attempt": last_attempt,
        "detail": detail or "",
    }
    return _notify_admins(session, NotificationKind.CHANNEL_SILENT, key, data)
