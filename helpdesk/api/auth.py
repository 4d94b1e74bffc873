"""``@api_auth``: bearer-token authentication and role checks for API views.

A request with a valid ``Authorization: Bearer …`` header is authenticated
as the token's user and is exempt from CSRF (a browser never sends that
header on its own); any other request gets 401 JSON.  A user whose role is
not allowed gets 404, so the endpoint does not reveal itself.  A token whose
scope is too small for the route gets 403 ``insufficient_scope``: the role
check comes first, so a scope never reveals more than the user's role would.

A route's scope defaults from its method (GET/HEAD read, anything else
write) so a new route cannot forget it; admin-only routes pass ``scope``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import g, request

from helpdesk.api.errors import ApiError
from helpdesk.api.models import ApiToken, Scope
from helpdesk.api.ratelimit import count_request
from helpdesk.api.tokens import authenticate
from helpdesk.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


def api_auth(roles: Iterable[str] | None = None, scope: str | None = None) -> Callable[[F], F]:
    allowed = set(roles) if roles is not None else None

    def decorator(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            scheme, _, raw = header.partition(" ")
            if scheme.lower() != "bearer" or not raw.strip():
                count_request()
                raise ApiError(401, "unauthorized", "send 'Authorization: Bearer <token>'")
            found = authenticate(db.session, raw.strip(), request.remote_addr)
            if not isinstance(found, ApiToken):
                count_request()  # per address: guessing tokens is rate-limited too
                raise ApiError(401, "unauthorized", found.message)
            g.api_token = found
            count_request()
            user = found.user
            if allowed is not None and user.role not in allowed:
                raise ApiError(404, "not_found", "no such resource")
            needed = scope or (Scope.READ if request.method in ("GET", "HEAD") else Scope.WRITE)
            if not Scope.covers(found.scope, needed):
                db.session.commit()  # the attempt still counts as a use of the token
                raise ApiError(
                    403, "insufficient_scope", f"this needs a token with the {needed} scope; this one has {found.scope}"
                )
            g.api_user = user
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator
