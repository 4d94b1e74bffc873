"""HTTP for connectors: one pooled client per account, failures turned into channel errors.

Every marketplace API is JSON or XML over HTTPS; what differs is the
envelope and how errors are spelt.  This module does the shared part:
timeouts, connection reuse, a ``User-Agent`` that names the helpdesk, and a
generic reading of HTTP statuses (401 → :class:`AuthError`, 403 →
:class:`PermissionMissing`, 429 → :class:`RateLimited` with the
``Retry-After`` the platform gave, 5xx and network failures →
:class:`TransientChannelError`).  A connector reads its platform's envelope
first (quota errors inside HTTP 200, token errors in a 400 body) and falls
back on :func:`raise_for_status`.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from channels.base import (
    AuthError,
    ChannelError,
    PermissionMissing,
    RateLimited,
    Stream,
    TransientChannelError,
)

USER_AGENT = "helpdesk/0.1 (self-hosted marketplace helpdesk)"
DEFAULT_TIMEOUT_S = 30.0


class HttpClient:
    """A platform's API at ``base_url``; one instance per connector, closed with it."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        headers: Mapping[str, str] | None = None,
        platform: str = "the platform",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.platform = platform
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)),
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            follow_redirects=False,
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        what: str = "request",
    ) -> httpx.Response:
        """Send one request; only a failure of the wire raises here (statuses are the caller's)."""
        try:
            return self._client.request(
                method, url, params=params, json=json, data=data, content=content, headers=headers, auth=auth
            )
        except httpx.TimeoutException as exc:
            raise TransientChannelError(f"{self.platform} did not answer the {what} in time") from exc
        except httpx.TransportError as exc:
            raise TransientChannelError(f"{self.platform} is unreachable ({what}): {exc}") from exc

    def close(self) -> None:
        self._client.close()


def retry_after(response: httpx.Response, default: float | None = None) -> float | None:
    """Seconds the platform asked us to wait: ``Retry-After`` as seconds or an HTTP date."""
    raw = response.headers.get("retry-after")
    if not raw:
        return default
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def raise_for_status(
    response: httpx.Response, what: str, *, platform: str = "the platform", stream: Stream | None = None
) -> None:
    """Raise the channel error an HTTP status stands for; return quietly on 2xx."""
    status = response.status_code
    if 200 <= status < 300:
        return
    detail = f"{platform} answered {status} to the {what}: {snippet(response)}"
    if status == 401:
        raise AuthError(detail)
    if status == 403:
        raise PermissionMissing(detail, stream)
    if status == 429:
        raise RateLimited(detail, retry_after=retry_after(response))
    if status >= 500 or status == 408:
        raise TransientChannelError(detail, retry_after=retry_after(response))
    raise ChannelError(detail)


def snippet(response: httpx.Response, limit: int = 300) -> str:
    """The start of a response body, for an error message (never a whole page)."""
    text = response.text.strip().replace("\n", " ")
    return text[:limit] + ("…" if len(text) > limit else "") if text else "(empty body)"
