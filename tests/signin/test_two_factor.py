"""Two-factor sign-in: set-up with a real TOTP code, the code step, recovery codes, role requirement, admin reset."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import sqlalchemy as sa
import time_machine

from helpdesk.signin import totp
from helpdesk.signin.models import RecoveryCode
from tests.signin.helpers import sign_in, signed_in
from tests.web import csrf_token, fresh_request_globals, login, post

T = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


def send(client: Any, path: str, data: dict[str, str], token_from: str) -> Any:
    fresh_request_globals()
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from)})


def enable_two_factor(client: Any) -> tuple[str, list[str]]:
    """Set up through the pages as a user would: read the key off the page, answer with the app's code."""
    fresh_request_globals()
    page = client.get("/settings/two-factor").get_data(as_text=True)
    assert "<svg" in page  # the QR code, inline
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page).group(1)  # type: ignore[union-attr]
    wrong = send(client, "/settings/two-factor/enable", {"code": "000000"}, "/settings/two-factor")
    assert wrong.status_code == 422
    done = send(client, "/settings/two-factor/enable", {"code": pyotp.TOTP(secret).now()}, "/settings/two-factor")
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def test_enable_then_sign_in_with_a_code(app: Any, client: Any, make_user: Any, session: Any) -> None:
    user = make_user("agent@example.test")
    with time_machine.travel(T, tick=False) as clock:
        sign_in(client, "agent@example.test")
        secret, _codes = enable_two_factor(client)
        session.refresh(user)
        assert user.has_two_factor and secret not in (user.totp_secret or "")  # sealed, not in clear

        clock.shift(timedelta(minutes=1))
        browser = app.test_client()
        first = sign_in(browser, "agent@example.test", next="/settings")
        assert first.status_code == 302 and first.headers["Location"] == "/login/code"
        assert not signed_in(browser)  # the password alone is not enough
        wrong = send(browser, "/login/code", {"code": "123456"}, "/login/code")
        assert "That code is not right" in wrong.get_data(as_text=True)
        good = send(browser, "/login/code", {"code": pyotp.TOTP(secret).now()}, "/login/code")
        assert good.status_code == 302 and good.headers["Location"] == "/settings"
        assert signed_in(browser)

        # The same code a second time (someone watching) does not work, even within its 30 seconds.
        again = app.test_client()
        sign_in(again, "agent@example.test")
        replay = send(again, "/login/code", {"code": pyotp.TOTP(secret).now()}, "/login/code")
        assert "That code is not right" in replay.get_data(as_text=True) and not signed_in(again)


def test_recovery_codes_work_once(app: Any, client: Any, make_user: Any, session: Any) -> None:
    make_user("agent@example.test")
    sign_in(client, "agent@example.test")
    _secret, codes = enable_two_factor(client)
    browser = app.test_client()
    sign_in(browser, "agent@example.test")
    assert send(browser, "/login/code", {"code": codes[3].upper()}, "/login/code").status_code == 302
    assert signed_in(browser)
    other = app.test_client()
    sign_in(other, "agent@example.test")
    assert send(other, "/login/code", {"code": codes[3]}, "/login/code").status_code == 200
    assert not signed_in(other)
    assert session.scalar(sa.select(sa.func.count(RecoveryCode.id)).where(RecoveryCode.used_at.is_(None))) == 9


def test_wrong_codes_are_throttled(app: Any, client: Any, make_user: Any) -> None:
    make_user("agent@example.test")
    sign_in(client, "agent@example.test")
    secret, _codes = enable_two_factor(client)
    browser = app.test_client()
    sign_in(browser, "agent@example.test")
    for _ in range(5):
        send(browser, "/login/code", {"code": "000000"}, "/login/code")
    refused = send(browser, "/login/code", {"code": pyotp.TOTP(secret).now()}, "/login/code")
    assert refused.status_code == 429 and "Try again in" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) >= 1


def test_the_code_step_expires(app: Any, client: Any, make_user: Any) -> None:
    make_user("agent@example.test")
    sign_in(client, "agent@example.test")
    secret, _codes = enable_two_factor(client)
    browser = app.test_client()
    sign_in(browser, "agent@example.test")
    with time_machine.travel(timedelta(minutes=6)):
        late = send(browser, "/login/code", {"code": pyotp.TOTP(secret).now()}, "/login")
        assert late.status_code == 302 and late.headers["Location"] == "/login"
        assert not signed_in(browser)


def test_a_required_role_is_sent_to_set_up_and_can_do_nothing_else(
    app: Any, client: Any, make_user: Any, session: Any
) -> None:
    admin = make_user("admin@example.test", role="admin")
    make_user("lead@example.test", role="lead")
    login(client, admin)
    post(client, "/admin/sign-in/two-factor-roles", {"role": "lead"}, token_from="/admin/sign-in")
    assert totp.required_roles(session) == {"lead"}

    page = client.get("/admin/sign-in").get_data(as_text=True)
    assert "Not set up yet" in page and "lead@example.test" in page

    lead = app.test_client()
    assert sign_in(lead, "lead@example.test").status_code == 302
    fresh_request_globals()
    blocked = lead.get("/")
    assert blocked.status_code == 302 and blocked.headers["Location"] == "/settings/two-factor"
    fresh_request_globals()
    assert lead.get("/reports/").status_code == 302
    enable_two_factor(lead)
    fresh_request_globals()
    assert lead.get("/").status_code == 200
    fresh_request_globals()
    assert "Everyone who must use two-factor sign-in has set it up." in client.get("/admin/sign-in").get_data(
        as_text=True
    )
    off = send(lead, "/settings/two-factor/disable", {"password": "correct horse battery"}, "/settings/two-factor")
    assert off.status_code == 422 and "cannot be turned off" in off.get_data(as_text=True)


def test_a_user_turns_it_off_with_their_password(client: Any, make_user: Any, session: Any) -> None:
    user = make_user("agent@example.test")
    sign_in(client, "agent@example.test")
    enable_two_factor(client)
    assert send(client, "/settings/two-factor/disable", {"password": "nope"}, "/settings/two-factor").status_code == 422
    done = send(client, "/settings/two-factor/disable", {"password": "correct horse battery"}, "/settings/two-factor")
    assert done.status_code == 302
    session.refresh(user)
    assert not user.has_two_factor
    assert session.scalar(sa.select(sa.func.count(RecoveryCode.id))) == 0


def test_admin_resets_a_users_two_factor(app: Any, client: Any, make_user: Any, session: Any) -> None:
    user = make_user("agent@example.test")
    agent = app.test_client()
    sign_in(agent, "agent@example.test")
    enable_two_factor(agent)
    login(client, make_user("admin@example.test", role="admin"))
    post(client, "/admin/sign-in/two-factor-reset", {"email": "agent@example.test"}, token_from="/admin/sign-in")
    session.refresh(user)
    assert not user.has_two_factor
    fresh = app.test_client()
    assert sign_in(fresh, "agent@example.test").headers["Location"] == "/"  # the password alone again


def test_leads_and_agents_cannot_use_the_admin_controls(client: Any, world: Any) -> None:
    login(client, world.lead)
    assert post(client, "/admin/sign-in/two-factor-roles", {"role": "agent"}).status_code == 404
    assert post(client, "/admin/sign-in/two-factor-reset", {"email": world.eu.email}).status_code == 404


def test_cli_reset_and_require(app: Any, make_user: Any, session: Any) -> None:
    user = make_user("agent@example.test")
    secret = totp.new_secret()
    assert totp.enable(session, user, secret, pyotp.TOTP(secret).now()) is not None
    session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["helpdesk", "users", "reset-2fa", "agent@example.test"])
    assert result.exit_code == 0 and "off for agent@example.test" in result.output
    session.refresh(user)
    assert not user.has_two_factor
    assert (
        "required of: admin, lead" in runner.invoke(args=["helpdesk", "users", "require-2fa", "admin", "lead"]).output
    )
    assert totp.required_roles(session) == {"admin", "lead"}
    assert "required of: admin, lead." in runner.invoke(args=["helpdesk", "users", "require-2fa"]).output
    runner.invoke(args=["helpdesk", "users", "require-2fa", "--none"])
    assert totp.required_roles(session) == set()


def test_clock_drift_of_one_step_is_forgiven_two_are_not(make_user: Any, session: Any) -> None:
    user = make_user("agent@example.test")
    secret = totp.new_secret()
    totp.enable(session, user, secret, pyotp.TOTP(secret).at(T), now=T)
    app_code = pyotp.TOTP(secret)
    assert totp.check_code(session, user, app_code.at(T + timedelta(seconds=60)), now=T + timedelta(seconds=90))
    assert not totp.check_code(session, user, app_code.at(T + timedelta(seconds=120)), now=T + timedelta(seconds=200))


def test_live_updates_also_wait_for_required_set_up(app: Any, make_user: Any, session: Any) -> None:
    from helpdesk.extensions import socketio

    lead = make_user("lead@example.test", role="lead")
    totp.set_required(session, "lead", True)
    session.commit()
    http = app.test_client()
    sign_in(http, "lead@example.test")
    fresh_request_globals()
    assert not socketio.test_client(app, flask_test_client=http).is_connected()
    enable_two_factor(http)
    fresh_request_globals()
    assert socketio.test_client(app, flask_test_client=http).is_connected()
    assert lead.has_two_factor
