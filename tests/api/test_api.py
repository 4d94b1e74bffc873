"""The REST API: token auth, roles, JSON errors, SLA reports and policies."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from helpdesk.api.models import ApiToken
from helpdesk.api.tokens import create_token, hash_token
from helpdesk.reports.services import ReportQuery, sla_report
from helpdesk.sla.models import SlaPolicy
from tests.reports.test_reports import NOW, dataset  # noqa: F401 - the hand-built dataset fixture


def bearer(session: Any, user: Any, scope: str | None = None) -> dict[str, str]:
    """A token with the widest scope the user's role allows unless ``scope`` says otherwise."""
    _token, raw = create_token(session, user, "test", scope or ("admin" if user.role == "admin" else "write"))
    session.commit()
    return {"Authorization": f"Bearer {raw}"}


def test_token_is_stored_hashed(session: Any, make_user: Any) -> None:
    user = make_user("admin@example.test", role="admin")
    _token, raw = create_token(session, user, "ci")
    session.commit()
    row = session.execute(sa.select(ApiToken.__table__)).one()
    assert raw not in [str(v) for v in row]
    assert row.token_hash == hash_token(raw) and len(row.token_hash) == 64
    assert raw.startswith(row.prefix)


def test_no_token_is_401_json(client: Any) -> None:
    response = client.get("/api/v1/sla/policies")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    bad = client.get("/api/v1/sla/policies", headers={"Authorization": "Bearer hd_nope"})
    assert bad.status_code == 401


def test_agent_token_cannot_reach_admin_or_lead_endpoints(client: Any, session: Any, make_user: Any) -> None:
    headers = bearer(session, make_user("agent@example.test"))
    assert client.get("/api/v1/sla/policies", headers=headers).status_code == 404
    assert client.post("/api/v1/sla/policies", json={"name": "x"}, headers=headers).status_code == 404
    assert client.get("/api/v1/reports/sla", headers=headers).status_code == 404


def test_revoked_token_is_refused(client: Any, session: Any, make_user: Any) -> None:
    from helpdesk.api.tokens import revoke_token

    user = make_user("admin@example.test", role="admin")
    token, raw = create_token(session, user, "old")
    revoke_token(session, token.prefix)
    session.commit()
    assert client.get("/api/v1/sla/policies", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_admin_creates_lists_and_patches_policies(client: Any, session: Any, make_user: Any) -> None:
    headers = bearer(session, make_user("admin@example.test", role="admin"))
    created = client.post(
        "/api/v1/sla/policies",
        json={
            "name": "VIP",
            "platform": "amazon",
            "priority": "urgent",
            "first_response_hours": 2,
            "calendar": "business_hours",
            "timezone": "Asia/Shanghai",
            "hours": {"mon-fri": "09:00-18:00"},
            "holidays": "CN",
            "closures": ["2026-05-04"],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["first_response_hours"], body["calendar"], body["closures"]) == (2.0, "business_hours", ["2026-05-04"])
    patched = client.patch(f"/api/v1/sla/policies/{body['id']}", json={"first_response_hours": 1.5}, headers=headers)
    assert patched.status_code == 200
    assert session.get(SlaPolicy, body["id"]).first_response_s == 5400
    listed = client.get("/api/v1/sla/policies", headers=headers).json["policies"]
    assert [p["name"] for p in listed] == ["VIP"]
    invalid = client.post("/api/v1/sla/policies", json={"name": "x", "timezone": "Mars/Base"}, headers=headers)
    assert invalid.status_code == 422
    assert "timezone" in invalid.json["error"]["message"]
    assert client.patch("/api/v1/sla/policies/999", json={}, headers=headers).status_code == 404


def test_report_api_returns_the_page_figures(client: Any, session: Any, make_user: Any, dataset: Any) -> None:  # noqa: F811
    headers = bearer(session, make_user("lead@example.test", role="lead"))
    response = client.get("/api/v1/reports/sla?from=2026-03-02&to=2026-03-03&group=platform", headers=headers)
    assert response.status_code == 200
    body = response.json
    expected = sla_report(session, ReportQuery(date(2026, 3, 2), date(2026, 3, 3), "UTC", "platform"), now=NOW)
    assert body["total"]["compliance_pct"] == expected.total.compliance_pct == 60.0
    assert [(g["label"], g["decided"], g["breached"]) for g in body["groups"]] == [("amazon", 3, 1), ("ebay", 2, 1)]
    assert client.get("/api/v1/reports/sla?group=nope", headers=headers).status_code == 400


def test_lead_token_reads_policies_but_cannot_change_them(client: Any, session: Any, make_user: Any) -> None:
    from helpdesk.sla.policies import seed_defaults

    seed_defaults(session)
    session.commit()
    headers = bearer(session, make_user("lead@example.test", role="lead"))
    listed = client.get("/api/v1/sla/policies", headers=headers)
    assert listed.status_code == 200 and len(listed.json["policies"]) > 10
    first = listed.json["policies"][0]["id"]
    assert client.post("/api/v1/sla/policies", json={"name": "x"}, headers=headers).status_code == 404
    assert client.patch(f"/api/v1/sla/policies/{first}", json={"name": "y"}, headers=headers).status_code == 404
