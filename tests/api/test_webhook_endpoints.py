"""Subscribing to events through the API: an ERP subscribes to SLA breaches and receives one, signed."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
import sqlalchemy as sa

from channels.base import Party
from helpdesk.audit.models import AuditEvent
from helpdesk.ingest.pipeline import ingest
from helpdesk.sla.policies import seed_defaults
from helpdesk.webhooks import services
from helpdesk.webhooks.models import WebhookSubscription
from tests.webhooks.test_webhooks import Receiver, receiver

__all__ = ["receiver"]

SECRET_ENV = "HELPDESK_TEST_WEBHOOK_SECRET"
SECRET = "whsec-api-123"


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    services.forget_cache()
    yield
    services.forget_cache()


def test_an_admin_subscribes_to_sla_breaches_and_the_endpoint_receives_one_signed(
    client: Any, session: Any, make_user: Any, make_account: Any, make_message: Any, bearer: Any, receiver: Receiver
) -> None:
    admin = make_user("admin@example.test", role="admin")
    headers = bearer(admin, "admin")
    created = client.post(
        "/api/v1/webhooks/endpoints",
        json={"name": "erp-sla", "url": receiver.url, "events": ["sla.breached"], "secret_env": SECRET_ENV},
        headers=headers,
    )
    assert created.status_code == 201, created.json
    assert created.json["events"] == ["sla.breached"] and created.json["active"] is True
    assert session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "webhook.created"))

    make_account(name="amz-us", kind="email", platform="amazon", site="US")
    seed_defaults(session)
    session.commit()
    # a January buyer message ingested now: its 24-hour Amazon clock is breached on write
    ingest(session, [make_message(account="amz-us", channel="email", sender=Party(email="b@x.test"))], source="t")
    session.commit()
    [(sent_headers, body)] = receiver.calls
    stamp = sent_headers["X-Helpdesk-Signature"].split(",")[0].removeprefix("t=")
    expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert sent_headers["X-Helpdesk-Signature"] == f"t={stamp},v1={expected}"
    assert json.loads(body)["event"] == "sla.breached"


def test_pause_resume_and_remove(client: Any, session: Any, make_user: Any, bearer: Any, receiver: Receiver) -> None:
    admin = make_user("admin@example.test", role="admin")
    headers = bearer(admin, "admin")
    body = {"name": "erp", "url": receiver.url, "events": ["*"], "secret_env": SECRET_ENV}
    endpoint_id = client.post("/api/v1/webhooks/endpoints", json=body, headers=headers).json["id"]
    paused = client.patch(f"/api/v1/webhooks/endpoints/{endpoint_id}", json={"active": False}, headers=headers)
    assert paused.status_code == 200 and paused.json["active"] is False
    resumed = client.patch(f"/api/v1/webhooks/endpoints/{endpoint_id}", json={"active": True}, headers=headers)
    assert resumed.json["active"] is True
    assert client.delete(f"/api/v1/webhooks/endpoints/{endpoint_id}", headers=headers).status_code == 204
    assert session.get(WebhookSubscription, endpoint_id) is None
    assert client.delete(f"/api/v1/webhooks/endpoints/{endpoint_id}", headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "ftp://erp.example.com/x"}, "url"),
        ({"events": ["sla.exploded"]}, "events"),
        ({"secret_env": "whsec-the-secret-itself!"}, "secret_env"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_subscription_names_the_field(
    change: dict[str, Any], field: str, client: Any, make_user: Any, bearer: Any
) -> None:
    admin = make_user("admin@example.test", role="admin")
    body = {"name": "erp", "url": "https://erp.example.com/hooks", "events": ["sla.breached"], "secret_env": SECRET_ENV}
    response = client.post("/api/v1/webhooks/endpoints", json={**body, **change}, headers=bearer(admin, "admin"))
    assert response.status_code == 422
    assert response.json["error"]["field"] == field


def test_only_admins_with_the_admin_scope_manage_endpoints(
    client: Any, world: Any, make_user: Any, bearer: Any
) -> None:
    body = {"name": "erp", "url": "https://erp.example.com/hooks", "events": ["sla.breached"], "secret_env": SECRET_ENV}
    for user in (world.eu, world.lead):
        assert client.post("/api/v1/webhooks/endpoints", json=body, headers=bearer(user)).status_code == 404
    admin = make_user("admin@example.test", role="admin")
    refused = client.post("/api/v1/webhooks/endpoints", json=body, headers=bearer(admin, "write"))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "insufficient_scope"
