"""The task queue: Huey on SQLite by default, on Redis when configured.

Tasks are declared at import time with ``@task``; ``configure`` chooses the
storage once the settings are known.  Every task runs inside an application
context and commits (or rolls back) its own session at the end, the job
boundary.
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask
from huey import Huey
from huey.api import TaskWrapper
from huey.exceptions import RetryTask, TaskLockedException
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from helpdesk import leases

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)


class _SqliteQueue(SqliteStorage):
    """Huey's SQLite storage, synced like the helpdesk database itself (WAL, ``synchronous=NORMAL``).

    Huey leaves SQLite's default FULL in place, which syncs the disk on every
    enqueue: about 1.6 ms each, paid by every ingest batch and every reply.
    NORMAL survives a crash of the process; only a power cut can lose the
    last jobs, exactly as it can lose the last committed tickets.
    """

    def _create_connection(self) -> Any:
        conn = super()._create_connection()
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn


huey = Huey("helpdesk", storage_class=MemoryStorage, utc=True)


class _LockSkipsAreNotNews(logging.Filter):
    """A task skipped because the same work is already running (a poll, a sweep) is its lock doing its job.

    Huey reports each skip as a warning, which `serve` would print to a newcomer as if something were wrong.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "unable to acquire lock" not in record.getMessage()


logging.getLogger("huey").addFilter(_LockSkipsAreNotNews())
# An idle consumer looks for new jobs at least this often (Huey's default backs off to 10 s): a webhook
# that queues a poll, or a reply, should not wait ten seconds for a consumer that happened to be idle.
MAX_IDLE_WAIT_S = 0.5
_app: Flask | None = None


def configure(app: Flask) -> None:
    """Bind the queue to ``app``'s settings: storage, immediate mode."""
    global _app  # noqa: PLW0603 - the queue is process-wide, like the app it serves
    _app = app
    settings = app.config["HELPDESK_SETTINGS"]
    if settings.redis_url:
        huey.storage_class = RedisStorage
        huey.storage_kwargs = {"url": settings.redis_url}
    else:
        huey.storage_class = _SqliteQueue
        huey.storage_kwargs = {"filename": str(settings.instance_path / "tasks.db")}
    huey.immediate = settings.tasks_immediate
    huey.storage = huey.create_storage()


def task(**options: Any) -> Callable[[F], TaskWrapper]:
    """Declare a background task that runs in an app context, committing at the end."""

    def decorator(fn: F) -> TaskWrapper:
        @functools.wraps(fn)
        def run_in_app(*args: Any, **kwargs: Any) -> Any:
            if _app is None:
                raise RuntimeError("the task queue is not configured; create the app first")
            from helpdesk.extensions import db

            with _app.app_context():
                try:
                    result = fn(*args, **kwargs)
                    db.session.commit()
                except BaseException as exc:
                    with suppress(Exception):  # on a dead connection the rollback fails too; the pool replaces it
                        db.session.rollback()
                    if not huey.immediate and database_unavailable(exc):
                        log.warning(
                            "task %s: the database is busy or unreachable (%s); retrying in %s s",
                            fn.__name__,
                            str(getattr(exc, "orig", exc)).strip().splitlines()[0],
                            DATABASE_RETRY_S,
                        )
                        raise RetryTask(delay=DATABASE_RETRY_S) from exc
                    raise
                finally:
                    db.session.remove()
                return result

        return huey.task(**options)(run_in_app)

    return decorator


def in_app(work: Callable[[], Any]) -> None:
    """Run a periodic task's ``work`` in the configured app's context (nothing before an app exists).

    Periodic tasks are plain Huey tasks, not :func:`task`: a sweep decides
    itself where its transactions end; the session is removed afterwards.
    """
    if _app is None:
        return
    from helpdesk.extensions import db

    with _app.app_context():
        try:
            work()
        finally:
            db.session.remove()


#: A job that found the database busy (SQLite's lock held past the busy timeout) or unreachable runs again this
#: much later, however often: its work is not done, and dropping the job would lose it (a reply never sent).
DATABASE_RETRY_S = 2
#: What such a failure says; anything else (a missing column, a constraint) is a bug, not a reason to retry.
_UNAVAILABLE = ("database is locked", "database is busy", "database table is locked", "connection", "server closed")


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be used just now, rather than that the work is wrong."""
    if not isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        return False
    if exc.connection_invalidated:
        return True
    text = str(exc.orig).lower()
    return any(sign in text for sign in _UNAVAILABLE)


#: How long a task's lease outlives a holder that stopped renewing it (killed, frozen, machine gone).
#: Short enough that a worker killed mid-poll and restarted polls the account again within two of its
#: default intervals: the lease lapses (45 s), then the next minutely sweep finds the account due.
TASK_LEASE_TTL = timedelta(seconds=45)
_immediate_leases: set[str] = set()
_immediate_guard = threading.Lock()


@contextmanager
def task_lease(name: str, on_busy: Callable[[], None] | None = None) -> Iterator[None]:
    """Run the block as the only holder of ``name`` across every worker process; skip it if another holds it.

    Huey's own ``lock_task`` is a plain key with no expiry: a worker killed
    mid-poll left it behind and every later poll of that account was skipped
    for ever.  This is a lease in the database (shared by every process on
    SQLite, PostgreSQL and with the Redis queue alike) renewed while the block
    runs, so a dead holder's lease lapses within ``TASK_LEASE_TTL``.  A busy
    lease raises Huey's ``TaskLockedException``: the task is skipped, or
    retried if it has retries, exactly as with ``lock_task``.  In immediate
    mode (one process, tasks run inline, maybe inside the caller's open
    transaction) the lease is a process-local set: a database write there could
    wait on the caller's own lock.  ``on_busy`` runs before a skip, to record it
    (queued mode only).
    """
    if huey.immediate:
        with _immediate_guard:
            busy = name in _immediate_leases
            _immediate_leases.add(name)
        if busy:  # inline, inside someone's transaction: no record of the skip, it would commit theirs
            raise TaskLockedException(f"unable to acquire lock {name}")
        try:
            yield
        finally:
            with _immediate_guard:
                _immediate_leases.discard(name)
        return
    from helpdesk.extensions import db

    lease = leases.RenewedLease(db.engine, f"task:{name}", TASK_LEASE_TTL)
    if not lease.take():
        if on_busy is not None:
            on_busy()
        raise TaskLockedException(f"unable to acquire lock {name}")
    try:
        yield
    finally:
        lease.release()


def start_consumer(workers: int = 2) -> Any:
    """Run the consumer in threads of this process (the one-command setup)."""
    consumer = huey.create_consumer(
        workers=workers, worker_type="thread", periodic=True, check_worker_health=False, max_delay=MAX_IDLE_WAIT_S
    )
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer.start()
    # The consumer claims the process's signals as if it owned it; here the web server does, so Ctrl+C
    # and SIGTERM must stop the server (whose shutdown then stops the consumer).
    for sig, handler in saved.items():
        signal.signal(sig, handler)
    return consumer
