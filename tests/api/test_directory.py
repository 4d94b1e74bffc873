"""``/api/v1/users`` and ``/api/v1/teams``: the same visibility as the UI."""

from __future__ import annotations

from typing import Any


def test_agents_see_colleagues_without_addresses_and_only_their_teams(client: Any, world: Any, bearer: Any) -> None:
    headers = bearer(world.eu, "read")
    users = client.get("/api/v1/users", headers=headers).json["users"]
    names = {u["name"] for u in users}
    assert {"Emil", "Aiko", "Lena"} <= names
    assert all(u["email"] is None for u in users)
    teams = client.get("/api/v1/teams", headers=headers).json["teams"]
    assert [t["name"] for t in teams] == ["Europe"]
    assert teams[0]["store_ids"] == [world.de.id] and world.eu.id in teams[0]["member_ids"]


def test_leads_see_everyone_everything(client: Any, world: Any, bearer: Any, session: Any) -> None:
    world.asia_agent.active = False
    session.commit()
    headers = bearer(world.lead, "read")
    active = client.get("/api/v1/users", headers=headers).json["users"]
    assert "Aiko" not in {u["name"] for u in active}
    everyone = client.get("/api/v1/users?include_inactive=true", headers=headers).json["users"]
    aiko = next(u for u in everyone if u["name"] == "Aiko")
    assert aiko["email"] == "asia@example.test" and aiko["active"] is False
    assert {t["name"] for t in client.get("/api/v1/teams", headers=headers).json["teams"]} == {"Europe", "Asia"}
    # a deactivated user is 404 to an agent, visible to a lead
    assert client.get(f"/api/v1/users/{world.asia_agent.id}", headers=bearer(world.eu)).status_code == 404
    assert client.get(f"/api/v1/users/{world.asia_agent.id}", headers=headers).json["name"] == "Aiko"


def test_users_are_paged_by_id(client: Any, world: Any, bearer: Any) -> None:
    headers = bearer(world.lead, "read")
    first = client.get("/api/v1/users?limit=2", headers=headers).json
    assert len(first["users"]) == 2 and first["next_after"] == first["users"][-1]["id"]
    rest = client.get(f"/api/v1/users?limit=2&after={first['next_after']}", headers=headers).json
    seen = [u["id"] for u in first["users"] + rest["users"]]
    assert seen == sorted(seen) and len(set(seen)) == len(seen) >= 3
