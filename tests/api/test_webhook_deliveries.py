"""``/api/v1/webhooks``: admins read endpoints and deliveries (attempts, latency, answers) and retry failed ones."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk.audit.models import AuditEvent
from helpdesk.webhooks import services
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.webhooks.test_delivery_log import Receiver, receiver

__all__ = ["receiver"]

SECRET_ENV = "HELPDESK_TEST_WEBHOOK_SECRET"
SECRET = "signing-secret-value-never-shown"


@pytest.fixture
def endpoint(session: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookSubscription]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    row = WebhookSubscription(name="erp", url=receiver.url, secret_env=SECRET_ENV, events=["ticket.created"])
    session.add(row)
    session.commit()
    services.forget_cache()
    yield row
    services.forget_cache()


@pytest.fixture
def failed(session: Any, endpoint: WebhookSubscription, receiver: Receiver) -> int:
    """A delivery whose one attempt the endpoint answered 500."""
    receiver.answers = [(500, "text/plain", b"inventory service down"), (200, "text/plain", b"thanks")]
    [delivery_id] = services.queue_deliveries(session, "ticket.created", {"ticket_id": 7})
    with pytest.raises(services.DeliveryFailed):
        services.deliver(session, delivery_id)
    session.commit()
    return delivery_id


def test_admin_lists_endpoints_without_their_secret(
    client: Any, make_user: Any, bearer: Any, endpoint: Any, failed: int
) -> None:
    admin = make_user("admin@example.test", role="admin")
    response = client.get("/api/v1/webhooks/endpoints", headers=bearer(admin, "read"))
    assert response.status_code == 200
    [row] = response.json["endpoints"]
    assert (row["name"], row["events"], row["active"], row["deliveries"]) == (
        "erp",
        ["ticket.created"],
        True,
        {"failed": 1},
    )
    assert row["secret_env"] == SECRET_ENV and row["failing_since"] is not None
    assert SECRET not in response.get_data(as_text=True)


def test_deliveries_show_status_latency_answer_and_attempts(
    client: Any, make_user: Any, bearer: Any, endpoint: Any, failed: int
) -> None:
    admin = make_user("admin@example.test", role="admin")
    response = client.get(f"/api/v1/webhooks/endpoints/{endpoint.id}/deliveries", headers=bearer(admin, "read"))
    assert response.status_code == 200
    [delivery] = response.json["deliveries"]
    assert delivery["id"] == failed and delivery["status"] == "failed" and delivery["attempts"] == 1
    assert delivery["response_status"] == 500 and delivery["response_excerpt"] == "inventory service down"
    assert isinstance(delivery["latency_ms"], int) and delivery["next_attempt_at"] is not None
    assert delivery["payload"] == {"ticket_id": 7} and delivery["ticket_id"] == 7
    assert [a["number"] for a in delivery["attempt_log"]] == [1]
    bad = client.get(f"/api/v1/webhooks/endpoints/{endpoint.id}/deliveries?limit=0", headers=bearer(admin, "read"))
    assert bad.status_code == 400 and bad.json["error"]["field"] == "limit"
    missing = client.get("/api/v1/webhooks/endpoints/999999/deliveries", headers=bearer(admin, "read"))
    assert missing.status_code == 404


def test_retry_needs_the_admin_scope_resends_and_is_audited(
    client: Any, session: Any, make_user: Any, bearer: Any, receiver: Receiver, failed: int
) -> None:
    admin = make_user("admin@example.test", role="admin")
    path = f"/api/v1/webhooks/deliveries/{failed}/retry"
    refused = client.post(path, headers=bearer(admin, "write"))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "insufficient_scope"
    assert receiver.calls == 1
    headers = bearer(admin, "admin")
    done = client.post(path, headers=headers)
    assert done.status_code == 202, done.json
    assert receiver.calls == 2  # sent again (the task queue runs at once in tests)
    assert done.json["status"] == "delivered" and done.json["attempts"] == 2
    assert [a["response_status"] for a in done.json["attempt_log"]] == [200, 500]  # latest first
    session.expire_all()
    assert session.get(WebhookDelivery, failed).status == "delivered"
    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "webhook.delivery_retried")).one()
    assert event.actor_id == admin.id and event.data["delivery_id"] == failed
    again = client.post(path, headers=headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "not_retryable"
    assert "delivered" in again.json["error"]["message"]
    assert receiver.calls == 2
    assert client.post("/api/v1/webhooks/deliveries/999999/retry", headers=headers).status_code == 404


def test_agents_and_leads_get_404_everywhere(
    client: Any, world: Any, make_user: Any, bearer: Any, endpoint: Any, failed: int
) -> None:
    for user in (world.eu, world.lead):
        for method, path in (
            ("get", "/api/v1/webhooks/endpoints"),
            ("get", f"/api/v1/webhooks/endpoints/{endpoint.id}/deliveries"),
            ("post", f"/api/v1/webhooks/deliveries/{failed}/retry"),
        ):
            response = getattr(client, method)(path, headers=bearer(user, "write"))
            assert response.status_code == 404, (user.email, path)
            assert response.json["error"]["code"] == "not_found"
