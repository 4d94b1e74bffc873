"""Session records: the server's side of every signed-in browser, so a session can end for good.

The signed cookie alone cannot be taken back: a copy saved before signing out
would keep working until it expires.  So the cookie carries a random token,
the database keeps its SHA-256 (the token has 256 bits, so a fast hash is
enough, as for password links) in a :class:`UserSession`, and a request is
signed in only while that record is live:

- not ended (sign-out, "end" on the security page, sign out everywhere, a new
  password, deactivation, an admin's "End sessions");
- used within the idle lifetime (``last_seen_at``, moved at most once a
  minute so reading pages does not mean a write per request);
- younger than the absolute lifetime (``created_at``), however busy.

Functions flush; the caller commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.config import Settings
from helpdesk.db import utcnow
from helpdesk.signin.models import UserSession

TOUCH_EVERY = timedelta(minutes=1)  # how stale ``last_seen_at`` may get before a request moves it
KEEP_ENDED = timedelta(days=7)  # ended and expired records are deleted after this (daily housekeeping)


@dataclass(frozen=True)
class Lifetimes:
    idle: timedelta
    absolute: timedelta

    @classmethod
    def of(cls, settings: Settings) -> Lifetimes:
        return cls(timedelta(minutes=settings.session_idle_minutes), timedelta(hours=settings.session_max_hours))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _live(lifetimes: Lifetimes, now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        UserSession.ended_at.is_(None),
        UserSession.last_seen_at > now - lifetimes.idle,
        UserSession.created_at > now - lifetimes.absolute,
    )


def open_record(session: Session, user: User, *, device: str, address: str) -> str:
    """A new live session for ``user``; returns the token for the cookie (the database keeps its hash)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        UserSession(
            user_id=user.id,
            token_hash=_digest(token),
            created_at=now,
            last_seen_at=now,
            device=device[:120],
            address=address[:64],
        )
    )
    session.flush()
    return token


def find_live(
    session: Session, token: object, user_id: int, lifetimes: Lifetimes, now: datetime | None = None
) -> UserSession | None:
    """The live record of this cookie token for this user, or None (ended, expired, someone else's, forged)."""
    if not isinstance(token, str) or not token or len(token) > 100:
        return None
    return session.scalar(
        sa.select(UserSession).where(
            UserSession.token_hash == _digest(token),
            UserSession.user_id == user_id,
            _live(lifetimes, now or utcnow()),
        )
    )


def touch(session: Session, record: UserSession, now: datetime | None = None) -> bool:
    """Mark the record used now, unless it was within the last minute; True when it was written."""
    now = now or utcnow()
    if record.last_seen_at > now - TOUCH_EVERY:
        return False
    record.last_seen_at = now
    session.flush()
    return True


def end_token(session: Session, token: object) -> None:
    """End the session this cookie token belongs to (sign-out); an unknown token changes nothing."""
    if isinstance(token, str) and token:
        session.execute(
            sa.update(UserSession)
            .where(UserSession.token_hash == _digest(token), UserSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )


def end_one(session: Session, user: User, record_id: int) -> bool:
    """End one of ``user``'s own sessions; False when it is not theirs or already over."""
    ended = session.execute(
        sa.update(UserSession)
        .where(UserSession.id == record_id, UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    ).rowcount
    return bool(ended)


def end_all(session: Session, user: User) -> int:
    """End every session ``user`` has; returns how many were still open."""
    return session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    ).rowcount


def live_for(session: Session, user: User, lifetimes: Lifetimes, now: datetime | None = None) -> list[UserSession]:
    """``user``'s live sessions, most recently used first (the security page's list)."""
    return list(
        session.scalars(
            sa.select(UserSession)
            .where(UserSession.user_id == user.id, _live(lifetimes, now or utcnow()))
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def still_live(session: Session, record_ids: set[int], lifetimes: Lifetimes, now: datetime | None = None) -> set[int]:
    """Which of these records are still live (for live-update sockets opened under them)."""
    if not record_ids:
        return set()
    return set(
        session.scalars(
            sa.select(UserSession.id).where(UserSession.id.in_(record_ids), _live(lifetimes, now or utcnow()))
        )
    )


def live_counts(
    session: Session, user_ids: list[int], lifetimes: Lifetimes, now: datetime | None = None
) -> dict[int, int]:
    """How many live sessions each of these users has (users without any are left out)."""
    if not user_ids:
        return {}
    rows = session.execute(
        sa.select(UserSession.user_id, sa.func.count(UserSession.id))
        .where(UserSession.user_id.in_(user_ids), _live(lifetimes, now or utcnow()))
        .group_by(UserSession.user_id)
    )
    return {int(user_id): int(count) for user_id, count in rows}


def prune(session: Session, lifetimes: Lifetimes, now: datetime | None = None) -> int:
    """Delete records over for a week (ended, idle or past their lifetime); daily housekeeping."""
    cutoff = (now or utcnow()) - KEEP_ENDED
    return session.execute(
        sa.delete(UserSession).where(
            sa.or_(
                UserSession.ended_at < cutoff,
                UserSession.last_seen_at < cutoff - lifetimes.idle,
                UserSession.created_at < cutoff - lifetimes.absolute,
            )
        )
    ).rowcount
