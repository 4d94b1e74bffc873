"""The users and teams pages: admins change them, leads read teams, agents get 404; every change is audited."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk.accounts.models import Team, User
from helpdesk.audit.models import AuditEvent
from tests.web import PASSWORD, csrf_token, login, post


@pytest.fixture
def admin(make_user: Any) -> User:
    return make_user("admin@example.test", name="Ada", role="admin")


def _actions(session: Any) -> list[str]:
    session.expire_all()
    return [e.action for e in session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))]


ADMIN_ONLY = [
    ("get", "/admin/users"),
    ("get", "/admin/users/new"),
    ("post", "/admin/users/new"),
    ("get", "/admin/users/{eu}"),
    ("post", "/admin/users/{eu}"),
    ("post", "/admin/users/{eu}/deactivate"),
    ("post", "/admin/users/{eu}/reactivate"),
    ("post", "/admin/teams"),
    ("post", "/admin/teams/{team}/rename"),
    ("get", "/admin/teams/{team}/delete"),
    ("post", "/admin/teams/{team}/delete"),
    ("post", "/admin/teams/{team}/members"),
    ("post", "/admin/teams/{team}/members/{eu}/remove"),
    ("post", "/admin/teams/{team}/stores"),
]


def test_agents_and_leads_get_404_on_every_admin_action(client: Any, session: Any, world: Any) -> None:
    for who in (world.eu, world.lead):
        login(client, who)
        for method, pattern in ADMIN_ONLY:
            path = pattern.format(eu=world.eu.id, team=world.europe.id)
            if method == "get":
                response = client.get(path)
            else:
                response = post(client, path, {"name": "X", "user_id": world.eu.id, "stores": world.de.id})
            assert response.status_code == 404, (who.email, method, path, response.status_code)
        post(client, "/logout", {})
    session.expire_all()
    assert world.eu.active and world.europe.name == "Europe" and _actions(session) == []


def test_leads_read_teams_without_edit_controls_agents_not_at_all(client: Any, world: Any) -> None:
    login(client, world.lead)
    listing = client.get("/admin/teams").get_data(as_text=True)
    assert "Europe" in listing and "Emil" in listing and "shop-de" in listing
    assert "Read-only" in listing and "Create team" not in listing
    page = client.get(f"/admin/teams/{world.europe.id}").get_data(as_text=True)
    assert "Emil" in page and 'name="stores"' not in page and "Delete this team" not in page
    assert 'href="/admin/teams"' in client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/users"' not in client.get("/admin/").get_data(as_text=True)
    post(client, "/logout", {})
    login(client, world.eu)
    assert client.get("/admin/teams").status_code == 404
    assert client.get(f"/admin/teams/{world.europe.id}").status_code == 404


def test_an_admin_creates_edits_and_lists_a_user(
    client: Any, session: Any, world: Any, admin: User, make_ticket: Any
) -> None:
    login(client, admin)
    assert 'href="/admin/users"' in client.get("/admin/").get_data(as_text=True)
    response = post(
        client,
        "/admin/users/new",
        {
            "name": "Nia",
            "email": "Nia@Example.test",
            "password": PASSWORD,
            "role": "agent",
            "locale": "zh_Hans",
            "timezone": "Asia/Shanghai",
            "teams": [str(world.asia.id)],
        },
        token_from="/admin/users/new",
    )
    assert response.status_code == 302
    nia = session.scalar(sa.select(User).where(User.email == "nia@example.test"))
    assert (nia.locale, nia.timezone, [t.name for t in nia.teams]) == ("zh_Hans", "Asia/Shanghai", ["Asia"])

    bad = post(
        client,
        "/admin/users/new",
        {
            "name": "X",
            "email": "nia@example.test",
            "password": PASSWORD,
            "role": "agent",
            "locale": "en",
            "timezone": "UTC",
        },
    )
    assert bad.status_code == 422 and "already exists" in bad.get_data(as_text=True)
    assert PASSWORD not in bad.get_data(as_text=True)

    edit = post(
        client,
        f"/admin/users/{nia.id}",
        {"name": "Nia", "role": "lead", "locale": "en", "timezone": "Europe/Berlin", "teams": [str(world.europe.id)]},
    )
    assert edit.status_code == 302
    session.expire_all()
    assert (nia.role, nia.locale, nia.timezone, [t.name for t in nia.teams]) == (
        "lead",
        "en",
        "Europe/Berlin",
        ["Europe"],
    )

    ticket = make_ticket()
    ticket.assignee_id = world.eu.id
    session.commit()
    html = client.get("/admin/users").get_data(as_text=True)
    row = html.split('data-email="eu@example.test"')[1].split("</tr>")[0]
    assert f'href="/?view=open&amp;assignee={world.eu.id}"' in row and ">1</a>" in row
    assert "Europe" in row
    assert "Nia" in html and "nia@example.test" in html
    assert _actions(session) == ["user.created", "user.updated"]
    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.updated")).one()
    assert (event.actor_type, event.actor_id, event.data["changes"]["role"]) == ("user", admin.id, ["agent", "lead"])


def test_the_users_list_shows_the_last_sign_in(client: Any, session: Any, world: Any, admin: User) -> None:
    login(client, world.eu)
    post(client, "/logout", {})
    login(client, admin)
    html = client.get("/admin/users").get_data(as_text=True)
    eu_row = html.split('data-email="eu@example.test"')[1].split("</tr>")[0]
    asia_row = html.split('data-email="asia@example.test"')[1].split("</tr>")[0]
    assert "<time" in eu_row and "not known" in asia_row


def test_deactivation_ends_sessions_and_api_tokens_at_once(
    client: Any, app: Any, session: Any, world: Any, admin: User
) -> None:
    from helpdesk.api.tokens import create_token

    _, raw = create_token(session, world.eu, "script")
    session.commit()
    agent = app.test_client()
    login(agent, world.eu)
    assert agent.get("/").status_code == 200
    assert agent.get("/api/v1/macros", headers={"Authorization": f"Bearer {raw}"}).status_code == 200

    login(client, admin)
    assert post(client, f"/admin/users/{world.eu.id}/deactivate", {}).status_code == 302
    session.expire_all()
    assert world.eu.active is False

    from tests.web import fresh_request_globals

    fresh_request_globals()
    response = agent.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert agent.get("/api/v1/macros", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    signin = agent.post(
        "/login", data={"email": "eu@example.test", "password": PASSWORD, "csrf_token": csrf_token(agent)}
    )
    assert signin.status_code == 200

    assert post(client, f"/admin/users/{world.eu.id}/reactivate", {}).status_code == 302
    fresh_request_globals()
    assert agent.get("/api/v1/macros", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    assert _actions(session) == ["user.deactivated", "user.reactivated"]


def test_the_last_admin_cannot_deactivate_or_demote_themselves(
    client: Any, session: Any, world: Any, admin: User
) -> None:
    login(client, admin)
    response = post(client, f"/admin/users/{admin.id}/deactivate", {})
    assert "last active admin" in client.get(response.headers["Location"]).get_data(as_text=True)
    demote = post(
        client, f"/admin/users/{admin.id}", {"name": "Ada", "role": "agent", "locale": "en", "timezone": "UTC"}
    )
    assert demote.status_code == 422 and "last active admin" in demote.get_data(as_text=True)
    session.expire_all()
    assert admin.active and admin.role == "admin" and _actions(session) == []


def test_an_admin_manages_a_team(client: Any, session: Any, world: Any, admin: User) -> None:
    login(client, admin)
    created = post(client, "/admin/teams", {"name": "Americas"})
    team = session.scalar(sa.select(Team).where(Team.name == "Americas"))
    assert created.headers["Location"].endswith(f"/admin/teams/{team.id}")
    dup = post(client, "/admin/teams", {"name": "Americas"})
    assert "already exists" in client.get(dup.headers["Location"]).get_data(as_text=True)

    post(client, f"/admin/teams/{team.id}/members", {"user_id": world.asia_agent.id})
    post(client, f"/admin/teams/{team.id}/stores", {"stores": [str(world.de.id), str(world.jp.id)]})
    from helpdesk.accounts.services import visible_account_ids

    session.expire_all()
    assert visible_account_ids(world.asia_agent) == {world.de.id, world.jp.id}
    post(client, f"/admin/teams/{team.id}/stores", {"stores": [str(world.de.id)]})
    post(client, f"/admin/teams/{team.id}/rename", {"name": "Amériques"})
    page = client.get(f"/admin/teams/{team.id}").get_data(as_text=True)
    assert "Amériques" in page and "Aiko" in page
    assert f'value="{world.de.id}" checked' in page and f'value="{world.jp.id}" checked' not in page
    post(client, f"/admin/teams/{team.id}/members/{world.asia_agent.id}/remove", {})

    confirm = client.get(f"/admin/teams/{team.id}/delete").get_data(as_text=True)
    assert "Delete team Amériques?" in confirm and "shop-de" in confirm
    post(client, f"/admin/teams/{team.id}/delete", {})
    assert session.get(Team, team.id) is None
    assert _actions(session) == [
        "team.created",
        "team.member_added",
        "team.stores_changed",
        "team.stores_changed",
        "team.renamed",
        "team.member_removed",
        "team.deleted",
    ]
    changed = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "team.stores_changed")).all()
    assert changed[0].data["added"] == ["shop-de", "shop-jp"] and changed[1].data["removed"] == ["shop-jp"]


def test_an_invited_user_sets_their_password_with_the_link(
    client: Any, app: Any, session: Any, world: Any, admin: User
) -> None:
    login(client, admin)
    response = post(
        client,
        "/admin/users/new",
        {"name": "Ivo", "email": "ivo@example.test", "invite": "1", "role": "agent", "locale": "en", "timezone": "UTC"},
    )
    assert response.status_code == 201
    link = response.get_data(as_text=True).split('id="invite-link">')[1].split("<")[0]
    assert "/password/" in link
    assert link not in client.get("/admin/users").get_data(as_text=True)
    ivo = session.scalar(sa.select(User).where(User.email == "ivo@example.test"))
    assert ivo.active
    assert _actions(session) == ["user.created", "signin.password_link"]
    audit_html = client.get("/admin/audit/").get_data(as_text=True)
    assert "Ada made a set-password link for ivo@example.test" in audit_html

    from tests.web import fresh_request_globals

    newcomer = app.test_client()
    fresh_request_globals()
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = newcomer.get("/" + path)
    assert page.status_code == 200
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    form = {
        "csrf_token": token,
        "password": "a new long password",
        "repeat": "a new long password",
        "confirm": "a new long password",
    }
    assert newcomer.post("/" + path, data=form).status_code == 302
    fresh_request_globals()
    signin = newcomer.post(
        "/login",
        data={"email": "ivo@example.test", "password": "a new long password", "csrf_token": csrf_token(newcomer)},
    )
    assert signin.status_code == 302
