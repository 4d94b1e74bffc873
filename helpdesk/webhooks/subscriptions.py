"""Subscribing, pausing and removing outbound webhooks: the rules the admin page and the CLI share.

The secret is never stored, only the name of the environment variable that
holds it, so a subscription form never receives a secret either.  Each change
is audited and forgets the per-process cache of subscribed events.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from channels import netguard
from helpdesk.accounts.admin_services import audit
from helpdesk.accounts.models import User
from helpdesk.events import CATALOGUE
from helpdesk.outbound import kind_label
from helpdesk.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from helpdesk.webhooks.services import forget_cache

RECENT_DELIVERIES = 25


class WebhookInvalid(ValueError):
    """A subscription was refused; ``args[0]`` says what is wrong in the current language."""


def subscribe(
    session: Session, actor: User | None, *, name: str, url: str, events: list[str], secret_env: str
) -> WebhookSubscription:
    name, url, secret_env = name.strip(), url.strip(), secret_env.strip()
    if not name:
        raise WebhookInvalid(_l("Give the webhook a name."))
    if session.scalar(sa.select(WebhookSubscription.id).where(WebhookSubscription.name == name)) is not None:
        raise WebhookInvalid(_l("A webhook named %(name)s already exists.", name=name))
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise WebhookInvalid(_l("%(url)s is not an http(s) URL.", url=url))
    try:
        netguard.check_url(url)
    except netguard.AddressRefused as exc:
        raise WebhookInvalid(
            _l(
                "URL: %(host)s is a %(kind)s address, inside the helpdesk's own network, so webhooks are not sent "
                "there. Use the receiver's public address, or ask the operator to allow it "
                "(HELPDESK_ALLOWED_URL_NETWORKS).",
                host=exc.host,
                kind=kind_label(exc.kind),
            )
        ) from None
    names = [e.strip() for e in events if e.strip()]
    if not names:
        raise WebhookInvalid(_l("Choose at least one event, or * for all."))
    unknown = [e for e in names if e != "*" and e not in CATALOGUE]
    if unknown:
        raise WebhookInvalid(
            _l(
                "Unknown events: %(names)s; known: %(known)s.",
                names=", ".join(unknown),
                known=", ".join(sorted(CATALOGUE)),
            )
        )
    if not secret_env or not secret_env.replace("_", "").isalnum():
        raise WebhookInvalid(
            _l(
                "Give the NAME of the environment variable that holds the signing secret "
                "(e.g. HOOK_SECRET), not the secret."
            )
        )
    sub = WebhookSubscription(name=name, url=url, events=names, secret_env=secret_env)
    session.add(sub)
    session.flush()
    audit(session, actor, "webhook.created", {"webhook_id": sub.id, "name": name, "url": url, "events": names})
    forget_cache()
    return sub


def set_active(session: Session, actor: User | None, sub: WebhookSubscription, active: bool) -> bool:
    if sub.active == active:
        return False
    sub.active = active
    if active:  # a fresh start: the next failure begins a new 24-hour count
        sub.failing_since = sub.auto_disabled_at = None
    session.flush()
    audit(session, actor, "webhook.enabled" if active else "webhook.disabled", {"webhook_id": sub.id, "name": sub.name})
    forget_cache()
    return True


def delete(session: Session, actor: User | None, sub: WebhookSubscription) -> None:
    """Remove the subscription and its delivery log (the audit event keeps its name and URL)."""
    data = {"webhook_id": sub.id, "name": sub.name, "url": sub.url}
    deliveries = sa.select(WebhookDelivery.id).where(WebhookDelivery.subscription_id == sub.id)
    session.execute(sa.delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
    session.execute(sa.delete(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id))
    session.delete(sub)
    session.flush()
    audit(session, actor, "webhook.deleted", data)
    forget_cache()


def status_counts(session: Session) -> dict[int, dict[str, int]]:
    """Deliveries per subscription and status, in one grouped query."""
    out: dict[int, dict[str, int]] = {}
    rows = session.execute(
        sa.select(WebhookDelivery.subscription_id, WebhookDelivery.status, sa.func.count()).group_by(
            WebhookDelivery.subscription_id, WebhookDelivery.status
        )
    )
    for sub_id, status, count in rows:
        out.setdefault(sub_id, {})[status] = count
    return out


def recent_deliveries(
    session: Session, sub: WebhookSubscription, limit: int = RECENT_DELIVERIES
) -> list[WebhookDelivery]:
    return list(
        session.scalars(
            sa.select(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == sub.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )


def attempts_of(session: Session, deliveries: list[WebhookDelivery]) -> dict[int, list[WebhookAttempt]]:
    """Each delivery's attempts, latest first, in one query."""
    out: dict[int, list[WebhookAttempt]] = {d.id: [] for d in deliveries}
    if out:
        stmt = (
            sa.select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(list(out)))
            .order_by(WebhookAttempt.delivery_id, WebhookAttempt.number.desc())
        )
        for attempt in session.scalars(stmt):
            out[attempt.delivery_id].append(attempt)
    return out


class NotRetryable(ValueError):
    """Only a failed delivery can be retried by hand; ``args[0]`` says why in the current language."""


def retry(session: Session, actor: User | None, delivery: WebhookDelivery) -> None:
    """Mark a failed delivery pending again so the caller, after committing, queues its job; audited.

    The retry resends the same delivery id and body, so a receiver that did
    process a call whose answer got lost dedupes it.
    """
    if delivery.status != "failed":
        raise NotRetryable(_l("Only a failed delivery can be retried; this one is %(status)s.", status=delivery.status))
    sub = session.get(WebhookSubscription, delivery.subscription_id)
    if sub is not None and not sub.active:
        raise NotRetryable(_l("Webhook %(name)s is disabled: enable it first, then retry.", name=sub.name))
    delivery.status = "pending"
    session.flush()
    audit(
        session,
        actor,
        "webhook.delivery_retried",
        {"webhook_id": delivery.subscription_id, "name": sub.name if sub else None, "delivery_id": delivery.id},
    )
