"""Sessions end when they should: sign-out, sign out everywhere, a new password, deactivation, idle and age.

A replay test keeps the session cookie as it was before the session ended
(as a thief, a shared computer or a forgotten tab would) and puts it back.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk.db import utcnow
from helpdesk.signin.models import UserSession
from tests.signin.helpers import replay, saved_cookie, sign_in, signed_in
from tests.web import PASSWORD, csrf_token, fresh_request_globals, login, post


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


def records_of(session: Any, user: Any) -> list[UserSession]:
    session.expire_all()
    return list(session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)))


def test_a_cookie_saved_before_signing_out_opens_nothing_afterwards(client: Any, make_user: Any) -> None:
    make_user("agent@example.test")
    sign_in(client, "agent@example.test")
    stolen = saved_cookie(client)
    fresh_request_globals()
    assert post(client, "/logout", {}).headers["Location"] == "/login"
    assert not signed_in(client)

    replay(client, stolen)
    assert not signed_in(client)
    assert client.get("/settings/security").status_code == 302  # to the sign-in page


def test_a_cookie_saved_before_sign_out_everywhere_opens_nothing(app: Any, client: Any, make_user: Any) -> None:
    make_user("agent@example.test")
    phone = app.test_client()
    sign_in(client, "agent@example.test")
    sign_in(phone, "agent@example.test")
    stolen = saved_cookie(phone)
    post(client, "/settings/security/sign-out-everywhere", {}, token_from="/settings/security")
    replay(phone, stolen)
    assert not signed_in(phone)


def test_a_deactivated_users_cookie_stays_dead_after_reactivation(
    client: Any, make_user: Any, session: Any, app: Any
) -> None:
    from helpdesk.accounts.admin_services import deactivate_user, reactivate_user

    user = make_user("agent@example.test")
    sign_in(client, "agent@example.test")
    stolen = saved_cookie(client)
    deactivate_user(session, None, user)
    session.commit()
    assert not signed_in(client)
    reactivate_user(session, None, user)
    session.commit()
    replay(client, stolen)
    assert not signed_in(client)
    assert all(r.ended_at is not None for r in records_of(session, user))


def test_an_idle_session_ends_and_a_used_one_goes_on(app: Any, client: Any, make_user: Any, session: Any) -> None:
    user = make_user("agent@example.test")
    other = app.test_client()
    sign_in(client, "agent@example.test")
    sign_in(other, "agent@example.test")
    idle = timedelta(minutes=app.config["HELPDESK_SETTINGS"].session_idle_minutes)
    first, second = records_of(session, user)
    first.last_seen_at = utcnow() - idle - timedelta(minutes=1)
    second.last_seen_at = utcnow() - idle + timedelta(minutes=5)
    session.commit()

    assert not signed_in(client)
    assert signed_in(other)
    second = records_of(session, user)[1]
    assert second.last_seen_at > utcnow() - timedelta(minutes=1)  # using it counted: the idle clock restarted


def test_a_session_ends_at_its_absolute_lifetime_however_busy(
    app: Any, client: Any, make_user: Any, session: Any
) -> None:
    user = make_user("agent@example.test")
    sign_in(client, "agent@example.test")
    most = timedelta(hours=app.config["HELPDESK_SETTINGS"].session_max_hours)
    (record,) = records_of(session, user)
    record.created_at = utcnow() - most + timedelta(minutes=1)
    session.commit()
    assert signed_in(client)
    record = records_of(session, user)[0]
    record.created_at = utcnow() - most - timedelta(minutes=1)
    record.last_seen_at = utcnow()
    session.commit()
    assert not signed_in(client)


def test_last_seen_moves_at_most_once_a_minute(client: Any, make_user: Any, session: Any) -> None:
    user = make_user("agent@example.test")
    sign_in(client, "agent@example.test")
    (record,) = records_of(session, user)
    seen = record.last_seen_at = utcnow() - timedelta(seconds=30)
    session.commit()
    assert signed_in(client)
    assert records_of(session, user)[0].last_seen_at == seen  # no write for a request within the minute
    records_of(session, user)[0].last_seen_at = utcnow() - timedelta(seconds=61)
    session.commit()
    assert signed_in(client)
    assert records_of(session, user)[0].last_seen_at > seen


def test_signing_in_rotates_the_session_and_the_csrf_token(client: Any, make_user: Any, session: Any) -> None:
    user = make_user("agent@example.test")
    before = csrf_token(client)
    sign_in(client, "agent@example.test")
    fresh_request_globals()
    after = csrf_token(client, "/settings/security")
    assert after != before
    fresh_request_globals()
    refused = client.post("/settings/security/sign-out-everywhere", data={"csrf_token": before})
    assert refused.status_code == 400 and signed_in(client)  # the token from before signing in is no use

    first_cookie = saved_cookie(client)
    sign_in(client, "agent@example.test")  # signing in again on the same browser: a new record, the old one over
    first, second = records_of(session, user)
    assert first.ended_at is not None and second.ended_at is None and first.token_hash != second.token_hash
    replay(client, first_cookie)
    assert not signed_in(client)


def test_only_a_hash_of_the_token_is_stored(client: Any, make_user: Any, session: Any) -> None:
    user = make_user("agent@example.test")
    sign_in(client, "agent@example.test")
    with client.session_transaction() as s:
        token = s["sid"]
    (record,) = records_of(session, user)
    assert len(token) >= 40 and token not in record.token_hash and len(record.token_hash) == 64


def test_the_security_page_lists_sessions_and_ends_one(app: Any, client: Any, make_user: Any, session: Any) -> None:
    user = make_user("agent@example.test")
    phone = app.test_client()
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Safari/604.1"
    sign_in(phone, "agent@example.test", address="192.0.2.44", user_agent=iphone)
    sign_in(client, "agent@example.test")
    fresh_request_globals()
    page = client.get("/settings/security").get_data(as_text=True)
    assert "Firefox · Windows" in page and "Safari · iOS" in page and "192.0.2.44" in page
    assert page.count('<span class="badge">this device</span>') == 1
    here, there = records_of(session, user)[1], records_of(session, user)[0]
    assert f'<tr data-session="{here.id}" class="this-device">' in page

    response = post(client, f"/settings/security/sessions/{there.id}/end", {}, token_from="/settings/security")
    assert response.status_code == 302 and response.headers["Location"] == "/settings/security"
    assert not signed_in(phone)
    assert signed_in(client)
    assert "192.0.2.44" not in client.get("/settings/security").get_data(as_text=True)

    response = post(client, f"/settings/security/sessions/{here.id}/end", {}, token_from="/settings/security")
    assert response.headers["Location"] == "/login"
    assert not signed_in(client)


def test_nobody_ends_someone_elses_session(client: Any, make_user: Any, session: Any, app: Any) -> None:
    victim = make_user("victim@example.test")
    sign_in(app.test_client(), "victim@example.test")
    make_user("agent@example.test")
    sign_in(client, "agent@example.test")
    (theirs,) = records_of(session, victim)
    response = post(client, f"/settings/security/sessions/{theirs.id}/end", {}, token_from="/settings/security")
    assert response.status_code == 404
    assert records_of(session, victim)[0].ended_at is None
    fresh_request_globals()
    assert client.post(f"/settings/security/sessions/{theirs.id}/end").status_code == 400  # no CSRF token


def test_an_admin_sees_session_counts_and_ends_someones_sessions(
    app: Any, client: Any, make_user: Any, session: Any
) -> None:
    from helpdesk.audit.models import AuditEvent

    agent = make_user("agent@example.test", name="Ada")
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, "agent@example.test")
    sign_in(phone, "agent@example.test")
    login(client, make_user("admin@example.test", role="admin"))
    page = client.get("/admin/users").get_data(as_text=True)
    row = page[page.index('data-email="agent@example.test"') :].split("</tr>")[0]
    assert '<td class="num sessions">2</td>' in row and "End sessions" in row

    response = post(client, f"/admin/users/{agent.id}/end-sessions", {}, token_from="/admin/users")
    assert response.status_code == 302
    assert "Ended 2 sessions of Ada" in client.get("/admin/users").get_data(as_text=True)
    assert not signed_in(laptop) and not signed_in(phone)
    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "signin.sessions_ended")).one()
    assert event.data["sessions"] == 2


def test_only_admins_end_other_peoples_sessions(app: Any, client: Any, world: Any, session: Any) -> None:
    sign_in(app.test_client(), world.eu.email)
    login(client, world.lead)
    response = post(client, f"/admin/users/{world.eu.id}/end-sessions", {})
    assert response.status_code == 404
    assert records_of(session, world.eu)[0].ended_at is None


def test_the_cli_ends_a_users_sessions(app: Any, client: Any, make_user: Any) -> None:
    make_user("agent@example.test")
    sign_in(client, "agent@example.test")
    result = app.test_cli_runner().invoke(args=["helpdesk", "users", "end-sessions", "Agent@example.test"])
    assert result.exit_code == 0, result.output
    assert "Ended 1 session(s) of agent@example.test" in result.output
    assert not signed_in(client)
    unknown = app.test_cli_runner().invoke(args=["helpdesk", "users", "end-sessions", "nobody@example.test"])
    assert unknown.exit_code != 0 and "no user with e-mail nobody@example.test" in unknown.output


def test_housekeeping_deletes_records_over_for_a_week(client: Any, make_user: Any, session: Any, app: Any) -> None:
    from helpdesk.signin.records import Lifetimes, prune

    user = make_user("agent@example.test")
    for _ in range(3):
        sign_in(app.test_client(), "agent@example.test")
    old_end, idle_long_ago, live = records_of(session, user)
    old_end.ended_at = utcnow() - timedelta(days=8)
    idle_long_ago.last_seen_at = utcnow() - timedelta(days=9)
    session.commit()
    assert prune(session, Lifetimes.of(app.config["HELPDESK_SETTINGS"])) == 2
    session.commit()
    assert [r.id for r in records_of(session, user)] == [live.id]


def test_sessions_are_permanent_cookies_as_long_as_the_idle_lifetime(app: Any, client: Any, make_user: Any) -> None:
    assert app.permanent_session_lifetime == timedelta(minutes=120)
    make_user("agent@example.test")
    response = sign_in(client, "agent@example.test")
    cookie = response.headers["Set-Cookie"]
    assert "Expires=" in cookie and "HttpOnly" in cookie


def test_session_lifetimes_come_from_the_environment(tmp_path: Any) -> None:
    from helpdesk.config import ConfigError, load_settings

    env = {"HELPDESK_SECRET_KEY": "x" * 20}
    settings = load_settings(
        {**env, "HELPDESK_SESSION_IDLE_MINUTES": "30", "HELPDESK_SESSION_MAX_HOURS": "8"}, tmp_path
    )
    assert (settings.session_idle_minutes, settings.session_max_hours) == (30, 8)
    with pytest.raises(ConfigError, match="HELPDESK_SESSION_IDLE_MINUTES"):
        load_settings({**env, "HELPDESK_SESSION_IDLE_MINUTES": "0"}, tmp_path)
    with pytest.raises(ConfigError, match="longer than HELPDESK_SESSION_MAX_HOURS=1 hours"):
        load_settings({**env, "HELPDESK_SESSION_IDLE_MINUTES": "90", "HELPDESK_SESSION_MAX_HOURS": "1"}, tmp_path)
    with pytest.raises(ConfigError, match="HELPDESK_SESSION_HOURS was replaced by HELPDESK_SESSION_IDLE_MINUTES"):
        load_settings({**env, "HELPDESK_SESSION_HOURS": "8"}, tmp_path)


@pytest.mark.parametrize(
    ("user_agent", "summary"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36 Edg/126.0",
            "Edge · Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36",
            "Chrome · Android",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15",
            "Safari · macOS",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox · Linux"),
        ("curl/8.5.0", "curl/8.5.0"),
        ("", ""),
    ],
)
def test_the_device_summary_names_browser_and_system(user_agent: str, summary: str) -> None:
    from helpdesk.signin.devices import describe_device

    assert describe_device(user_agent) == summary


def test_a_live_update_socket_closes_when_its_session_ends(
    app: Any, session: Any, world: Any, make_ticket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from helpdesk.extensions import socketio
    from helpdesk.tickets.services import add_reply

    monkeypatch.setattr(socketio.server, "async_handlers", False)
    ticket = make_ticket("shop-de")
    http, other = app.test_client(), app.test_client()
    login(http, world.eu)
    login(other, world.eu)
    fresh_request_globals()
    ended = socketio.test_client(app, flask_test_client=http)
    fresh_request_globals()
    going_on = socketio.test_client(app, flask_test_client=other)
    assert ended.is_connected() and going_on.is_connected()

    post(http, "/logout", {})
    add_reply(session, ticket, world.lead, "hello", internal=True)
    session.commit()
    assert not ended.is_connected()  # closed before the event went out
    assert [r["name"] for r in going_on.get_received()] == ["message.created"]
