"""Growing delays after failed sign-ins, per (e-mail address, source address) and per source address.

Nothing here locks an account: a flood of wrong passwords from one address
makes that address wait longer and longer, while the account's owner signing
in from another address is not slowed at all.  Delays double from a few
seconds up to a cap; failures older than ``WINDOW`` are forgotten.  The
counters are rows updated with one atomic upsert, so every web process
shares them and two simultaneous failures both count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from helpdesk.db import utcnow
from helpdesk.signin.models import ANY_ACCOUNT, SigninThrottle

WINDOW = timedelta(hours=1)  # a failure older than this, with no delay running, no longer counts


@dataclass(frozen=True)
class Rule:
    free: int  # failures allowed before the first delay
    cap: timedelta  # the longest delay

    def delay(self, failures: int) -> timedelta:
        """2 s after the first failure over ``free``, doubling each time, never more than ``cap``."""
        if failures < self.free:
            return timedelta(0)
        exponent = min(failures - self.free + 1, 30)
        return min(timedelta(seconds=2**exponent), self.cap)


PER_ACCOUNT = Rule(free=5, cap=timedelta(minutes=15))  # one e-mail address tried from one source address
# Every e-mail address tried from one source address. Its cap is short because an office behind one NAT
# address shares it: a sprayer is still cut to a dozen guesses an hour, colleagues wait minutes, not an hour.
PER_ADDRESS = Rule(free=20, cap=timedelta(minutes=5))
PASSWORD_RESETS = Rule(free=10, cap=timedelta(hours=1))  # "forgot password?" requests from one source address
RESET_KEY = "#password-reset"  # the e-mail key of the rows that count reset requests


def normalise_email(email: str) -> str:
    return email.strip().lower()[:254]


def normalise_address(address: str | None) -> str:
    return (address or "unknown")[:64]


def wait_seconds(session: Session, email: str, address: str, now: datetime | None = None) -> int:
    """Seconds before this e-mail address may be tried again from ``address`` (0: now)."""
    now = now or utcnow()
    until = session.scalar(
        sa.select(sa.func.max(SigninThrottle.blocked_until)).where(
            SigninThrottle.address == normalise_address(address),
            SigninThrottle.email.in_([normalise_email(email), ANY_ACCOUNT]),
            SigninThrottle.blocked_until > now,
        )
    )
    return 0 if until is None else max(1, math.ceil((until - now).total_seconds()))


def record_failure(session: Session, email: str, address: str, now: datetime | None = None) -> int:
    """Count a failed attempt; return the seconds the next attempt must wait (0: none)."""
    now = now or utcnow()
    address = normalise_address(address)
    waits = [
        _bump(session, normalise_email(email), address, PER_ACCOUNT, now),
        _bump(session, ANY_ACCOUNT, address, PER_ADDRESS, now),
    ]
    return max(math.ceil(w.total_seconds()) for w in waits)


def _bump(session: Session, email: str, address: str, rule: Rule, now: datetime) -> timedelta:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    t = SigninThrottle.__table__
    stale = sa.and_(t.c.last_failure_at < now - WINDOW, sa.or_(t.c.blocked_until.is_(None), t.c.blocked_until < now))
    stmt = (
        insert(t)
        .values(email=email, address=address, failures=1, last_failure_at=now)
        .on_conflict_do_update(
            index_elements=[t.c.email, t.c.address],
            set_={"failures": sa.case((stale, 1), else_=t.c.failures + 1), "last_failure_at": now},
        )
        .returning(t.c.id, t.c.failures)
    )
    row_id, failures = session.execute(stmt).one()
    delay = rule.delay(failures)
    if delay:
        session.execute(sa.update(t).where(t.c.id == row_id).values(blocked_until=now + delay))
    return delay


def reset_request_wait(session: Session, address: str, now: datetime | None = None) -> int:
    """Count a "forgot password?" request from ``address``; the seconds that address must still wait (0: go on).

    Each user gets at most one mail every few minutes anyway; this stops one
    address from mailing every user of the desk. Sign-in failures do not
    count here: the wait message itself suggests resetting the password.
    The count is per source address, whatever e-mail address is asked for,
    so being told to wait says nothing about which addresses have accounts.
    """
    now = now or utcnow()
    address = normalise_address(address)
    until = session.scalar(
        sa.select(SigninThrottle.blocked_until).where(
            SigninThrottle.email == RESET_KEY, SigninThrottle.address == address
        )
    )
    if until is not None and until > now:
        return max(1, math.ceil((until - now).total_seconds()))
    _bump(session, RESET_KEY, address, PASSWORD_RESETS, now)
    return 0


def record_success(session: Session, email: str, address: str) -> None:
    """The right password from this address: its count for this e-mail address starts again.

    The per-address count stays: signing in to one's own account must not
    reset the counter that slows guessing at everyone else's.
    """
    session.execute(
        sa.delete(SigninThrottle).where(
            SigninThrottle.email == normalise_email(email), SigninThrottle.address == normalise_address(address)
        )
    )


def clear(session: Session, *, email: str | None = None, address: str | None = None, row_id: int | None = None) -> int:
    """Forget failures (an admin's Clear) of one row, an e-mail address or a source address; return rows cleared."""
    stmt = sa.delete(SigninThrottle)
    if row_id is not None:
        stmt = stmt.where(SigninThrottle.id == row_id)
    if email is not None:
        stmt = stmt.where(SigninThrottle.email == normalise_email(email))
    if address is not None:
        stmt = stmt.where(SigninThrottle.address == normalise_address(address))
    if row_id is None and email is None and address is None:
        raise ValueError("name what to clear")
    return session.execute(stmt).rowcount


def current(session: Session, now: datetime | None = None) -> list[SigninThrottle]:
    """Rows that slow someone down now or recently failed, most recent first (the admin page's list)."""
    now = now or utcnow()
    return list(
        session.scalars(
            sa.select(SigninThrottle)
            .where(sa.or_(SigninThrottle.blocked_until > now, SigninThrottle.last_failure_at >= now - WINDOW))
            .order_by(SigninThrottle.last_failure_at.desc())
            .limit(500)
        )
    )


def prune(session: Session, now: datetime | None = None) -> int:
    """Delete rows that no longer count for anything (daily housekeeping)."""
    now = now or utcnow()
    return session.execute(
        sa.delete(SigninThrottle).where(
            SigninThrottle.last_failure_at < now - WINDOW,
            sa.or_(SigninThrottle.blocked_until.is_(None), SigninThrottle.blocked_until < now),
        )
    ).rowcount
