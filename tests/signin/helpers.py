"""Signing in from a chosen source address, as a browser behind that address would."""

from __future__ import annotations

from typing import Any

from tests.web import PASSWORD, csrf_token, fresh_request_globals

FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"


def sign_in(
    client: Any,
    email: str,
    password: str = PASSWORD,
    address: str = "198.51.100.7",
    user_agent: str = FIREFOX_ON_WINDOWS,
    **query: str,
) -> Any:
    fresh_request_globals()
    token = csrf_token(client)
    path = "/login" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    return client.post(
        path,
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address, "HTTP_USER_AGENT": user_agent},
    )


def signed_in(client: Any) -> bool:
    fresh_request_globals()
    return client.get("/").status_code == 200


def saved_cookie(client: Any) -> str:
    """The session cookie as it is now, as someone copying it from the browser would keep it."""
    return client.get_cookie("session").value


def replay(client: Any, cookie: str) -> None:
    """Put a saved session cookie back into a browser."""
    client.set_cookie("session", cookie)
