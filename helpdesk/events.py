"""The event catalogue: one list of what happens, many listeners.

Services *publish* events while they work; nothing is delivered until the
surrounding transaction commits, so a listener never sees a ticket that a
rollback erased.  Real-time updates, outbound webhooks, SLA and automation
all subscribe here; the pipeline never calls a listener directly.
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

#: Every event the helpdesk publishes, with the keys of its payload.
CATALOGUE: dict[str, str] = {
    "ticket.created": "ticket_id, channel_account_id, team_id, customer_id, status, platform, subject",
    "ticket.updated": "ticket_id, channel_account_id, team_id, changes (field → new value)",
    "ticket.reopened": "ticket_id, channel_account_id, team_id",
    "message.received": "ticket_id, message_id, channel_account_id, team_id, direction, auto",
    "message.created": "ticket_id, message_id, channel_account_id, team_id, direction, is_internal",
    "message.delivery": "ticket_id, message_id, channel_account_id, team_id, state, error",
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
}

_PENDING = "helpdesk.pending_events"
_listeners: dict[str, list[Listener]] = defaultdict(list)
_batch_listeners: dict[str, list[BatchListener]] = defaultdict(list)


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


def _register(table: dict[str, list[Any]], names: tuple[str, ...], fn: Any) -> None:
    for name in names:
        if name != "*" and name not in CATALOGUE:
            raise ValueError(f"unknown event {name!r}; add it to helpdesk.events.CATALOGUE first")
        if fn not in table[name]:
            table[name].append(fn)


def unlisten(fn: Listener | BatchListener) -> None:
    """Remove a listener from every event (tests use this)."""
    for table in (_listeners, _batch_listeners):
        for fns in table.values():
            if fn in fns:
                fns.remove(fn)


def publish(session: Session, name: str, payload: Payload) -> None:
    """Queue ``name`` for delivery when ``session`` commits."""
    if name not in CATALOGUE:
        raise ValueError(f"unknown event {name!r}")
    session.info.setdefault(_PENDING, []).append((name, payload))


def publish_many(session: Session, name: str, payloads: list[Payload]) -> None:
    """Queue one event per payload (a batch's worth) for delivery on commit."""
    if name not in CATALOGUE:
        raise ValueError(f"unknown event {name!r}")
    if payloads:
        session.info.setdefault(_PENDING, []).extend((name, p) for p in payloads)


def dispatch(name: str, payload: Payload) -> None:
    """Deliver one event now; a failing listener is logged and the rest still run."""
    _deliver([(name, payload)])


def _deliver(events: list[tuple[str, Payload]]) -> None:
    """Hand events to listeners in order; a failing listener is logged and the rest still run."""
    start = 0
    while start < len(events):
        name = events[start][0]
        end = start + 1
        while end < len(events) and events[end][0] == name:
            end += 1
        payloads = [payload for _, payload in events[start:end]]
        for batch_fn in (*_batch_listeners.get(name, ()), *_batch_listeners.get("*", ())):
            _call(batch_fn, name, payloads)
        for fn in (*_listeners.get(name, ()), *_listeners.get("*", ())):
            for payload in payloads:
                _call(fn, name, payload)
        start = end


def _call(fn: Callable[[str, Any], None], name: str, argument: Any) -> None:
    try:
        fn(name, argument)
    except Exception:
        log.exception("listener %s failed on %s", getattr(fn, "__qualname__", fn), name)


@sa.event.listens_for(Session, "after_commit")
def _deliver_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        _deliver(pending)


@sa.event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
