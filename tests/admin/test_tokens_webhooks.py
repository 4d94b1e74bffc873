"""API tokens and outbound webhooks pages: admins only, the secret shown once, every change audited."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk.api.models import ApiToken
from helpdesk.api.tokens import hash_token
from helpdesk.audit.models import AuditEvent
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.web import login, post


@pytest.fixture
def admin(make_user: Any) -> Any:
    return make_user("admin@example.test", name="Ada", role="admin")


def _actions(session: Any) -> list[str]:
    session.expire_all()
    return [e.action for e in session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))]


def test_agents_and_leads_get_404(client: Any, session: Any, world: Any) -> None:
    sub = WebhookSubscription(name="erp", url="https://erp.example/h", secret_env="S", events=["*"])
    session.add(sub)
    session.commit()
    for who in (world.eu, world.lead):
        login(client, who)
        for path in (
            "/admin/api-tokens/",
            "/admin/webhooks/",
            f"/admin/webhooks/{sub.id}",
            f"/admin/webhooks/{sub.id}/delete",
        ):
            assert client.get(path).status_code == 404, (who.email, path)
        for path in (
            "/admin/api-tokens/",
            "/admin/api-tokens/1/revoke",
            "/admin/webhooks/",
            f"/admin/webhooks/{sub.id}/active",
            f"/admin/webhooks/{sub.id}/delete",
        ):
            assert post(client, path, {"name": "x", "user_id": who.id, "active": "0"}).status_code == 404, (
                who.email,
                path,
            )
        index = client.get("/admin/").get_data(as_text=True)
        assert "/admin/api-tokens/" not in index and "/admin/webhooks/" not in index
        post(client, "/logout", {})
    assert session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0 and _actions(session) == []


def test_an_admin_creates_a_token_sees_it_once_and_revokes_it(
    client: Any, app: Any, session: Any, world: Any, admin: Any
) -> None:
    login(client, admin)
    assert 'href="/admin/api-tokens/"' in client.get("/admin/").get_data(as_text=True)
    created = post(client, "/admin/api-tokens/", {"name": "BI export", "user_id": world.lead.id, "scope": "read"})
    assert created.status_code == 201
    html = created.get_data(as_text=True)
    raw = html.split('id="new-token">')[1].split("<")[0]
    token = session.scalars(sa.select(ApiToken)).one()
    assert raw.startswith("hd_") and token.token_hash == hash_token(raw) and token.user_id == world.lead.id
    assert raw not in client.get("/admin/api-tokens/").get_data(as_text=True)
    api = app.test_client()
    assert api.get("/api/v1/macros", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    post(client, f"/admin/api-tokens/{token.id}/revoke", {})
    assert api.get("/api/v1/macros", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    assert "revoked" in client.get("/admin/api-tokens/").get_data(as_text=True)
    assert _actions(session) == ["api_token.created", "api_token.revoked"]


def test_an_admin_subscribes_disables_and_deletes_a_webhook(client: Any, session: Any, world: Any, admin: Any) -> None:
    login(client, admin)
    bad = post(
        client, "/admin/webhooks/", {"name": "erp", "url": "ftp://x", "events": ["ticket.created"], "secret_env": "S"}
    )
    assert bad.status_code == 422 and "not an http(s) URL" in bad.get_data(as_text=True)
    secret = post(
        client,
        "/admin/webhooks/",
        {"name": "erp", "url": "https://erp.example/h", "events": ["ticket.created"], "secret_env": "hunter 2!"},
    )
    assert secret.status_code == 422 and "not the secret" in secret.get_data(as_text=True)
    ok = post(
        client,
        "/admin/webhooks/",
        {
            "name": "erp",
            "url": "https://erp.example/h",
            "events": ["ticket.created", "sla.breached"],
            "secret_env": "ERP_SECRET",
        },
    )
    sub = session.scalars(sa.select(WebhookSubscription)).one()
    assert ok.headers["Location"].endswith(f"/admin/webhooks/{sub.id}")
    assert sub.events == ["ticket.created", "sla.breached"] and sub.active
    session.add_all(
        [
            WebhookDelivery(
                subscription_id=sub.id,
                event="ticket.created",
                payload={},
                status="delivered",
                attempts=1,
                response_status=204,
            ),
            WebhookDelivery(
                subscription_id=sub.id,
                event="sla.breached",
                payload={},
                status="failed",
                attempts=5,
                last_error="timed out",
            ),
        ]
    )
    session.commit()
    page = client.get(f"/admin/webhooks/{sub.id}").get_data(as_text=True)
    assert "timed out" in page and "204" in page and "sla.breached" in page
    listing = client.get("/admin/webhooks/").get_data(as_text=True)
    assert "https://erp.example/h" in listing

    post(client, f"/admin/webhooks/{sub.id}/active", {"active": "0"})
    session.expire_all()
    assert sub.active is False
    assert "Delete webhook erp?" in client.get(f"/admin/webhooks/{sub.id}/delete").get_data(as_text=True)
    post(client, f"/admin/webhooks/{sub.id}/delete", {})
    assert session.scalar(sa.select(sa.func.count(WebhookSubscription.id))) == 0
    assert session.scalar(sa.select(sa.func.count(WebhookDelivery.id))) == 0
    assert _actions(session) == ["webhook.created", "webhook.disabled", "webhook.deleted"]
