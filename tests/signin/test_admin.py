"""The Sign-in security page: admins see who is throttled and clear it; nobody else sees it at all."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from helpdesk.signin.models import SigninThrottle
from tests.signin.helpers import sign_in
from tests.web import PASSWORD, login, post


def test_admin_clears_a_throttle_and_the_user_signs_in_at_once(app: Any, client: Any, make_user: Any) -> None:
    make_user("agent@example.test")
    office = app.test_client()
    for _ in range(8):
        sign_in(office, "agent@example.test", "wrong-wrong", address="192.0.2.10")
    assert sign_in(office, "agent@example.test", PASSWORD, address="192.0.2.10").status_code == 429

    login(client, make_user("admin@example.test", role="admin"))
    assert 'href="/admin/sign-in"' in client.get("/admin/").get_data(as_text=True)
    page = client.get("/admin/sign-in").get_data(as_text=True)
    assert "agent@example.test" in page and "192.0.2.10" in page
    from helpdesk.extensions import db

    row_id = db.session.scalar(sa.select(SigninThrottle.id).where(SigninThrottle.email == "agent@example.test"))
    response = post(client, "/admin/sign-in/clear", {"row": str(row_id)}, token_from="/admin/sign-in")
    assert response.status_code == 302
    assert "Cleared 1 throttle." in client.get("/admin/sign-in").get_data(as_text=True)
    assert sign_in(office, "agent@example.test", PASSWORD, address="192.0.2.10").status_code == 302


def test_clear_all(client: Any, make_user: Any, session: Any) -> None:
    for n in range(3):
        sign_in(client, f"u{n}@example.test", "nope-nope", address="192.0.2.10")
    login(client, make_user("admin@example.test", role="admin"))
    post(client, "/admin/sign-in/clear", {"row": "all"}, token_from="/admin/sign-in")
    assert session.scalar(sa.select(sa.func.count(SigninThrottle.id))) == 0


def test_agents_and_leads_get_404(client: Any, world: Any) -> None:
    for user in (world.eu, world.lead):
        login(client, user)
        assert client.get("/admin/sign-in").status_code == 404
        assert post(client, "/admin/sign-in/clear", {"row": "all"}).status_code == 404
        post(client, "/logout", {})
    assert "/admin/sign-in" not in client.get("/admin/").get_data(as_text=True)
