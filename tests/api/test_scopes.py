"""Token scopes, expiry and last use: what a token may do, when it stops working, where it was last used."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk.api.models import ApiToken
from helpdesk.api.tokens import ScopeTooWide, create_token
from helpdesk.db import utcnow
from tests.web import login, post

POLICY = {"name": "VIP", "platform": "amazon", "priority": "urgent", "first_response_hours": 2}


def _headers(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def _token(session: Any, user: Any, scope: str, **kw: Any) -> str:
    _row, raw = create_token(session, user, "t", scope, **kw)
    session.commit()
    return raw


def test_read_scope_reads_but_cannot_change(client: Any, session: Any, make_user: Any) -> None:
    admin = make_user("admin@example.test", role="admin")
    raw = _token(session, admin, "read")
    assert client.get("/api/v1/sla/policies", headers=_headers(raw)).status_code == 200
    refused = client.post("/api/v1/sla/policies", json=POLICY, headers=_headers(raw))
    assert refused.status_code == 403
    assert refused.json == {
        "error": {
            "code": "insufficient_scope",
            "message": "this needs a token with the admin scope; this one has read",
            "field": None,
        }
    }


def test_admin_only_routes_need_the_admin_scope(client: Any, session: Any, make_user: Any) -> None:
    admin = make_user("admin@example.test", role="admin")
    write = _token(session, admin, "write")
    refused = client.post("/api/v1/sla/policies", json=POLICY, headers=_headers(write))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "insufficient_scope"
    created = client.post("/api/v1/sla/policies", json=POLICY, headers=_headers(_token(session, admin, "admin")))
    assert created.status_code == 201, created.json


def test_the_role_check_comes_first_so_a_scope_reveals_nothing(client: Any, session: Any, make_user: Any) -> None:
    agent = make_user("agent@example.test")
    raw = _token(session, agent, "write")
    assert client.get("/api/v1/sla/policies", headers=_headers(raw)).status_code == 404
    assert client.post("/api/v1/sla/policies", json=POLICY, headers=_headers(raw)).status_code == 404
    assert client.get("/api/v1/macros", headers=_headers(raw)).status_code == 200


def test_a_non_admin_cannot_get_an_admin_scope(session: Any, make_user: Any) -> None:
    lead = make_user("lead@example.test", role="lead")
    with pytest.raises(ScopeTooWide):
        create_token(session, lead, "x", "admin")
    with pytest.raises(ScopeTooWide):
        create_token(session, lead, "x", "everything")


def test_an_expired_token_is_refused_with_a_clear_message(client: Any, session: Any, make_user: Any) -> None:
    admin = make_user("admin@example.test", role="admin")
    old = _token(session, admin, "read", expires_at=utcnow() - timedelta(minutes=1))
    fresh = _token(session, admin, "read", expires_at=utcnow() + timedelta(days=1))
    refused = client.get("/api/v1/sla/policies", headers=_headers(old))
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "unauthorized" and "expired" in refused.json["error"]["message"]
    assert client.get("/api/v1/sla/policies", headers=_headers(fresh)).status_code == 200


def test_last_use_records_time_and_address(client: Any, session: Any, make_user: Any) -> None:
    admin = make_user("admin@example.test", role="admin")
    raw = _token(session, admin, "read")
    before = utcnow()
    client.get("/api/v1/sla/policies", headers=_headers(raw), environ_base={"REMOTE_ADDR": "203.0.113.7"})
    session.expire_all()
    token = session.scalars(sa.select(ApiToken)).one()
    assert token.last_used_at is not None and token.last_used_at >= before - timedelta(seconds=1)
    assert token.last_used_address == "203.0.113.7"
    login(client, admin)
    assert "from 203.0.113.7" in client.get("/admin/api-tokens/").get_data(as_text=True)


def test_tokens_made_before_scopes_keep_write(session: Any, make_user: Any) -> None:
    """The column default stands in for the migration's: old rows must keep working for changes."""
    admin = make_user("admin@example.test", role="admin")
    session.execute(
        sa.insert(ApiToken.__table__).values(
            user_id=admin.id, name="old", prefix="hd_old", token_hash="0" * 64, created_at=utcnow()
        )
    )
    session.commit()
    assert session.scalar(sa.select(ApiToken.scope)) == "write"


def test_the_admin_form_requires_a_scope_and_sets_expiry(client: Any, session: Any, make_user: Any) -> None:
    admin = make_user("admin@example.test", role="admin")
    lead = make_user("lead@example.test", role="lead")
    login(client, admin)
    post(client, "/admin/api-tokens/", {"name": "BI", "user_id": lead.id})
    post(client, "/admin/api-tokens/", {"name": "BI", "user_id": lead.id, "scope": "admin"})
    post(client, "/admin/api-tokens/", {"name": "BI", "user_id": lead.id, "scope": "read", "expires_in_days": "0"})
    assert session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0
    created = post(
        client, "/admin/api-tokens/", {"name": "BI", "user_id": lead.id, "scope": "read", "expires_in_days": "30"}
    )
    assert created.status_code == 201
    token = session.scalars(sa.select(ApiToken)).one()
    assert token.scope == "read" and token.expires_at is not None
    assert timedelta(days=29) < token.expires_at - utcnow() <= timedelta(days=30)


def test_cli_create_list_and_revoke(app: Any, session: Any, make_user: Any) -> None:
    make_user("lead@example.test", role="lead")
    runner = app.test_cli_runner()
    base = ["helpdesk", "api-token", "create", "--user", "lead@example.test", "--name", "bi"]
    assert runner.invoke(args=base).exit_code == 2  # the scope must be chosen
    too_wide = runner.invoke(args=[*base, "--scope", "admin"])
    assert too_wide.exit_code == 2 and "not an admin" in too_wide.output
    made = runner.invoke(args=[*base, "--scope", "read", "--expires-in-days", "7"])
    assert made.exit_code == 0, made.output
    raw = made.output.strip().splitlines()[-1]
    token = session.scalars(sa.select(ApiToken)).one()
    assert token.scope == "read" and token.expires_at is not None
    app.test_client().get("/api/v1/macros", headers=_headers(raw), environ_base={"REMOTE_ADDR": "198.51.100.2"})
    listing = runner.invoke(args=["helpdesk", "api-token", "list"]).output
    line = next(row for row in listing.splitlines() if token.prefix in row)
    assert line.split()[0] == str(token.id) and " read " in line and "active" in line and "198.51.100.2" in line
    assert runner.invoke(args=["helpdesk", "api-token", "revoke", str(token.id)]).exit_code == 0
    assert "revoked" in runner.invoke(args=["helpdesk", "api-token", "list"]).output
    again = runner.invoke(args=["helpdesk", "api-token", "revoke", str(token.id)])
    assert again.exit_code == 2 and "already revoked" in again.output
    assert app.test_client().get("/api/v1/macros", headers=_headers(raw)).status_code == 401


def test_the_admin_page_shows_scope_expiry_and_state(client: Any, session: Any, make_user: Any) -> None:
    admin = make_user("admin@example.test", role="admin")
    old, _ = create_token(session, admin, "old", "write", expires_at=utcnow() - timedelta(days=1))
    fresh, _ = create_token(session, admin, "fresh", "read")
    session.commit()
    login(client, admin)
    html = client.get("/admin/api-tokens/").get_data(as_text=True)
    old_row = html.split(f'data-prefix="{old.prefix}"')[1].split("</tr>")[0]
    fresh_row = html.split(f'data-prefix="{fresh.prefix}"')[1].split("</tr>")[0]
    assert '<td class="scope">write</td>' in old_row and "expired" in old_row
    assert '<td class="scope">read</td>' in fresh_row and "active" in fresh_row and "expired" not in fresh_row
