"""The administration index: every section for admins, the readable ones for leads, nothing for agents."""

from __future__ import annotations

from typing import Any

from tests.web import login, post


def test_admins_see_every_section_leads_the_readable_ones_agents_nothing(
    client: Any, world: Any, make_user: Any
) -> None:
    login(client, make_user("admin@example.test", role="admin"))
    html = client.get("/admin/").get_data(as_text=True)
    assert 'href="/channels/"' in html and 'href="/sla/policies"' in html
    post(client, "/logout", {})

    login(client, world.lead)
    html = client.get("/admin/").get_data(as_text=True)
    assert 'href="/channels/"' in html and 'href="/sla/policies"' in html
    assert "only an admin can change them" in html

    post(client, "/logout", {})
    login(client, world.eu)
    assert client.get("/admin/").status_code == 404
