"""Loopback fake servers: each platform's API, spoken for real on 127.0.0.1.

Tests, benchmarks and the demo talk to these instead of the marketplaces.
A fake is stateful (orders, conversations, replies it received), speaks the
platform's documented envelopes and pagination, checks credentials and
signatures the way the real service does, and injects faults on demand, so
a connector is exercised over real HTTP with nothing mocked inside it.

:class:`FakeServer` is the shared base: a threaded HTTP/1.1 server with
routes, a request log, a clock that tests can move (token expiry), and
generic faults (a status with headers and body, a slow answer) queued per
path.  :class:`TokenIssuer` is the OAuth side most platforms share.  Each
platform's fake (``channels/<kind>/fake.py``) subclasses the server and
implements the hooks the shared contract suite drives (see
:class:`FakeServer`'s "contract hooks").
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Handler = Callable[["FakeRequest"], "FakeResponse"]


@dataclass
class FakeRequest:
    """One request as the fake received it (also what the request log keeps)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # named groups of the route pattern
    at: float = 0.0

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


@dataclass
class FakeResponse:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    @classmethod
    def json(cls, obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> FakeResponse:
        body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
        return cls(status, body, dict(headers or {}))

    @classmethod
    def xml(cls, text: str, status: int = 200) -> FakeResponse:
        return cls(status, text.encode(), {}, "text/xml; charset=utf-8")

    @classmethod
    def empty(cls, status: int = 204) -> FakeResponse:
        return cls(status, b"", {}, "text/plain")


@dataclass
class Fault:
    """A canned failure for the next ``times`` requests whose path starts with ``path``."""

    path: str | None
    times: int = 1
    response: FakeResponse | None = None
    delay_s: float = 0.0


class FakeServer:
    """A threaded loopback HTTP server; subclasses add routes and state.

    Contract hooks (what the shared connector tests drive), each a platform's
    own way of failing: :meth:`rate_limit_next`, :meth:`server_error_next`,
    :meth:`slow_next`, :meth:`quota_error_next` (quota reported inside an
    HTTP 200, where the platform does that), :meth:`expire_tokens`,
    :meth:`repeat_across_page_boundary`, :meth:`add_malformed_record`.
    """

    platform = "fake"
    issuer: TokenIssuer | None = None  # a fake that hands out OAuth tokens sets one

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self.host = host
        self._requested_port = port
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.requests: list[FakeRequest] = []
        self.faults: list[Fault] = []
        self.lock = threading.RLock()
        self.clock_offset = timedelta()
        self.record_requests = True
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._traffic: threading.Thread | None = None
        self._traffic_stop = threading.Event()

    # --- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> FakeServer:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # a response goes out in one write; without this, Nagle and delayed ACKs cost 40 ms per answer
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the request log is ``fake.requests``."""

            def _serve(self) -> None:
                fake._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        self._server = ThreadingHTTPServer((self.host, self._requested_port), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"fake-{self.platform}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stop_traffic()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start the fake first"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- routing -------------------------------------------------------------------------------------

    def add_route(self, method: str, pattern: str, handler: Handler) -> None:
        """``pattern`` is a regex over the path; named groups become ``request.params``."""
        self.routes.append((method.upper(), re.compile(f"^{pattern}$"), handler))

    def _dispatch(self, raw: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(raw.path)
        length = int(raw.headers.get("Content-Length") or 0)
        body = raw.rfile.read(length) if length else b""
        request = FakeRequest(
            method=raw.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in raw.headers.items()},
            body=body,
            at=time.time(),
        )
        if self.record_requests:
            with self.lock:
                self.requests.append(request)
        response = self._fault_for(request.path)
        if response is None:
            response = self._route(request)
        reason = HTTPStatus(response.status).phrase if response.status in HTTPStatus._value2member_map_ else "Status"
        head = [
            f"HTTP/1.1 {response.status} {reason}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(response.body)}",
            *(f"{name}: {value}" for name, value in response.headers.items()),
        ]
        try:
            raw.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            raw.close_connection = True

    def _route(self, request: FakeRequest) -> FakeResponse:
        allowed = False
        for method, pattern, handler in self.routes:
            match = pattern.match(request.path)
            if match is None:
                continue
            allowed = True
            if method != request.method:
                continue
            request.params = {k: v for k, v in match.groupdict().items() if v is not None}
            try:
                with self.lock:
                    return handler(request)
            except Exception as exc:  # a fake's own bug must show in the test, not hang it
                return FakeResponse.json({"fake_error": f"{type(exc).__name__}: {exc}"}, status=599)
        return self.not_found(request, allowed)

    def not_found(self, request: FakeRequest, method_exists: bool) -> FakeResponse:
        status = 405 if method_exists else 404
        return FakeResponse.json({"error": f"no route for {request.method} {request.path}"}, status=status)

    # --- faults --------------------------------------------------------------------------------------

    def _fault_for(self, path: str) -> FakeResponse | None:
        with self.lock:
            fault = next((f for f in self.faults if f.path is None or path.startswith(f.path)), None)
            if fault is None:
                return None
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
        if fault.delay_s:
            time.sleep(fault.delay_s)
        return fault.response

    def fail_next(
        self,
        status: int,
        *,
        path: str | None = None,
        times: int = 1,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` (and a JSON ``body``)."""
        response = FakeResponse.json(body if body is not None else {"error": "injected"}, status, headers)
        with self.lock:
            self.faults.append(Fault(path, times, response))

    def slow_next(self, seconds: float, *, path: str | None = None, times: int = 1) -> None:
        """Hold the next matching requests for ``seconds`` before answering them normally."""
        with self.lock:
            self.faults.append(Fault(path, times, None, seconds))

    # --- contract hooks (platform fakes override what differs) ----------------------------------------

    def rate_limit_next(self, retry_after: float = 2.0, *, path: str | None = None) -> None:
        self.fail_next(429, path=path, headers={"Retry-After": str(int(retry_after))}, body={"error": "quota"})

    def server_error_next(self, *, path: str | None = None) -> None:
        self.fail_next(500, path=path, body={"error": "internal"})

    def quota_error_next(self) -> None:
        """The platform's quota error inside an HTTP 200 (only some platforms do this)."""
        raise NotImplementedError(f"{self.platform} reports quota with an HTTP status")

    def expire_tokens(self) -> None:
        """Every access token handed out so far is expired now (a refresh must follow)."""
        if self.issuer is None:
            raise NotImplementedError(f"{self.platform} hands out no tokens")
        with self.lock:
            self.issuer.expire_all()

    def revoke_credentials(self) -> None:
        """The seller withdrew the grant: every access and refresh token is refused from now on."""
        if self.issuer is None:
            raise NotImplementedError(f"{self.platform} hands out no tokens")
        with self.lock:
            self.issuer.revoke_all()

    @property
    def token_refreshes(self) -> int:
        return self.issuer.refreshes if self.issuer is not None else 0

    def repeat_across_page_boundary(self, enabled: bool = True) -> None:
        raise NotImplementedError

    def add_malformed_record(self) -> None:
        raise NotImplementedError

    # --- clock ---------------------------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock (access tokens expire, grants lapse)."""
        with self.lock:
            self.clock_offset += timedelta(seconds=seconds)

    # --- request log ---------------------------------------------------------------------------------

    def requests_to(self, path_prefix: str, method: str | None = None) -> list[FakeRequest]:
        with self.lock:
            return [
                r
                for r in self.requests
                if r.path.startswith(path_prefix) and (method is None or r.method == method.upper())
            ]

    def clear_log(self) -> None:
        with self.lock:
            self.requests.clear()

    # --- generated traffic (the demo) ----------------------------------------------------------------

    def tick(self, rng: Any) -> None:
        """Add one burst of plausible new traffic (a buyer message, an order); the demo calls it."""

    def start_traffic(self, every_s: float = 20.0, seed: int = 7) -> None:
        """Call :meth:`tick` every ``every_s`` seconds (jittered) until stopped."""
        import random

        rng = random.Random(seed)
        self._traffic_stop.clear()

        def run() -> None:
            while not self._traffic_stop.wait(every_s * rng.uniform(0.5, 1.5)):
                with self.lock:
                    self.tick(rng)

        self._traffic = threading.Thread(target=run, name=f"fake-{self.platform}-traffic", daemon=True)
        self._traffic.start()

    def stop_traffic(self) -> None:
        self._traffic_stop.set()
        if self._traffic is not None:
            self._traffic.join(timeout=5)
            self._traffic = None


@dataclass
class _Token:
    value: str
    expires_at: datetime
    scopes: frozenset[str]


class TokenIssuer:
    """OAuth 2 tokens as a platform hands them out: access tokens that expire, refresh tokens that may rotate.

    ``rotate`` makes every refresh kill the refresh token it used (Shopee,
    Mercado Libre, Allegro…); without it the refresh token stays valid (eBay,
    Amazon).  ``clock`` is the fake's, so a test can move time.
    """

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        access_lifetime_s: int = 3600,
        rotate: bool = False,
        scopes: frozenset[str] = frozenset(),
    ) -> None:
        self.clock = clock
        self.access_lifetime_s = access_lifetime_s
        self.rotate = rotate
        self.scopes = scopes
        self.access: dict[str, _Token] = {}
        self.refresh: dict[str, frozenset[str]] = {}
        self.refreshes = 0

    def grant(self, scopes: frozenset[str] | None = None) -> str:
        """A new refresh token (what a seller's consent produces)."""
        token = "r-" + secrets.token_urlsafe(16)
        self.refresh[token] = self.scopes if scopes is None else scopes
        return token

    def issue_access(self, scopes: frozenset[str]) -> _Token:
        token = _Token(
            "a-" + secrets.token_urlsafe(16), self.clock() + timedelta(seconds=self.access_lifetime_s), scopes
        )
        self.access[token.value] = token
        return token

    def use_refresh(self, refresh_token: str) -> tuple[_Token, str] | None:
        """Exchange a refresh token; None when it is unknown or already used."""
        scopes = self.refresh.get(refresh_token)
        if scopes is None:
            return None
        self.refreshes += 1
        if self.rotate:
            del self.refresh[refresh_token]
            refresh_token = self.grant(scopes)
        return self.issue_access(scopes), refresh_token

    def check(self, access_token: str | None) -> str:
        """ "ok", "missing", "unknown" or "expired"."""
        if not access_token:
            return "missing"
        token = self.access.get(access_token)
        if token is None:
            return "unknown"
        return "ok" if token.expires_at > self.clock() else "expired"

    def scopes_of(self, access_token: str | None) -> frozenset[str]:
        token = self.access.get(access_token or "")
        return token.scopes if token else frozenset()

    def expire_all(self) -> None:
        for token in self.access.values():
            token.expires_at = self.clock() - timedelta(seconds=1)

    def revoke_all(self) -> None:
        self.access.clear()
        self.refresh.clear()


def bearer(request: FakeRequest, header: str = "authorization") -> str | None:
    """The token of an ``Authorization: Bearer …`` header (or of another header that carries it bare)."""
    value = request.headers.get(header)
    if not value:
        return None
    return value[7:] if value.lower().startswith("bearer ") else value
