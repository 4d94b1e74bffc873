"""Per-token rate limits for the REST API (Flask-Limiter), never for the web UI.

The limit is counted per token, so one busy integration cannot starve the
others, and per client address for requests without a usable token, so
guessing tokens is slow too.  Counters live in Redis when the helpdesk has
one (every worker process then shares them) and in memory otherwise.  The
check runs inside ``@api_auth`` after the token is known, which is why the
limiter has no default limits and is never applied to a blueprint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded

from helpdesk.api.errors import ApiError


def rate_key() -> str:
    token = g.get("api_token")
    return f"token:{token.id}" if token is not None else f"addr:{request.remote_addr or 'unknown'}"


def _rate() -> str:
    return current_app.config["HELPDESK_SETTINGS"].api_rate_limit


_EXTENSION = "helpdesk_api_rate_limit"


@dataclass(frozen=True)
class _ApiRateLimit:
    """One app's limiter and its counting call.

    One limiter per app, not one per process: Flask-Limiter keeps the first
    app's key prefix and the last app's storage, so two apps in one process
    (tests, or an embedding server) counted in each other's buckets.
    """

    limiter: Limiter
    count: Callable[[], None]


def storage_uri(redis_url: str | None) -> str:
    """The limits library spells a Redis socket ``redis+unix://``; the helpdesk's setting says ``unix://``."""
    if not redis_url:
        return "memory://"
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://") :]
    return redis_url


def init_app(app: Flask) -> None:
    settings = app.config["HELPDESK_SETTINGS"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(settings.redis_url))
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # Redis down must not take the API down with it: the request then goes through uncounted (and is logged).
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    limiter = Limiter(key_func=rate_key, default_limits=[])
    limiter.init_app(app)
    app.extensions[_EXTENSION] = _ApiRateLimit(
        limiter, limiter.shared_limit(_rate, scope="api", key_func=rate_key)(_one_request)
    )


def _one_request() -> None:
    """One request against the caller's budget; shared by every API route (one ``scope``)."""


def count_request() -> None:
    """Count this API request; over the limit, a 429 in the API's error shape with ``Retry-After``."""
    try:
        current_app.extensions[_EXTENSION].count()
    except RateLimitExceeded as exc:
        retry_after = _retry_after()
        raise ApiError(
            429,
            "rate_limited",
            f"too many requests ({exc.limit.limit}); retry after {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        ) from None


def _retry_after() -> int:
    import math
    import time

    current = current_app.extensions[_EXTENSION].limiter.current_limit
    if current is None:
        return 1
    return max(1, math.ceil(current.reset_at - time.time()))
