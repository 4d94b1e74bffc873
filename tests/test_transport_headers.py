"""Headers a deployment relies on: no caching of signed-in pages, HTTPS-only cookies and HSTS, same-origin sockets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _env
from tests.web import PASSWORD, fresh_globals_per_request, login  # noqa: F401 - fixture


def test_signed_in_pages_are_never_cached_but_public_ones_may_be(client: Any, make_user: Any) -> None:
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    login(client, make_user("agent@example.test"))
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert client.get("/settings").headers["Cache-Control"] == "no-store"
    static = client.get("/static/app.css")
    static.close()
    assert "no-store" not in static.headers.get("Cache-Control", "")


def _app(database_url: str, tmp_path: Path, **env: str) -> Any:
    from helpdesk import create_app

    return create_app({**_env(database_url), **env}, instance_path=tmp_path / "other")


@pytest.mark.parametrize(
    ("env", "secure"),
    [
        ({}, False),
        ({"HELPDESK_PUBLIC_URL": "https://help.example.com"}, True),
        ({"HELPDESK_PUBLIC_URL": "https://help.example.com", "HELPDESK_HTTPS": "false"}, False),
        ({"HELPDESK_HTTPS": "true"}, True),
    ],
)
def test_https_deployments_get_secure_cookies_and_hsts(
    env: dict[str, str], secure: bool, database_url: str, tmp_path: Path, make_user: Any
) -> None:
    from helpdesk.extensions import db

    make_user("agent@example.test")
    app = _app(database_url, tmp_path, **env)
    client = app.test_client()
    page = client.get("/login", base_url="https://help.example.com")
    assert ("Strict-Transport-Security" in page.headers) is secure
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    signed_in = client.post(
        "/login",
        data={"email": "agent@example.test", "password": PASSWORD, "csrf_token": token},
        base_url="https://help.example.com",
    )
    name = "__Host-session=" if secure else "session="  # the __Host- prefix needs Secure, Path=/, no Domain
    (cookie,) = [c for c in signed_in.headers.getlist("Set-Cookie") if c.startswith(name)]
    assert ("; Secure" in cookie) is secure and "; Path=/" in cookie and "Domain=" not in cookie
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("http://localhost", True), ("https://evil.example", False), ("http://localhost.evil.example", False)],
)
def test_the_live_socket_refuses_pages_of_other_sites(client: Any, origin: str, allowed: bool) -> None:
    handshake = client.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": origin})
    assert (handshake.status_code == 200) is allowed, handshake.get_data(as_text=True)[:200]


def test_behind_a_proxy_the_public_origin_is_the_one_allowed(database_url: str, tmp_path: Path) -> None:
    from helpdesk.extensions import db

    app = _app(database_url, tmp_path, HELPDESK_PUBLIC_URL="https://help.example.com")
    client = app.test_client()
    ok = client.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": "https://help.example.com"})
    evil = client.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": "https://evil.example"})
    assert (ok.status_code, evil.status_code) == (200, 400)
    with app.app_context():
        db.engine.dispose()
