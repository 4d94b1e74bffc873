"""Without mail, a forgotten password goes through an admin: a hand-over link or a new password."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
import time_machine

from helpdesk.audit.models import AuditEvent
from helpdesk.signin.links import make_password_link
from tests.signin.helpers import sign_in, signed_in
from tests.web import PASSWORD, csrf_token, fresh_request_globals, login, post

AUDIT_PAGE = "/admin/audit/"


def test_without_mail_the_forgot_page_sends_people_to_an_admin(client: Any) -> None:
    page = client.get("/forgot").get_data(as_text=True)
    assert "ask an admin to reset your password" in page
    assert 'name="email"' not in page
    assert client.post("/forgot", data={"email": "a@example.test"}).status_code == 400  # no CSRF, no action


def test_admin_makes_a_link_to_hand_over(app: Any, client: Any, make_user: Any, session: Any) -> None:
    make_user("agent@example.test")
    login(client, make_user("admin@example.test", role="admin"))
    page = post(client, "/admin/sign-in/password", {"email": "agent@example.test", "action": "link"}, "/admin/sign-in")
    assert page.status_code == 200
    path = re.search(r"<code>http://localhost(/password/[^<]+)</code>", page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]

    user_browser = app.test_client()
    fresh_request_globals()
    token = csrf_token(user_browser, path)
    data = {"password": "handed-over-pw", "repeat": "handed-over-pw", "csrf_token": token}
    assert user_browser.post(path, data=data).status_code == 302
    assert sign_in(user_browser, "agent@example.test", "handed-over-pw").status_code == 302
    assert session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "signin.password_link"))
    fresh_request_globals()
    log = client.get(AUDIT_PAGE).get_data(as_text=True)
    assert "made a set-password link for agent@example.test" in log


def test_admin_sets_a_password_and_the_users_sessions_end(app: Any, client: Any, make_user: Any) -> None:
    make_user("agent@example.test")
    agent = app.test_client()
    sign_in(agent, "agent@example.test")
    login(client, make_user("admin@example.test", role="admin"))
    data = {"email": "agent@example.test", "action": "set", "password": "set-by-admin"}
    assert post(client, "/admin/sign-in/password", data, "/admin/sign-in").status_code == 302
    assert not signed_in(agent)
    assert sign_in(agent, "agent@example.test", "set-by-admin").status_code == 302
    short = post(client, "/admin/sign-in/password", {**data, "password": "short"}, "/admin/sign-in")
    assert short.status_code == 422 and "at least 8 characters" in short.get_data(as_text=True)
    ghost = post(client, "/admin/sign-in/password", {**data, "email": "ghost@example.test"}, "/admin/sign-in")
    assert ghost.status_code == 422 and "There is no user with e-mail ghost@example.test." in ghost.get_data(
        as_text=True
    )


def test_agents_cannot_reset_passwords(client: Any, world: Any) -> None:
    login(client, world.lead)
    assert post(client, "/admin/sign-in/password", {"email": world.eu.email, "action": "link"}).status_code == 404


def test_make_password_link_for_invitations(client: Any, make_user: Any, session: Any) -> None:
    """The service other features (invitations) use: a path, single use, its lifetime chosen by the caller."""
    user = make_user("new@example.test")
    path = make_password_link(session, user, valid_for=timedelta(days=7))
    session.commit()
    assert path.startswith("/password/")
    with time_machine.travel(timedelta(days=6)):
        assert client.get(path).status_code == 200
    with time_machine.travel(timedelta(days=7, minutes=1)):
        assert client.get(path).status_code == 404


def test_a_deactivated_users_link_does_not_work(client: Any, make_user: Any, session: Any) -> None:
    user = make_user("gone@example.test")
    path = make_password_link(session, user)
    user.active = False
    session.commit()
    assert client.get(path).status_code == 404


def test_cli_reset_password_prints_a_link_or_sets_a_password(app: Any, make_user: Any, client: Any) -> None:
    make_user("agent@example.test")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["helpdesk", "users", "reset-password", "Agent@Example.test"])
    assert result.exit_code == 0, result.output
    path = re.search(r"(/password/\S+)", result.output).group(1)  # type: ignore[union-attr]
    assert client.get(path).status_code == 200
    result = runner.invoke(
        args=["helpdesk", "users", "reset-password", "agent@example.test", "--password-env", "PW"],
        env={"PW": "from-the-cli-1"},
    )
    assert result.exit_code == 0 and "New password set" in result.output
    assert client.get(path).status_code == 404  # the new password cancelled the link
    assert sign_in(client, "agent@example.test", PASSWORD).status_code == 200
    assert sign_in(client, "agent@example.test", "from-the-cli-1").status_code == 302
    missing = runner.invoke(args=["helpdesk", "users", "reset-password", "ghost@example.test"])
    assert missing.exit_code != 0 and "there is no user with e-mail ghost@example.test" in missing.output
