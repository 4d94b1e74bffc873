"""Signing in from a chosen source address, as a browser behind that address would."""

from __future__ import annotations

from typing import Any

from tests.web import PASSWORD, csrf_token, fresh_request_globals


def sign_in(client: Any, email: str, password: str = PASSWORD, address: str = "198.51.100.7", **query: str) -> Any:
    fresh_request_globals()
    token = csrf_token(client)
    path = "/login" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    return client.post(
        path,
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def signed_in(client: Any) -> bool:
    fresh_request_globals()
    return client.get("/").status_code == 200
