"""Sessions end when they should: idle lifetime, sign out everywhere, a new password, deactivation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.signin.helpers import sign_in, signed_in
from tests.web import PASSWORD, csrf_token, fresh_request_globals


def test_sign_out_everywhere_ends_every_session_of_the_user(app: Any, client: Any, make_user: Any) -> None:
    make_user("agent@example.test")
    laptop, phone = client, app.test_client()
    sign_in(laptop, "agent@example.test")
    sign_in(phone, "agent@example.test", address="192.0.2.44")
    assert signed_in(laptop) and signed_in(phone)

    fresh_request_globals()
    response = phone.post(
        "/settings/security/sign-out-everywhere", data={"csrf_token": csrf_token(phone, "/settings/security")}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not signed_in(phone)
    assert not signed_in(laptop)
    assert sign_in(laptop, "agent@example.test").status_code == 302  # and signing in again works
    assert signed_in(laptop)


def test_changing_the_password_keeps_this_session_and_ends_the_others(
    app: Any, client: Any, make_user: Any, session: Any
) -> None:
    make_user("agent@example.test")
    other = app.test_client()
    sign_in(client, "agent@example.test")
    sign_in(other, "agent@example.test")

    def change(current: str, new: str, repeat: str) -> Any:
        fresh_request_globals()
        token = csrf_token(client, "/settings/security")
        data = {"current": current, "password": new, "repeat": repeat, "csrf_token": token}
        return client.post("/settings/security/password", data=data)

    wrong = change("not-my-password", "a-brand-new-password", "a-brand-new-password")
    assert wrong.status_code == 422 and "current password is not right" in wrong.get_data(as_text=True)
    assert change(PASSWORD, "a-brand-new-password", "a-different-one").status_code == 422
    assert change(PASSWORD, "short", "short").status_code == 422
    assert change(PASSWORD, "a-brand-new-password", "a-brand-new-password").status_code == 302
    assert signed_in(client)
    assert not signed_in(other)
    assert sign_in(other, "agent@example.test", PASSWORD).status_code == 200  # the old password is gone
    assert sign_in(other, "agent@example.test", "a-brand-new-password").status_code == 302


def test_a_deactivated_users_session_stops_at_once(client: Any, make_user: Any, session: Any) -> None:
    user = make_user("agent@example.test")
    sign_in(client, "agent@example.test")
    assert signed_in(client)
    user.active = False
    session.commit()
    assert not signed_in(client)
    page = sign_in(client, "agent@example.test").get_data(as_text=True)
    assert "Wrong e-mail address or password." in page


def test_a_session_from_before_session_epochs_loads_nobody(client: Any, make_user: Any) -> None:
    user = make_user("agent@example.test")
    sign_in(client, "agent@example.test")
    with client.session_transaction() as s:
        s["_user_id"] = str(user.id)  # the shape sessions had before
    assert not signed_in(client)


def test_sessions_are_permanent_with_the_configured_idle_lifetime(app: Any, client: Any, make_user: Any) -> None:
    assert app.permanent_session_lifetime == timedelta(hours=12)
    make_user("agent@example.test")
    response = sign_in(client, "agent@example.test")
    cookie = response.headers["Set-Cookie"]
    assert "Expires=" in cookie and "HttpOnly" in cookie


def test_session_hours_come_from_the_environment(tmp_path: Any) -> None:
    import pytest

    from helpdesk.config import ConfigError, load_settings

    env = {"HELPDESK_SECRET_KEY": "x" * 20, "HELPDESK_SESSION_HOURS": "8"}
    assert load_settings(env, tmp_path).session_hours == 8
    with pytest.raises(ConfigError, match="HELPDESK_SESSION_HOURS"):
        load_settings({**env, "HELPDESK_SESSION_HOURS": "0"}, tmp_path)
