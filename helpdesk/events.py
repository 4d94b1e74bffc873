"""The event catalogue: one list of what happens, many listeners.

Services *publish* events while they work.  Published events are written to
the outbox table in the same transaction as the change they announce (just
before it commits), so a commit and its events are one: a rollback erases
both, and a crash right after the commit loses nothing, because a relay reads
the table rather than this process's memory (``helpdesk.outbox.relay``).

Two kinds of listener subscribe here; the pipeline never calls one directly:

* ``listen`` / ``listen_batch``: every process that relays hears every event
  (Socket.IO emits to its own browsers).  At least once per process.
* ``listen_once``: exactly one process hears each event, whichever relays it
  first (webhooks, merge suggestions, order look-ups).  Its cursor lives in
  the database and moves in the same transaction as the listener's writes.

Outbox ids grow in commit order: SQLite has one writer at a time, and on
PostgreSQL the rows are written under a transaction-scoped advisory lock
taken just before the commit, so a relay that has read up to id N will never
later see a smaller id appear.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

Payload = Mapping[str, Any]
Listener = Callable[[str, Payload], None]
BatchListener = Callable[[str, list[Payload]], None]
#: A once-only listener: writes through ``session`` (committed with its cursor), returns work for after the commit.
OnceListener = Callable[[Session, str, list[Payload]], Callable[[], None] | None]

#: Every event the helpdesk publishes, with the keys of its payload.
CATALOGUE: dict[str, str] = {
    "ticket.created": "ticket_id, channel_account_id, team_id, customer_id, status, platform, subject",
    "ticket.updated": "ticket_id, channel_account_id, team_id, changes (field → new value)",
    "ticket.reopened": "ticket_id, channel_account_id, team_id",
    "message.received": "ticket_id, message_id, channel_account_id, team_id, direction, auto",
    "message.created": "ticket_id, message_id, channel_account_id, team_id, direction, is_internal",
    "message.delivery": "ticket_id, message_id, channel_account_id, team_id, state, error",
    "message.translated": (
        "ticket_id, message_id, channel_account_id, team_id, translation_id, target, provider, status"
    ),
    "customer.created": "customer_ids (every customer a batch created)",
    "customer.merged": "customer_id, merged_id",
    "customer.suggestion_accepted": "suggestion_id, customer_id, candidate_id, kept_id, merged_id, score, actor_id",
    "customer.suggestion_rejected": "suggestion_id, customer_id, candidate_id, actor_id",
    "order.updated": "order_id, channel_account_id, order_number",
    "channel.health": "channel_account_id, health, detail",
    "input.quarantined": "quarantine_id, source, reason",
    "sla.warning": "ticket_id, channel_account_id, team_id, clock, due_at",
    "sla.breached": "ticket_id, channel_account_id, team_id, clock, due_at",
    "notification.created": "user_id, notification_id, kind, ticket_id (the person's own; only their room hears it)",
    "notification.read": "user_id, unread (the person's unread count after the change; only their room hears it)",
}

_PENDING = "helpdesk.pending_events"
_WRITTEN = "helpdesk.outbox_written"
_listeners: dict[str, list[Listener]] = defaultdict(list)
_batch_listeners: dict[str, list[BatchListener]] = defaultdict(list)
#: consumer name → (event names, listener); the name keys its durable cursor, so keep it stable.
once_listeners: dict[str, tuple[frozenset[str], OnceListener]] = {}
#: Called with the session just before its events are written (a relay notes where the outbox ended).
before_write_hooks: list[Callable[[Session], None]] = []
#: Called after a commit that wrote events (a relay in this process wakes up).
committed_hooks: list[Callable[[], None]] = []


def listen(*names: str) -> Callable[[Listener], Listener]:
    """Decorator: call the function after commit for each named event ("*" = all)."""

    def decorator(fn: Listener) -> Listener:
        _register(_listeners, names, fn)
        return fn

    return decorator


def listen_batch(*names: str) -> Callable[[BatchListener], BatchListener]:
    """Decorator: call the function once per run of same-named events, with all their payloads.

    For listeners with a fixed cost per call (finding who is listening,
    checking subscriptions): a 500-message batch is one call, not 500.
    """

    def decorator(fn: BatchListener) -> BatchListener:
        _register(_batch_listeners, names, fn)
        return fn

    return decorator


def listen_once(consumer: str, *names: str) -> Callable[[OnceListener], OnceListener]:
    """Decorator: exactly one process hears each named event ("*" = all), in order, once per run.

    ``consumer`` names the listener's cursor in the database: renaming it
    makes a new listener that starts from the oldest event still kept.
    """

    def decorator(fn: OnceListener) -> OnceListener:
        _register(defaultdict(list), names, fn)  # validates the names
        once_listeners[consumer] = (frozenset(names), fn)
        return fn

    return decorator


def _register(table: dict[str, list[Any]], names: tuple[str, ...], fn: Any) -> None:
    for name in names:
        if name != "*" and name not in CATALOGUE:
            raise ValueError(f"unknown event {name!r}; add it to helpdesk.events.CATALOGUE first")
        if fn not in table[name]:
            table[name].append(fn)


def unlisten(fn: Listener | BatchListener | OnceListener) -> None:
    """Remove a listener from every event (tests use this)."""
    for table in (_listeners, _batch_listeners):
        for fns in table.values():
            if fn in fns:
                fns.remove(fn)
    for consumer, (_, listener) in list(once_listeners.items()):
        if listener is fn:
            del once_listeners[consumer]


def publish(session: Session, name: str, payload: Payload) -> None:
    """Add ``name`` to ``session``'s transaction: it is written to the outbox as the session commits."""
    if name not in CATALOGUE:
        raise ValueError(f"unknown event {name!r}")
    session.info.setdefault(_PENDING, []).append((name, payload))


def publish_many(session: Session, name: str, payloads: list[Payload]) -> None:
    """Add one event per payload (a batch's worth) to ``session``'s transaction."""
    if name not in CATALOGUE:
        raise ValueError(f"unknown event {name!r}")
    if payloads:
        session.info.setdefault(_PENDING, []).extend((name, p) for p in payloads)


def dispatch(name: str, payload: Payload) -> None:
    """Deliver one event now to this process's listeners; a failing listener is logged and the rest still run."""
    deliver([(name, payload)])


def deliver(events: list[tuple[str, Payload]]) -> None:
    """Hand events to this process's listeners in order, one call per run of a name for batch listeners."""
    for name, payloads in runs(events):
        for batch_fn in (*_batch_listeners.get(name, ()), *_batch_listeners.get("*", ())):
            _call(batch_fn, name, payloads)
        for fn in (*_listeners.get(name, ()), *_listeners.get("*", ())):
            for payload in payloads:
                _call(fn, name, payload)


def _call(fn: Callable[[str, Any], None], name: str, argument: Any) -> None:
    try:
        fn(name, argument)
    except Exception:
        log.exception("listener %s failed on %s", getattr(fn, "__qualname__", fn), name)


def runs(events: list[tuple[str, Payload]]) -> list[tuple[str, list[Payload]]]:
    """Consecutive same-named events grouped: ``[(name, [payload, …]), …]`` in order."""
    grouped: list[tuple[str, list[Payload]]] = []
    for name, payload in events:
        if grouped and grouped[-1][0] == name:
            grouped[-1][1].append(payload)
        else:
            grouped.append((name, [payload]))
    return grouped


@sa.event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    from helpdesk.outbox import store

    for hook in before_write_hooks:
        hook(session)
    store.write(session, pending)
    session.info[_WRITTEN] = True


@sa.event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if session.info.pop(_WRITTEN, None):
        for hook in committed_hooks:
            try:
                hook()
            except Exception:
                log.exception("after-commit hook %s failed", getattr(hook, "__qualname__", hook))


@sa.event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_WRITTEN, None)
