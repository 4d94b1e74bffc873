"""Queue and deliver webhook calls, signed so receivers can trust them.

Each POST carries the event as JSON and ``X-Helpdesk-Signature: t=<unix
seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``, plus the event name and
the delivery id (receivers dedupe on it: a retry resends the same id).  The
timestamp is inside the signed text so a receiver can refuse a captured call
replayed later; a signature over the body alone stays valid for ever.  The
old body-only value is still sent, as ``X-Helpdesk-Signature-Body``, for this
release only, so receivers can switch without a gap.  Non-2xx answers and
network errors raise ``DeliveryFailed`` so the task queue retries with
back-off; every attempt is recorded on the delivery row.

An endpoint receives one ticket's events in the order they happened: a
delivery is not sent while an older one for the same endpoint and ticket is
still on its way (pending, waiting, or failed with a retry due): it becomes
``waiting``, with no job, until that older one is delivered or stops being
retried (given up, or its endpoint disabled); then ``released_by`` names it
and its job is queued at once.  Other tickets' deliveries, and events about no ticket, are
not held up.  Head-of-line blocking per (endpoint, ticket) needs no queue of
its own: the delivery rows, in id order, are the queue.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from channels import netguard
from helpdesk.db import utcnow
from helpdesk.webhooks import retries
from helpdesk.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

TIMEOUT_S = 10
#: connections (redirects too) only to addresses the outbound policy allows, checked as they are opened
_OPENER = netguard.checked_opener()
#: What an attempt says until its answer is recorded; it stays when the sender died during the call.
NO_ANSWER = (
    "no answer recorded: the sender stopped during this call (the receiver may have it; "
    "it is sent again with the same delivery id)"
)
#: How much of a receiver's answer the delivery log keeps (characters), and how many bytes are read for it.
EXCERPT_CHARS = 500
EXCERPT_READ = 4 * EXCERPT_CHARS
_CACHE_TTL_S = 10.0
_cache: tuple[float, frozenset[str]] = (0.0, frozenset())


class DeliveryFailed(Exception):
    """The receiver did not accept the call; ``retry_in`` is the back-off in seconds, None when not retried."""

    retry_in: float | None = None


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Helpdesk-Signature`` value: ``t=<timestamp>,v1=<HMAC-SHA256 of "<t>.<body>">``.

    Signing the timestamp with the body binds the two: a receiver that refuses
    old timestamps refuses replays, and an attacker cannot swap in a fresh one.
    """
    signed = str(timestamp).encode() + b"." + body
    return f"t={timestamp},v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign_body(secret: str, body: bytes) -> str:
    """The deprecated body-only value (``X-Helpdesk-Signature-Body``), kept one release for receivers to migrate."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def subscribed_events(source: sa.Connection | Callable[[], sa.Connection]) -> frozenset[str]:
    """Event names some active subscription wants ("*" included); cached for a few seconds.

    Every event of a 50,000-message import passes through the listener; the
    common case — nobody subscribed — must cost a set look-up, not a query.
    ``source`` is the caller's own connection (or makes it, only when the
    cache is stale): the relay calls this inside its write transaction, and
    asking the pool for a second connection there could wait for ever on a
    busy server whose requests hold every pooled connection while they wait
    for that transaction's write lock (SQLite).
    """
    global _cache  # noqa: PLW0603 - a per-process cache of a tiny table
    now = time.monotonic()
    if now - _cache[0] > _CACHE_TTL_S:
        conn = source if isinstance(source, sa.Connection) else source()
        rows = conn.scalars(sa.select(WebhookSubscription.events).where(WebhookSubscription.active.is_(True))).all()
        _cache = (now, frozenset(name for events in rows for name in events))
    return _cache[1]


def forget_cache() -> None:
    global _cache  # noqa: PLW0603
    _cache = (0.0, frozenset())


def ticket_of(payload: Mapping[str, Any]) -> int | None:
    """The ticket an event is about, which orders its deliveries; None when it names none."""
    value = payload.get("ticket_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def queue_deliveries(session: Session, event: str, payload: Mapping[str, Any]) -> list[int]:
    """One pending delivery per active subscription that wants ``event``."""
    subscriptions = session.scalars(sa.select(WebhookSubscription).where(WebhookSubscription.active.is_(True)))
    rows = [
        WebhookDelivery(subscription_id=s.id, event=event, payload=dict(payload), ticket_id=ticket_of(payload))
        for s in subscriptions
        if s.wants(event)
    ]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]


def queue_batch(session: Session, event: str, payloads: list[Mapping[str, Any]]) -> list[int]:
    """One pending delivery per active subscription that wants ``event``, for each payload, in order."""
    subscriptions = [
        s
        for s in session.scalars(sa.select(WebhookSubscription).where(WebhookSubscription.active.is_(True)))
        if s.wants(event)
    ]
    rows = [
        WebhookDelivery(subscription_id=s.id, event=event, payload=dict(payload), ticket_id=ticket_of(payload))
        for payload in payloads
        for s in subscriptions
    ]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]


def _on_its_way(row: type[WebhookDelivery]) -> sa.ColumnElement[bool]:
    """Still to be sent: waiting for its job or its turn, or failed with an automatic retry due."""
    return sa.or_(
        row.status.in_(("pending", "waiting")), sa.and_(row.status == "failed", row.next_attempt_at.is_not(None))
    )


def _older_on_its_way(delivery: type[WebhookDelivery] | WebhookDelivery) -> sa.Exists:
    """An older delivery of the same ticket to the same endpoint that is still on its way (for a row or a column)."""
    older = aliased(WebhookDelivery)
    return sa.exists().where(
        older.subscription_id == delivery.subscription_id,
        older.ticket_id == delivery.ticket_id,
        older.id < delivery.id,
        _on_its_way(older),
    )


def waits_its_turn(session: Session, delivery: WebhookDelivery) -> bool:
    """True when an older delivery of the same ticket to the same endpoint must arrive (or be given up) first."""
    if delivery.ticket_id is None:
        return False
    return bool(session.scalar(sa.select(_older_on_its_way(delivery))))


def released_by(session: Session, delivery_id: int) -> int | None:
    """The waiting delivery whose turn comes now that this one no longer holds its ticket's queue; None if none.

    Called after an attempt: a delivered, given-up or refused delivery lets
    the next of its ticket go at once, rather than at the next sweep.  Only a
    waiting one is named: a pending one has its own job coming.
    """
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.ticket_id is None:
        return None
    if delivery.status in ("pending", "waiting") or (
        delivery.status == "failed" and delivery.next_attempt_at is not None
    ):
        return None  # still holding the line (or waiting in it itself)
    return session.scalar(
        sa.select(sa.func.min(WebhookDelivery.id)).where(
            WebhookDelivery.subscription_id == delivery.subscription_id,
            WebhookDelivery.ticket_id == delivery.ticket_id,
            WebhookDelivery.id > delivery.id,
            WebhookDelivery.status == "waiting",
        )
    )


def stranded(session: Session, older_than: timedelta) -> list[int]:
    """Deliveries whose job was lost, not merely queued: still pending, or a retry overdue, by ``older_than``.

    The outbox relay commits a delivery row and then queues its job; a
    process that dies between the two leaves the row without a job.  A
    worker killed during the call leaves it pending with an unanswered
    attempt on record (its job died with it).  A pending delivery whose job
    is merely running is queued again harmlessly: the second job is skipped
    while the first holds the delivery's task lease, or finds it delivered.  A
    delivery waiting behind an older one of its ticket has no job on purpose
    and is left alone; once nothing older is on its way, it counts as
    stranded too: its release was lost (a crash, or a release that read the
    line just before the waiting row committed).
    """
    cutoff = utcnow() - older_than
    stmt = (
        sa.select(WebhookDelivery.id)
        .where(
            sa.or_(
                sa.and_(WebhookDelivery.status == "pending", WebhookDelivery.created_at < cutoff),
                sa.and_(WebhookDelivery.status == "failed", WebhookDelivery.next_attempt_at < cutoff),
                sa.and_(WebhookDelivery.status == "waiting", WebhookDelivery.created_at < cutoff),
            ),
            ~_older_on_its_way(WebhookDelivery),
        )
        .order_by(WebhookDelivery.id)
        .limit(1000)
    )
    return list(session.scalars(stmt))


def deliver(
    session: Session,
    delivery_id: int,
    env: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    rng: Callable[[], float] = random.random,
    checkpoint: Callable[[], None] | None = None,
) -> None:
    """POST one delivery; records the attempt; raises DeliveryFailed (with ``retry_in``) when it failed.

    ``checkpoint`` (the worker's commit) runs just before the call, with the
    attempt on record as unanswered: a worker killed during the call leaves
    that in the log instead of nothing, and the delivery, still pending,
    is sent again by the stranded sweep.

    ``clock`` gives the signature's timestamp (each attempt signs afresh, so a
    retry hours later is not refused as a replay) and the time the back-off
    and auto-disable count from; tests pass their own to move a day in a
    second.  A disabled endpoint is not called.  A delivery whose turn has
    not come (an older one of its ticket is still on its way) is not sent but
    marked ``waiting``: ``released_by`` hands it back when its turn comes.
    """
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status == "delivered":
        return
    subscription = session.get(WebhookSubscription, delivery.subscription_id)
    assert subscription is not None
    if not subscription.active:
        delivery.status, delivery.next_attempt_at = "failed", None
        delivery.last_error = "the webhook is disabled: enable it, then retry the delivery"
        return
    if waits_its_turn(session, delivery):
        delivery.status, delivery.next_attempt_at = "waiting", None
        return
    now = datetime.fromtimestamp(clock(), UTC)
    try:
        _send(session, delivery, subscription, os.environ if env is None else env, clock, now, checkpoint)
    except DeliveryFailed as exc:
        exc.retry_in = retries.after_failure(session, subscription, delivery, now, rng)
        if not subscription.active:
            forget_cache()
        raise
    if delivery.status == "failed":  # not even sent (no secret): a failure, but retrying cannot help
        retries.after_failure(session, subscription, delivery, now, rng)
        delivery.next_attempt_at = None
    else:
        retries.after_success(subscription, delivery)


def _send(
    session: Session,
    delivery: WebhookDelivery,
    subscription: WebhookSubscription,
    env: Mapping[str, str],
    clock: Callable[[], float],
    now: datetime,
    checkpoint: Callable[[], None] | None = None,
) -> None:
    delivery.attempts += 1
    attempt = WebhookAttempt(delivery_id=delivery.id, number=delivery.attempts, at=now)
    session.add(attempt)
    secret = env.get(subscription.secret_env)
    if not secret:
        delivery.status = "failed"
        delivery.last_error = attempt.error = (
            f"environment variable {subscription.secret_env} (the signing secret) is not set"
        )
        return
    body = json.dumps(
        {"event": delivery.event, "delivery_id": delivery.id, "data": delivery.payload}, ensure_ascii=False, default=str
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - admins configure http(s) URLs only (checked on add)
        subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "helpdesk-webhooks/1",
            "X-Helpdesk-Event": delivery.event,
            "X-Helpdesk-Delivery": str(delivery.id),
            "X-Helpdesk-Signature": sign(secret, body, int(clock())),
            "X-Helpdesk-Signature-Body": sign_body(secret, body),
        },
    )
    if checkpoint is not None:
        attempt.error = NO_ANSWER
        checkpoint()
        attempt.error = None
    started = time.perf_counter()
    try:
        with _OPENER.open(request, timeout=TIMEOUT_S) as response:
            delivery.response_status = attempt.response_status = response.status
            attempt.response_excerpt = excerpt(response.headers.get("Content-Type"), response.read(EXCERPT_READ))
    except urllib.error.HTTPError as exc:
        attempt.latency_ms = _ms_since(started)
        delivery.response_status = attempt.response_status = exc.code
        attempt.response_excerpt = excerpt(exc.headers.get("Content-Type") if exc.headers else None, _read(exc))
        delivery.status = "failed"
        delivery.last_error = f"HTTP {exc.code} {exc.reason}"
        raise DeliveryFailed(delivery.last_error) from None
    except netguard.AddressRefused as exc:  # resolved inside the network now, whatever it did when added
        attempt.latency_ms = _ms_since(started)
        delivery.status = "failed"
        delivery.last_error = attempt.error = f"not sent to {subscription.url}: {exc}"
        raise DeliveryFailed(delivery.last_error) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        attempt.latency_ms = _ms_since(started)
        delivery.status = "failed"
        delivery.last_error = attempt.error = f"could not reach {subscription.url}: {getattr(exc, 'reason', exc)}"
        raise DeliveryFailed(delivery.last_error) from None
    attempt.latency_ms = _ms_since(started)
    delivery.status = "delivered"
    delivery.last_error = None
    delivery.delivered_at = now


def _ms_since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _read(exc: urllib.error.HTTPError) -> bytes:
    try:
        return exc.read(EXCERPT_READ)
    except OSError:
        return b""


_TEXTUAL = ("text/", "application/json", "application/xml", "application/problem+json", "application/x-www-form")


def excerpt(content_type: str | None, raw: bytes) -> str | None:
    """The first ``EXCERPT_CHARS`` characters of a textual answer, for the delivery log; None for binary or empty.

    Receivers' error pages say why they refused a call; images or archives
    say nothing to an admin and could carry anything, so they are not kept.
    """
    kind = (content_type or "text/plain").split(";")[0].strip().lower()
    if not raw or not (kind.startswith(_TEXTUAL) or kind.endswith(("+json", "+xml"))) or b"\x00" in raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    return text[:EXCERPT_CHARS].strip() or None
