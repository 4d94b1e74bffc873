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

A poll that reads ten thousand orders makes thousands of requests, and the
client's own time per request is most of what separates a poll from the
pipeline's own rate.  So requests go out on kept connections of the
standard library's ``http.client`` (:mod:`channels.http_pool`: about half
urllib3's interpreter time per request, which itself was a third of
httpx's), and JSON bodies are read with orjson.
"""

from __future__ import annotations

import base64
import email.utils
import http.client
import json as jsonlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson

from channels import netguard
from channels.base import (
    AuthError,
    ChannelError,
    PermissionMissing,
    RateLimited,
    Stream,
    TransientChannelError,
)
from channels.http_pool import HostPool, WireTimeout

USER_AGENT = "helpdesk/0.1 (self-hosted marketplace helpdesk)"
DEFAULT_TIMEOUT_S = 30.0
POOL_SIZE = 8  # connectors read a few threads at once (eBay's conversations)


@dataclass(frozen=True, slots=True)
class Response:
    """A finished response: status, headers (case-insensitive), the whole body."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    url: str = ""

    @property
    def text(self) -> str:
        charset = "utf-8"
        for part in (self.headers.get("content-type") or "").split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            return self.content.decode(charset, "replace")
        except LookupError:
            return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return orjson.loads(self.content or b"null")

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300


def _body(json: Any, data: Mapping[str, Any] | None, content: bytes | None, headers: dict[str, str]) -> bytes | None:
    if json is not None:
        headers.setdefault("Content-Type", "application/json")
        return jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":")).encode()
    if data is not None:
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return urlencode(data, doseq=True).encode()
    return content


def _query(params: Mapping[str, Any] | None) -> str:
    if not params:
        return ""
    pairs = [(k, v) for k, v in params.items() if v is not None]
    return urlencode(pairs, doseq=True)


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
        self.headers = {"User-Agent": USER_AGENT, **(headers or {})}
        self._connect_timeout, self._read_timeout = min(10.0, timeout_s), timeout_s
        self._hosts: dict[str, HostPool] = {}
        self._hosts_lock = threading.Lock()

    def url_for(self, url: str, params: Mapping[str, Any] | None = None) -> str:
        full = url if urlsplit(url).scheme else f"{self.base_url}/{url.lstrip('/')}"
        query = _query(params)
        if query:
            full += ("&" if "?" in full else "?") + query
        return full

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
    ) -> Response:
        """Send one request; only a failure of the wire raises here (statuses are the caller's)."""
        sent = {**self.headers, **(headers or {})}
        if auth is not None:
            sent["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        body = _body(json, data, content, sent)
        full = self.url_for(url, params)
        parts = urlsplit(full)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            raw = self._host(f"{parts.scheme}://{parts.netloc}").request(method, target, body, sent)
        except netguard.AddressRefused as exc:  # before ValueError below: refused is not "unreachable, retry"
            raise ChannelError(f"{self.platform} was not contacted ({what}): {exc}") from exc
        except WireTimeout as exc:
            raise TransientChannelError(f"{self.platform} did not answer the {what} in time") from exc
        except (http.client.HTTPException, OSError, ValueError) as exc:
            raise TransientChannelError(f"{self.platform} is unreachable ({what}): {exc}") from exc
        if _cut_in_its_headers(method, raw.status, raw.headers, raw.data):
            raise TransientChannelError(f"{self.platform}'s answer to the {what} was cut off before its end")
        return Response(raw.status, raw.headers, raw.data, full)

    def _host(self, origin: str) -> HostPool:
        pool = self._hosts.get(origin)
        if pool is None:
            with self._hosts_lock:  # built once: setdefault would build (TLS context and all) and drop a spare
                pool = self._hosts.get(origin)
                if pool is None:
                    pool = self._hosts[origin] = HostPool(
                        origin, connect_timeout=self._connect_timeout, read_timeout=self._read_timeout, keep=POOL_SIZE
                    )
        return pool

    def close(self) -> None:
        with self._hosts_lock:
            hosts, self._hosts = list(self._hosts.values()), {}
        for pool in hosts:
            pool.close()


def _cut_in_its_headers(method: str, status: int, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether a connection closed before the response's headers ended, so it only looks like an empty answer.

    A body cut short is caught by its length (or its chunks), but a cut
    among the headers, before ``Content-Length``, leaves a status, some
    headers and an empty body delimited by the close, which reads as a
    platform saying "nothing here" and would let a cursor move on.  A
    real empty answer says so (``Content-Length: 0``, chunked, or a status
    that has no body).
    """
    if body or method.upper() == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return False
    return "content-length" not in headers and "chunked" not in (headers.get("transfer-encoding") or "").lower()


def post(url: str, content: bytes, headers: Mapping[str, str], timeout_s: float = 10.0) -> Response:
    """One POST outside any account (a fake delivering a notification to the helpdesk)."""
    client = HttpClient(url, timeout_s=timeout_s)
    try:
        return client.request("POST", url, content=content, headers=headers, what="notification")
    finally:
        client.close()


def retry_after(response: Response, default: float | None = None) -> float | None:
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
    response: Response, what: str, *, platform: str = "the platform", stream: Stream | None = None
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


def snippet(response: Response, limit: int = 300) -> str:
    """The start of a response body, for an error message (never a whole page)."""
    text = response.text.strip().replace("\n", " ")
    return text[:limit] + ("…" if len(text) > limit else "") if text else "(empty body)"
