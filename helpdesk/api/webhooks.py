"""``/api/v1/webhooks``: outbound webhook endpoints and their deliveries, for admins, as on the admin page.

An integration that misses events can see for itself what went out, what
its endpoint answered and when the next retry is due, and ask for a failed
delivery again.  Admin role, as the page; reads need a read token, a retry
the admin scope.  The signing secret is never stored, so it is never shown:
only the name of the environment variable that holds it.  Admins with an
admin-scope token may also subscribe, pause, resume and remove endpoints,
with the admin page's own checks and audit events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import g, request
from flask_babel import force_locale
from pydantic import BaseModel, Field

from helpdesk.accounts.models import Role
from helpdesk.api.auth import api_auth
from helpdesk.api.errors import ApiError
from helpdesk.api.models import Scope
from helpdesk.api.spec import ApiModel, api_spec, responses
from helpdesk.api.views import bp
from helpdesk.extensions import db
from helpdesk.webhooks import subscriptions as subs
from helpdesk.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

TAGS = ["webhook deliveries"]
ADMINS = (Role.ADMIN,)


class WebhookEndpointOut(BaseModel):
    id: int
    name: str
    url: str
    events: list[str] = Field(description='event names, or `["*"]` for all')
    active: bool
    secret_env: str = Field(description="the environment variable holding the signing secret (never the secret)")
    created_at: datetime
    failing_since: datetime | None = Field(description="when the current run of failures began; null after a success")
    auto_disabled_at: datetime | None = Field(description="set when the desk disabled it after failing for 24 hours")
    deliveries: dict[str, int] = Field(description="deliveries on record by status: pending, delivered, …")


class WebhookEndpointList(BaseModel):
    endpoints: list[WebhookEndpointOut]


class WebhookAttemptOut(BaseModel):
    number: int
    at: datetime
    response_status: int | None = Field(description="the endpoint's HTTP status; null when it was not reached")
    latency_ms: int | None
    response_excerpt: str | None = Field(description="the start of the endpoint's answer, if it was text")
    error: str | None = Field(description="why the attempt failed, in words")


class WebhookDeliveryOut(BaseModel):
    id: int = Field(description="also sent as `X-Helpdesk-Delivery`: the same on every retry, so receivers dedupe")
    endpoint_id: int
    event: str
    ticket_id: int | None
    status: str = Field(description="pending, waiting (behind an older one of its ticket), delivered or failed")
    attempts: int
    response_status: int | None = Field(description="of the latest attempt")
    latency_ms: int | None = Field(description="of the latest attempt")
    response_excerpt: str | None = Field(description="of the latest attempt")
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    next_attempt_at: datetime | None = Field(description="when the automatic retry is due; null when none is")
    payload: dict[str, Any] = Field(description="the body sent")
    attempt_log: list[WebhookAttemptOut] = Field(description="every attempt, latest first")


class WebhookDeliveryList(BaseModel):
    deliveries: list[WebhookDeliveryOut]


class DeliveryQuery(ApiModel):
    limit: int = Field(subs.RECENT_DELIVERIES, ge=1, le=200, description="how many, latest first")


def _delivery_out(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> WebhookDeliveryOut:
    latest = attempts[0] if attempts else None
    return WebhookDeliveryOut(
        id=delivery.id,
        endpoint_id=delivery.subscription_id,
        event=delivery.event,
        ticket_id=delivery.ticket_id,
        status=delivery.status,
        attempts=delivery.attempts,
        response_status=delivery.response_status,
        latency_ms=latest.latency_ms if latest else None,
        response_excerpt=latest.response_excerpt if latest else None,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        delivered_at=delivery.delivered_at,
        next_attempt_at=delivery.next_attempt_at,
        payload=delivery.payload,
        attempt_log=[
            WebhookAttemptOut(
                number=a.number,
                at=a.at,
                response_status=a.response_status,
                latency_ms=a.latency_ms,
                response_excerpt=a.response_excerpt,
                error=a.error,
            )
            for a in attempts
        ],
    )


def _endpoint_out(s: WebhookSubscription, counts: dict[int, dict[str, int]]) -> WebhookEndpointOut:
    return WebhookEndpointOut(
        id=s.id,
        name=s.name,
        url=s.url,
        events=list(s.events),
        active=s.active,
        secret_env=s.secret_env,
        created_at=s.created_at,
        failing_since=s.failing_since,
        auto_disabled_at=s.auto_disabled_at,
        deliveries=counts.get(s.id, {}),
    )


class WebhookEndpointIn(ApiModel):
    name: str = Field(min_length=1, max_length=120, examples=["erp-sla"])
    url: str = Field(min_length=1, max_length=2000, examples=["https://erp.example.com/hooks/helpdesk"])
    events: list[str] = Field(min_length=1, max_length=50, examples=[["sla.breached", "sla.warning"]])
    secret_env: str = Field(
        min_length=1,
        max_length=120,
        description="NAME of the environment variable of the helpdesk's processes that holds the signing secret",
        examples=["ERP_HOOK_SECRET"],
    )


class WebhookEndpointPatch(ApiModel):
    active: bool = Field(description="false pauses deliveries; true resumes and starts a new 24-hour failure count")


def _endpoint(endpoint_id: int) -> WebhookSubscription:
    sub = db.session.get(WebhookSubscription, endpoint_id)
    if sub is None:
        raise ApiError(404, "not_found", f"no webhook endpoint {endpoint_id}")
    return sub


def _invalid_field(message: str) -> str | None:
    for field, words in (("name", "name"), ("url", "URL"), ("events", "event"), ("secret_env", "environment")):
        if words in message:
            return field
    return None


@bp.get("/webhooks/endpoints")
@api_auth(roles=ADMINS)
@api_spec.validate(resp=responses(HTTP_200=WebhookEndpointList), tags=TAGS)
def list_webhook_endpoints() -> WebhookEndpointList:
    """Every outbound webhook endpoint with its deliveries by status (admins)."""
    rows = db.session.scalars(sa.select(WebhookSubscription).order_by(WebhookSubscription.name))
    counts = subs.status_counts(db.session)
    body = WebhookEndpointList(endpoints=[_endpoint_out(s, counts) for s in rows])
    db.session.commit()  # last_used_at of the token
    return body


@bp.post("/webhooks/endpoints")
@api_auth(roles=ADMINS, scope=Scope.ADMIN)
@api_spec.validate(json=WebhookEndpointIn, resp=responses(403, 422, HTTP_201=WebhookEndpointOut), tags=TAGS)
def create_webhook_endpoint() -> tuple[WebhookEndpointOut, int]:
    """Subscribe an endpoint to events (admins, admin scope); deliveries are signed with the named variable's secret."""
    given: WebhookEndpointIn = request.context.json  # type: ignore[attr-defined]
    try:
        sub = subs.subscribe(
            db.session, g.api_user, name=given.name, url=given.url, events=given.events, secret_env=given.secret_env
        )
    except subs.WebhookInvalid as exc:
        db.session.rollback()
        with force_locale("en"):
            message = str(exc.args[0])
        raise ApiError(422, "invalid", message, _invalid_field(message)) from None
    db.session.commit()
    return _endpoint_out(sub, {}), 201


@bp.patch("/webhooks/endpoints/<int:endpoint_id>")
@api_auth(roles=ADMINS, scope=Scope.ADMIN)
@api_spec.validate(json=WebhookEndpointPatch, resp=responses(403, 422, HTTP_200=WebhookEndpointOut), tags=TAGS)
def update_webhook_endpoint(endpoint_id: int) -> WebhookEndpointOut:
    """Pause or resume an endpoint (admins, admin scope); audited."""
    given: WebhookEndpointPatch = request.context.json  # type: ignore[attr-defined]
    sub = _endpoint(endpoint_id)
    subs.set_active(db.session, g.api_user, sub, given.active)
    db.session.commit()
    return _endpoint_out(sub, subs.status_counts(db.session))


@bp.delete("/webhooks/endpoints/<int:endpoint_id>")
@api_auth(roles=ADMINS, scope=Scope.ADMIN)
@api_spec.validate(resp=responses(403, HTTP_204=None), tags=TAGS)
def delete_webhook_endpoint(endpoint_id: int) -> tuple[str, int]:
    """Remove an endpoint and its delivery log (admins, admin scope); the audit log keeps its name and URL."""
    subs.delete(db.session, g.api_user, _endpoint(endpoint_id))
    db.session.commit()
    return "", 204


@bp.get("/webhooks/endpoints/<int:endpoint_id>/deliveries")
@api_auth(roles=ADMINS)
@api_spec.validate(query=DeliveryQuery, resp=responses(400, HTTP_200=WebhookDeliveryList), tags=TAGS)
def list_webhook_deliveries(endpoint_id: int) -> WebhookDeliveryList:
    """An endpoint's latest deliveries (25 unless `limit`), each with every attempt (admins)."""
    query: DeliveryQuery = request.context.query  # type: ignore[attr-defined]
    sub = db.session.get(WebhookSubscription, endpoint_id)
    if sub is None:
        raise ApiError(404, "not_found", f"no webhook endpoint {endpoint_id}")
    deliveries = subs.recent_deliveries(db.session, sub, query.limit)
    attempts = subs.attempts_of(db.session, deliveries)
    body = WebhookDeliveryList(deliveries=[_delivery_out(d, attempts[d.id]) for d in deliveries])
    db.session.commit()
    return body


@bp.post("/webhooks/deliveries/<int:delivery_id>/retry")
@api_auth(roles=ADMINS, scope=Scope.ADMIN)
@api_spec.validate(resp=responses(403, 409, HTTP_202=WebhookDeliveryOut), tags=TAGS)
def retry_webhook_delivery(delivery_id: int) -> tuple[WebhookDeliveryOut, int]:
    """Send a failed delivery again, same id and body (admins, admin scope); audited. 409 unless it failed."""
    from helpdesk.webhooks.tasks import deliver_task

    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise ApiError(404, "not_found", f"no webhook delivery {delivery_id}")
    try:
        subs.retry(db.session, g.api_user, delivery)
    except subs.NotRetryable as exc:
        db.session.rollback()
        with force_locale("en"):
            raise ApiError(409, "not_retryable", str(exc.args[0])) from None
    db.session.commit()
    deliver_task(delivery_id)
    db.session.expire_all()  # the job may have run already (immediate mode) in its own transaction
    delivery = db.session.get(WebhookDelivery, delivery_id)
    assert delivery is not None
    body = _delivery_out(delivery, subs.attempts_of(db.session, [delivery])[delivery_id])
    db.session.commit()
    return body, 202
