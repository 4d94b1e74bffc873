"""Leases: locks that expire unless their holder renews them.

A process that holds a lock while it works (refreshing an account's OAuth
token, a poll, a sweep) may die holding it; a plain lock would then stop that
work for good.  A lease is a row with an expiry: taking it succeeds when the
row is absent, expired or already ours, in one statement, so two processes
never both hold it, and a crashed holder's lease lapses on its own.

Leases are taken in a connection of their own (autocommit), never inside the
caller's transaction: the caller's work must not hold the database's write
lock while it waits on the network.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import Base, utcnow

log = logging.getLogger(__name__)


class Lease(Base):
    __tablename__ = "lease"

    name: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(120))
    expires_at: Mapped[datetime]


class LeaseBusy(TimeoutError):
    """Another holder kept the lease for longer than we were willing to wait."""


_PROCESS = f"{socket.gethostname()}:{os.getpid()}"


def holder_id() -> str:
    """This thread's identity as a lease holder."""
    return f"{_PROCESS}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"


def try_acquire(engine: sa.Engine, name: str, holder: str, ttl: timedelta) -> bool:
    """Take ``name`` for ``ttl`` if it is free, expired or ours; True when we hold it now.

    One upsert whose update only happens when the lease lapsed or is ours, so
    two processes racing for it cannot both succeed.
    """
    now = utcnow()
    table = Lease.__table__
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table).values(name=name, holder=holder, expires_at=now + ttl)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.name],
        set_={"holder": holder, "expires_at": now + ttl},
        where=sa.or_(table.c.expires_at < now, table.c.holder == holder),
    )
    with engine.begin() as conn:  # a row comes back only when we inserted or took it over
        return conn.execute(stmt.returning(table.c.holder)).first() is not None


def release(engine: sa.Engine, name: str, holder: str) -> None:
    table = Lease.__table__
    with engine.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.name == name, table.c.holder == holder))


@contextmanager
def held(
    engine: sa.Engine,
    name: str,
    *,
    ttl: timedelta = timedelta(minutes=2),
    wait_s: float = 30.0,
    poll_s: float = 0.05,
) -> Iterator[str]:
    """Hold lease ``name`` for the block, waiting up to ``wait_s`` for another holder to finish."""
    holder = holder_id()
    deadline = time.monotonic() + wait_s
    while not try_acquire(engine, name, holder, ttl):
        if time.monotonic() >= deadline:
            raise LeaseBusy(f"lease {name!r} is held by another process")
        time.sleep(poll_s)
        poll_s = min(poll_s * 2, 0.5)
    try:
        yield holder
    finally:
        release(engine, name, holder)


class RenewedLease:
    """A lease kept alive by a thread of its holder for as long as the work runs.

    For work of unknown length (a poll of a big mailbox, a sweep): the holder
    keeps the lease however long it works, and a holder killed with SIGKILL
    stops renewing, so its lease lapses within ``ttl`` and the next run
    proceeds.  A renewal that fails is logged and the work goes on (at worst a
    second holder starts once the lease lapsed, which every such task
    tolerates: their effects are idempotent).
    """

    def __init__(self, engine: sa.Engine, name: str, ttl: timedelta) -> None:
        self.engine, self.name, self.ttl = engine, name, ttl
        self.holder = holder_id()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def take(self) -> bool:
        """Take the lease and start renewing it; False (and nothing started) if another holds it."""
        if not try_acquire(self.engine, self.name, self.holder, self.ttl):
            return False
        self._renewer = threading.Thread(target=self._renew, name=f"lease:{self.name}", daemon=True)
        self._renewer.start()
        return True

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl.total_seconds() / 3):
            try:
                if not try_acquire(self.engine, self.name, self.holder, self.ttl):
                    log.error("lease %s was taken over while its holder still worked", self.name)
                    return
            except Exception:
                log.warning("lease %s could not be renewed; retrying", self.name, exc_info=True)

    def release(self) -> None:
        """Stop renewing and give the lease back; if the database is unreachable, let it lapse instead.

        Raising here would replace the error that ended the work (often the
        same outage) with this one, and nothing is gained: unrenewed, the
        lease expires within ``ttl``.
        """
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        try:
            release(self.engine, self.name, self.holder)
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            log.warning("lease %s could not be released (%s); it lapses within %s", self.name, exc.orig, self.ttl)
