"""Sign-in, sign-out, CSRF and the routes that need no login."""

from __future__ import annotations

import re
from typing import Any

import pytest

PASSWORD = "correct horse battery"


def csrf_token(client: Any, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form has no CSRF token"
    return match.group(1)


def login(client: Any, email: str, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)})


def test_pages_need_sign_in_but_health_does_not(client: Any) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    health = client.get("/health")
    assert health.status_code == 200
    assert health.get_json() == {"status": "ok", "database": "ok", "channels": {"silent": 0}, "outbox": {"behind_s": 0}}


def test_sign_in_and_out(client: Any, make_user: Any) -> None:
    make_user("agent@example.test")
    response = login(client, "Agent@Example.test")
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    out = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert out.status_code == 302
    assert client.get("/").status_code == 302


def test_post_without_csrf_token_is_refused(client: Any, make_user: Any) -> None:
    make_user("agent@example.test")
    response = client.post("/login", data={"email": "agent@example.test", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_wrong_password_says_nothing_about_which_part_was_wrong(client: Any, make_user: Any) -> None:
    make_user("agent@example.test")
    bad_password = login(client, "agent@example.test", "nope-nope-nope").get_data(as_text=True)
    no_user = login(client, "ghost@example.test", "nope-nope-nope").get_data(as_text=True)
    assert "Wrong e-mail address or password." in bad_password
    assert "Wrong e-mail address or password." in no_user


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x"])
def test_next_parameter_cannot_leave_the_site(client: Any, make_user: Any, target: str) -> None:
    make_user("agent@example.test")
    token = csrf_token(client)
    response = client.post(
        f"/login?next={target}", data={"email": "agent@example.test", "password": PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/"


def test_security_headers(client: Any) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_errors_show_no_stack_trace(app: Any, client: Any, make_user: Any) -> None:
    @app.get("/boom-for-test")
    def boom() -> str:
        raise RuntimeError("secret internals")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom-for-test")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret internals" not in body and "Traceback" not in body
