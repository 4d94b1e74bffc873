"""'Forgot password?' with mail: a real SMTP server on loopback receives single-use, expiring links."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from aiosmtpd.controller import Controller

from helpdesk.signin import throttle
from helpdesk.signin.models import PasswordLink
from tests.conftest import _env
from tests.services.dovecot import free_port
from tests.signin.helpers import sign_in, signed_in
from tests.web import PASSWORD, csrf_token, fresh_request_globals

PUBLIC = "https://help.example.test"


class Inbox:
    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(email.message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"

    def link(self, n: int = -1) -> str:
        body = self.mails[n].get_body(("plain",)).get_content()  # type: ignore[union-attr]
        match = re.search(re.escape(PUBLIC) + r"(/password/\S+)", body)
        assert match, body
        return match.group(1)


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest.fixture
def app(database_url: str, tmp_path: Path, inbox: tuple[Inbox, int], password_hashing: dict[str, str]) -> Iterator[Any]:
    """The usual test app, with the helpdesk's own mail going to the loopback server."""
    from helpdesk import create_app
    from helpdesk.extensions import db

    env = {
        **_env(database_url),
        **password_hashing,
        "HELPDESK_SMTP_URL": f"smtp://127.0.0.1:{inbox[1]}",
        "HELPDESK_MAIL_FROM": "helpdesk@example.test",
        "HELPDESK_PUBLIC_URL": PUBLIC,
    }
    application = create_app(env, instance_path=tmp_path / "instance", overrides={"TESTING": True})
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


def ask_for_link(client: Any, address: str) -> Any:
    fresh_request_globals()
    return client.post("/forgot", data={"email": address, "csrf_token": csrf_token(client, "/forgot")})


def set_password(client: Any, path: str, password: str, repeat: str | None = None) -> Any:
    fresh_request_globals()
    token = csrf_token(client, path)
    return client.post(path, data={"password": password, "repeat": repeat or password, "csrf_token": token})


def test_forgot_password_mails_a_link_that_works_once(client: Any, make_user: Any, inbox: Any) -> None:
    mails, _port = inbox
    make_user("agent@example.test", name="Aiko")
    assert "Forgot password?" in client.get("/login").get_data(as_text=True)
    response = ask_for_link(client, "Agent@Example.test")
    assert response.status_code == 302
    assert "a link to set a new password is on its way" in client.get("/login").get_data(as_text=True)

    [mail] = mails.mails
    assert mail["To"] == "agent@example.test" and mail["From"] == "helpdesk@example.test"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert "Hello Aiko" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    path = mails.link()
    assert set_password(client, path, "short").status_code == 422
    assert set_password(client, path, "a-new-password-1", "a-new-password-2").status_code == 422
    assert set_password(client, path, "a-new-password-1").status_code == 302
    assert sign_in(client, "agent@example.test", PASSWORD).status_code == 200
    assert sign_in(client, "agent@example.test", "a-new-password-1").status_code == 302

    again = client.get(path)
    assert again.status_code == 404 and "This link no longer works" in again.get_data(as_text=True)
    fresh_request_globals()
    token = csrf_token(client, "/login")
    data = {"password": "another-password", "repeat": "another-password", "csrf_token": token}
    assert client.post(path, data=data).status_code == 404


def test_unknown_address_gets_the_same_answer_and_no_mail(client: Any, make_user: Any, inbox: Any) -> None:
    mails, _port = inbox
    make_user("agent@example.test")
    known = ask_for_link(client, "agent@example.test")
    unknown = ask_for_link(client, "nobody@example.test")
    assert (known.status_code, known.headers["Location"]) == (unknown.status_code, unknown.headers["Location"])
    assert len(mails.mails) == 1


def test_a_link_expires_after_an_hour(client: Any, make_user: Any, inbox: Any) -> None:
    mails, _port = inbox
    make_user("agent@example.test")
    ask_for_link(client, "agent@example.test")
    path = mails.link()
    with time_machine.travel(timedelta(minutes=61)):
        assert client.get(path).status_code == 404
    assert client.get(path).status_code == 200


def test_a_new_password_cancels_other_links_and_ends_sessions(
    app: Any, client: Any, make_user: Any, session: Any, inbox: Any
) -> None:
    mails, _port = inbox
    user = make_user("agent@example.test")
    ask_for_link(client, "agent@example.test")
    first = mails.link()
    with time_machine.travel(timedelta(minutes=3)):  # past the two-minute gap between mails
        ask_for_link(client, "agent@example.test")
    second = mails.link()
    assert first != second

    other = app.test_client()
    sign_in(other, "agent@example.test")
    assert set_password(client, second, "a-new-password-1").status_code == 302
    assert client.get(first).status_code == 404
    assert not signed_in(other)
    assert session.scalars(sa.select(PasswordLink.token_hash)).all()  # hashes only:
    assert not any(first.rsplit("/", 1)[1] in h for h in session.scalars(sa.select(PasswordLink.token_hash)))
    session.refresh(user)
    assert user.session_epoch == 1


def test_repeated_requests_send_one_mail_per_gap(client: Any, make_user: Any, inbox: Any) -> None:
    mails, _port = inbox
    make_user("agent@example.test")
    for _ in range(5):
        ask_for_link(client, "agent@example.test")
    assert len(mails.mails) == 1


def test_mail_needs_a_public_url_and_a_sender(tmp_path: Path) -> None:
    from helpdesk.config import ConfigError, load_settings

    env = {"HELPDESK_SECRET_KEY": "x" * 20, "HELPDESK_SMTP_URL": "smtp+starttls://u:p@mail.example.test:587"}
    with pytest.raises(ConfigError, match="HELPDESK_MAIL_FROM"):
        load_settings(env, tmp_path)
    with pytest.raises(ConfigError, match="HELPDESK_PUBLIC_URL"):
        load_settings({**env, "HELPDESK_MAIL_FROM": "help@example.test"}, tmp_path)
    with pytest.raises(ConfigError, match="HELPDESK_SMTP_URL must look like"):
        load_settings({**env, "HELPDESK_SMTP_URL": "http://mail.example.test"}, tmp_path)
    ok = load_settings({**env, "HELPDESK_MAIL_FROM": "help@example.test", "HELPDESK_PUBLIC_URL": PUBLIC}, tmp_path)
    assert ok.smtp_url and ok.mail_from == "help@example.test"


def test_a_mail_server_that_is_down_changes_nothing_the_visitor_sees(
    app: Any, client: Any, make_user: Any, caplog: pytest.LogCaptureFixture
) -> None:
    make_user("agent@example.test")
    nobody_listens = f"smtp://127.0.0.1:{free_port()}"
    app.config["HELPDESK_SETTINGS"] = replace(app.config["HELPDESK_SETTINGS"], smtp_url=nobody_listens)
    known = ask_for_link(client, "agent@example.test")
    unknown = ask_for_link(client, "nobody@example.test")
    assert (known.status_code, known.headers["Location"]) == (unknown.status_code, unknown.headers["Location"])
    assert "not mailed" in caplog.text


def test_one_address_cannot_mail_every_user(client: Any, make_user: Any, inbox: Any, session: Any) -> None:
    mails, _port = inbox
    for n in range(14):
        make_user(f"user{n}@example.test")
    answers = [ask_for_link(client, f"user{n}@example.test") for n in range(14)]
    assert [a.headers["Location"] for a in answers[:10]] == ["/login"] * 10
    for refused in answers[10:]:  # told to wait, by the address: whichever e-mail address was typed
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        assert "Too many password links were asked for from your address" in refused.get_data(as_text=True)
    assert len(mails.mails) == 10  # ten free, then that address waits
    assert throttle.reset_request_wait(session, "127.0.0.1") > 0
    assert throttle.reset_request_wait(session, "198.51.100.20") == 0  # another address is not affected
