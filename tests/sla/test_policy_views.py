"""The policy admin pages and the SLA / API-token commands."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from helpdesk.api.models import ApiToken
from helpdesk.api.tokens import hash_token
from helpdesk.sla.models import SlaPolicy
from tests.web import csrf_token, login


def test_agents_get_404_and_admins_edit(client: Any, session: Any, make_user: Any) -> None:
    login(client, make_user("agent@example.test"))
    assert client.get("/sla/policies").status_code == 404
    admin = make_user("admin@example.test", role="admin")
    login(client, admin)
    response = client.post(
        "/sla/policies/new",
        data={
            "name": "Night shift",
            "platform": "ebay",
            "first_response_hours": "12",
            "calendar": "business_hours",
            "hours": "mon-fri 20:00-24:00; sat 00:00-06:00",
            "holidays": "DE",
            "enabled": "on",
            "csrf_token": csrf_token(client, "/sla/policies"),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    policy = session.scalars(sa.select(SlaPolicy)).one()
    assert (policy.first_response_s, policy.hours) == (43200, {"mon-fri": "20:00-24:00", "sat": "00:00-06:00"})
    page = client.get("/sla/policies").get_data(as_text=True)
    assert "Night shift" in page
    assert client.get(f"/sla/policies/{policy.id}").status_code == 200


def test_seed_sweep_and_token_commands(app: Any, session: Any, make_user: Any) -> None:
    make_user("admin@example.test", role="admin")
    runner = app.test_cli_runner()
    assert "default SLA policies added" in runner.invoke(args=["helpdesk", "sla", "seed"]).output
    assert session.scalar(sa.select(sa.func.count(SlaPolicy.id))) > 10
    assert "0 clocks breached" in runner.invoke(args=["helpdesk", "sla", "sweep"]).output
    result = runner.invoke(
        args=["helpdesk", "api-token", "create", "--user", "admin@example.test", "--name", "bi", "--scope", "read"]
    )
    raw = result.output.strip().splitlines()[-1]
    assert session.scalars(sa.select(ApiToken)).one().token_hash == hash_token(raw)


def test_leads_read_policies_without_edit_controls(client: Any, session: Any, make_user: Any) -> None:
    from helpdesk.sla.policies import seed_defaults

    seed_defaults(session)
    session.commit()
    policy = session.scalars(sa.select(SlaPolicy).where(SlaPolicy.platform == "amazon")).first()
    login(client, make_user("lead@example.test", role="lead"))
    response = client.get("/sla/policies")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert policy.name in html and "Read-only" in html
    main = html.split('<main id="main"', 1)[1]
    assert "<form" not in main and "<input" not in main and "/sla/policies/new" not in main
    assert f"/sla/policies/{policy.id}" not in main
    token = csrf_token(client, "/sla/policies")
    # the edit pages do not exist for a lead, whatever the method
    assert client.get("/sla/policies/new").status_code == 404
    assert client.get(f"/sla/policies/{policy.id}").status_code == 404
    refused = client.post(
        f"/sla/policies/{policy.id}",
        data={"name": "Changed", "first_response_hours": "1", "calendar": "24/7", "csrf_token": token},
    )
    assert refused.status_code == 404
    assert client.post("/sla/policies/new", data={"name": "x", "csrf_token": token}).status_code == 404
    session.expire_all()
    assert session.get(SlaPolicy, policy.id).name == policy.name
    assert session.scalar(sa.select(sa.func.count(SlaPolicy.id)).where(SlaPolicy.name == "x")) == 0
