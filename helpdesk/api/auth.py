"""``@api_auth``: bearer-token authentication and role checks for API views.

A request with a valid ``Authorization: Bearer …`` header is authenticated
as the token's user and is exempt from CSRF (a browser never sends that
header on its own); any other request gets 401 JSON.  A user whose role is
not allowed gets 404, so the endpoint does not reveal itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import g, request

from helpdesk.api.errors import ApiError
from helpdesk.api.tokens import check_token
from helpdesk.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


def api_auth(roles: Iterable[str] | None = None) -> Callable[[F], F]:
    allowed = set(roles) if roles is not None else None

    def decorator(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            scheme, _, raw = header.partition(" ")
            if scheme.lower() != "bearer" or not raw.strip():
                raise ApiError(401, "unauthorized", "send 'Authorization: Bearer <token>'")
            user = check_token(db.session, raw.strip())
            if user is None:
                raise ApiError(401, "unauthorized", "the token is unknown or revoked")
            if allowed is not None and user.role not in allowed:
                raise ApiError(404, "not_found", "no such resource")
            g.api_user = user
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator
