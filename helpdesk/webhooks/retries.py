"""When to try a failed delivery again, and when to stop trying an endpoint at all.

Retries back off exponentially (10 s, 20 s, 40 s … capped at 6 h) with ±20 %
jitter, so deliveries that failed together during a receiver's outage do not
all return in the same second when it comes back.  A delivery is given up a
day after it was written.  An endpoint whose every attempt has failed for a
day is disabled: it would only keep a worker busy timing out, and its admin
needs to know more than the delivery log can tell them: every admin gets a
notification (the bell) naming the endpoint and its last error.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from helpdesk.audit.models import AuditEvent
from helpdesk.notifications.services import notify_webhook_disabled
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription

BASE_DELAY_S = 10.0
MAX_DELAY_S = 6 * 3600.0
JITTER = 0.2
#: A delivery still failing this long after it was written is given up (an admin can still retry it).
GIVE_UP_AFTER = timedelta(hours=24)
#: An endpoint that failed every attempt for this long is disabled.
DISABLE_AFTER = timedelta(hours=24)


def backoff(attempt: int, rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): 10 s × 2^(n-1) ± 20 %, at most 6 h (+20 %)."""
    base = min(BASE_DELAY_S * 2 ** max(attempt - 1, 0), MAX_DELAY_S)
    return base * (1 + JITTER * (2 * rng() - 1))


def after_success(subscription: WebhookSubscription, delivery: WebhookDelivery) -> None:
    subscription.failing_since = None
    delivery.next_attempt_at = None


def after_failure(
    session: Session,
    subscription: WebhookSubscription,
    delivery: WebhookDelivery,
    now: datetime,
    rng: Callable[[], float] = random.random,
) -> float | None:
    """Record a failed attempt; the delay until the next one, or None when there is none (given up or disabled)."""
    if subscription.failing_since is None:
        subscription.failing_since = now
    delivery.next_attempt_at = None
    if subscription.active and now - subscription.failing_since >= DISABLE_AFTER:
        _disable(session, subscription, now, delivery.last_error)
        return None
    if not subscription.active or now - delivery.created_at >= GIVE_UP_AFTER:
        return None
    delay = backoff(delivery.attempts, rng)
    delivery.next_attempt_at = now + timedelta(seconds=delay)
    return delay


def _disable(session: Session, subscription: WebhookSubscription, now: datetime, error: str | None) -> None:
    """Stop calling the endpoint; audited, and every admin gets a notice naming it, why, and where to enable it."""
    subscription.active = False
    subscription.auto_disabled_at = now
    session.add(
        AuditEvent(
            actor_type="system",
            actor_id=None,
            action="webhook.auto_disabled",
            data={
                "webhook_id": subscription.id,
                "name": subscription.name,
                "url": subscription.url,
                "failing_since": subscription.failing_since.isoformat() if subscription.failing_since else None,
            },
            at=now,
        )
    )
    notify_webhook_disabled(
        session,
        webhook_id=subscription.id,
        name=subscription.name,
        url=subscription.url,
        error=error,
        disabled_at=now,
    )
