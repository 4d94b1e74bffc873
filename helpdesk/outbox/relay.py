"""The relay: reads the outbox after a cursor and hands events to listeners.

Two jobs, one loop:

* **Broadcast** (``listen`` / ``listen_batch``, e.g. Socket.IO emits): each
  process that serves browsers relays every event to its own clients, with a
  cursor kept in memory.  The cursor starts at the end of the outbox when the
  relay starts or this process first writes an event, whichever is first, so
  a restarted web server does not replay the past to its new browsers.
* **Once** (``listen_once``, e.g. webhooks): whichever relay holds the
  ``outbox:once`` lease reads after each consumer's cursor in the database,
  calls the listener and moves the cursor in one transaction.  A relay that
  dies mid-way leaves the cursor where it was; the lease lapses and another
  relay (or this one, restarted) carries on from there.

A commit in this process wakes the relay at once; commits of other processes
(the worker, the CLI, another web process) are found by polling every
``poll_s`` seconds: one primary-key range read when nothing happened.
Broadcast follows every wake-up; the once-only listeners run at most every
``once_every_s`` seconds, so under a stream of small commits (webhook
deliveries stored dozens of times a second) one pass, with its lease, its
cursor transactions and the jobs it queues, covers every commit of that
moment instead of each one paying for its own.

In immediate mode (tests, ``HELPDESK_TASKS_IMMEDIATE``) there is no thread:
the committing thread relays right after its commit, as tasks run inline.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from sqlalchemy.orm import Session

from helpdesk import events
from helpdesk.leases import holder_id, release, try_acquire
from helpdesk.outbox import store

log = logging.getLogger(__name__)

EXTENSION = "helpdesk.outbox"
LEASE = "outbox:once"
POLL_S = 0.5
ONCE_EVERY_S = 0.25
BATCH = 500


class Relay:
    """One per application; started in the processes that serve browsers or run the worker."""

    def __init__(
        self,
        app: Flask,
        *,
        poll_s: float = POLL_S,
        once_every_s: float = ONCE_EVERY_S,
        batch: int = BATCH,
        lease_ttl: timedelta = timedelta(seconds=30),
        immediate: bool = False,
    ) -> None:
        self.app = app
        self.poll_s = poll_s
        self.once_every_s = once_every_s
        self.batch = batch
        self.lease_ttl = lease_ttl
        self.immediate = immediate
        self.broadcast = True
        self.cursor: int | None = None
        self.holder = holder_id()
        self._lock = threading.RLock()
        self._running = False
        self._again = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- life ---------------------------------------------------------------------------------

    def start(self, *, broadcast: bool = True) -> None:
        """Start relaying in a background thread (idempotent); ``broadcast=False`` in a worker."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self.broadcast = broadcast
            self._stop.clear()
            if self.cursor is None:
                with self.app.app_context():
                    self.cursor = self._end()
            self._thread = threading.Thread(target=self._loop, name="outbox-relay", daemon=True)
            self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        failures = 0
        once_at = 0.0  # monotonic time of the last pass of the once-only listeners
        while not self._stop.is_set():
            once = time.monotonic() - once_at >= self.once_every_s
            if once:
                once_at = time.monotonic()
            try:
                self.run_once(once=once)
                failures = 0
            except Exception:
                failures += 1
                log.exception("outbox relay pass failed (%d in a row); retrying", failures)
            wait = self.poll_s * min(2**failures, 20)
            if not once:  # they were skipped: come back for them when they are due
                wait = min(wait, max(0.0, once_at + self.once_every_s - time.monotonic()))
            self._wake.wait(wait)
            self._wake.clear()

    # --- hooks from helpdesk.events -----------------------------------------------------------

    def before_write(self, session: Session) -> None:
        """This process is about to write its first events: the broadcast cursor starts before them."""
        if self.cursor is None:
            with self._lock:
                if self.cursor is None:
                    self.cursor = store.end(session.connection())

    def committed(self) -> None:
        if self.immediate:
            self.run_once()
        else:
            self._wake.set()

    # --- relaying -----------------------------------------------------------------------------

    def run_once(self, *, once: bool = True) -> int:
        """Relay everything committed so far; how many events were handed on (broadcast and once).

        ``once=False`` broadcasts only: the relay's own loop spaces out the once-only listeners.
        """
        with self._lock:
            if self._running:  # a listener committed inside a pass of this same thread: go round again
                self._again = True
                return 0
            self._running = True
            try:
                total = 0
                with self.app.app_context():
                    engine = self._engine()
                    while True:
                        self._again = False
                        if self.broadcast or self.immediate:
                            total += self._broadcast(engine)
                        if once or self.immediate:
                            total += self._once(engine)
                        if not self._again:
                            return total
            finally:
                self._running = False

    def _engine(self) -> sa.Engine:
        from helpdesk.extensions import db

        return db.engine

    def _end(self) -> int:
        with self._engine().connect() as conn:
            return store.end(conn)

    def _broadcast(self, engine: sa.Engine) -> int:
        if self.cursor is None:
            with engine.connect() as conn:
                self.cursor = store.end(conn)
            return 0
        total = 0
        while True:
            with engine.connect() as conn:
                rows = store.read_after(conn, self.cursor, self.batch)
                if not rows:
                    end = store.end(conn)
                    if end < self.cursor:
                        # the outbox went back (a backup restored under a running server): follow it, or
                        # this process would wait for ids it will not see until the desk catches up
                        log.warning("outbox ends at %d, before this relay's cursor %d; following it", end, self.cursor)
                        self.cursor = end
            if not rows:
                return total
            handed = store.events_of(rows)
            events.deliver(handed)
            self.cursor = rows[-1][0]
            total += len(handed)
            if len(rows) < self.batch:
                return total

    def _once(self, engine: sa.Engine) -> int:
        consumers = dict(events.once_listeners)
        if not consumers:
            return 0
        with engine.connect() as conn:
            newest = store.end(conn)
            known = store.positions(conn)
        behind = [name for name in consumers if known.get(name, 0) < newest]
        if not behind:
            return 0  # nothing new: no lease, no write
        if not try_acquire(engine, LEASE, self.holder, self.lease_ttl):
            return 0  # another process relays them
        try:
            return self._consume(engine, {name: consumers[name] for name in sorted(behind)})
        finally:
            release(engine, LEASE, self.holder)

    def _consume(self, engine: sa.Engine, consumers: dict[str, tuple[frozenset[str], events.OnceListener]]) -> int:
        """Hand each consumer the rows after its cursor and move the cursors, in one transaction per read.

        The rows are read once for all consumers (from the oldest cursor) and
        decoded once, instead of once per consumer; each listener still runs in
        a savepoint of its own.  Cursors are claimed in name order, so two
        relays that race lock them in the same order.
        """
        total = 0
        while True:
            after: list[tuple[str, Callable[[], None]]] = []
            with Session(engine) as session, session.begin():
                connection = session.connection()
                positions = {consumer: store.claim(connection, consumer) for consumer in consumers}
                rows = store.read_after(connection, min(positions.values()), self.batch)
                if not rows:
                    return total
                for consumer, position in positions.items():
                    names, fn = consumers[consumer]
                    mine = [row for row in rows if row[0] > position]
                    if not mine:
                        continue
                    wanted = [(n, payload) for n, payload in store.events_of(mine) if "*" in names or n in names]
                    for name, payloads in events.runs(wanted):
                        work = _call_once(session, consumer, fn, name, payloads)
                        if work is not None:
                            after.append((consumer, work))
                    store.advance(connection, consumer, mine[-1][0])
                    total += sum(len(payloads) for _, _, payloads in mine)
            for consumer, work in after:  # the cursors moved: now the jobs that must not run for a rolled-back pass
                try:
                    work()
                except Exception:
                    log.exception("after-commit work of %s failed", consumer)
            if len(rows) < self.batch:
                return total


def _call_once(
    session: Session, consumer: str, fn: events.OnceListener, name: str, payloads: list[Any]
) -> Callable[[], None] | None:
    """Call a once-only listener in a savepoint: a failure undoes its writes, is logged and skipped."""
    try:
        with session.begin_nested():
            return fn(session, name, payloads)
    except Exception:
        log.exception("once-only listener %s failed on %s; those events are skipped for it", consumer, name)
        return None


def init_app(app: Flask) -> Relay:
    """Attach a relay to ``app`` (not started: the factory only builds)."""
    settings = app.config["HELPDESK_SETTINGS"]
    relay = Relay(app, immediate=settings.tasks_immediate)
    app.extensions[EXTENSION] = relay
    return relay


def relay_for(app: Flask) -> Relay:
    return app.extensions[EXTENSION]  # type: ignore[no-any-return]


def _current() -> Relay | None:
    return current_app.extensions.get(EXTENSION) if has_app_context() else None


def _before_write(session: Session) -> None:
    relay = _current()
    if relay is not None:
        relay.before_write(session)


def _committed() -> None:
    relay = _current()
    if relay is not None:
        relay.committed()


if _before_write not in events.before_write_hooks:
    events.before_write_hooks.append(_before_write)
if _committed not in events.committed_hooks:
    events.committed_hooks.append(_committed)
