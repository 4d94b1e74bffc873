"""With the helpdesk's own mail configured, an admin can have the invitation mailed (a real SMTP server on loopback)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from helpdesk.accounts.models import User
from tests.signin.test_reset_mail import PUBLIC, Inbox, app, inbox, set_password
from tests.web import PASSWORD, csrf_token, fresh_request_globals, login, post

__all__ = ["app", "inbox"]


def test_an_invitation_is_mailed_in_the_users_language_and_sets_the_password(
    client: Any, session: Any, make_user: Any, inbox: tuple[Inbox, int], compiled_translations: None
) -> None:
    mails, _port = inbox
    admin = make_user("admin@example.test", name="Ada", role="admin")
    login(client, admin)
    assert 'value="mail"' in client.get("/admin/users/new").get_data(as_text=True)
    response = post(
        client,
        "/admin/users/new",
        {
            "name": "王芳",
            "email": "wang@example.test",
            "invite": "mail",
            "role": "agent",
            "locale": "zh_Hans",
            "timezone": "Asia/Shanghai",
        },
    )
    assert response.status_code == 302
    assert "invitation with a set-password link is on its way" in client.get("/admin/users").get_data(as_text=True)
    assert len(mails.mails) == 1 and mails.mails[0]["To"] == "wang@example.test"
    body = mails.mails[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Ada" in body and PUBLIC + "/password/" in body and "3" in body
    assert mails.mails[0]["Subject"] != "You are invited to the helpdesk"  # Chinese, the user's language

    newcomer = client.application.test_client()
    assert set_password(newcomer, mails.link(), "a new long password").status_code == 302
    fresh_request_globals()
    signin = newcomer.post(
        "/login",
        data={"email": "wang@example.test", "password": "a new long password", "csrf_token": csrf_token(newcomer)},
    )
    assert signin.status_code == 302
    assert session.scalar(sa.select(User.active).where(User.email == "wang@example.test")) is True
    assert PASSWORD not in body


def test_users_create_invite_mail_from_the_command_line(app: Any, session: Any, inbox: tuple[Inbox, int]) -> None:
    from tests.test_cli import run

    result = run(app, "users", "create", "--email", "cli@example.test", "--name", "Cleo", "--invite", "--mail")
    assert result.exit_code == 0, result.output
    mails, _port = inbox
    assert [m["To"] for m in mails.mails] == ["cli@example.test"]
    assert "An administrator created a helpdesk account" in mails.mails[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
