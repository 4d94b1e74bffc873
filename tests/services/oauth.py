"""A fake OAuth 2.0 provider on loopback: a token endpoint and an introspection endpoint.

The token endpoint speaks the refresh-token grant as Google and Microsoft do
(form POST, JSON answer with ``access_token`` and ``expires_in``, error
``invalid_grant`` for an unknown refresh token).  Dovecot's ``oauth2``
passdb asks the introspection endpoint whether an access token is active
and whose it is, so a real IMAP login checks the tokens this server issued.
"""

from __future__ import annotations

import itertools
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class OAuthProvider:
    client_id: str = "helpdesk-test-client"
    client_secret: str = "client-secret"
    lifetime_s: int = 3600
    rotate: bool = False
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh token -> user
    active: dict[str, str] = field(default_factory=dict)  # access token -> user
    token_requests: list[dict[str, str]] = field(default_factory=list)
    _counter: Any = field(default_factory=lambda: itertools.count(1))
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def grant(self, user: str) -> str:
        """A refresh token for ``user``, as the consent screen would give."""
        token = f"refresh-{user}-{next(self._counter)}"
        self.refresh_tokens[token] = user
        return token

    def revoke_access_tokens(self) -> None:
        self.active.clear()

    def start(self) -> None:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if self.path == "/token":
                    status, body = provider._token(form)
                elif self.path == "/introspect":
                    token = form.get("token", "")
                    user = provider.active.get(token)
                    status, body = 200, {"active": user is not None, "username": user or "", "email": user or ""}
                else:
                    status, body = 404, {"error": "not_found"}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.token_requests.append(form)
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type"}
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return 401, {"error": "invalid_client", "error_description": "unknown client or wrong secret"}
        user = self.refresh_tokens.get(form.get("refresh_token", ""))
        if user is None:
            return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
        access = f"access-{user}-{next(self._counter)}"
        self.active[access] = user
        body: dict[str, Any] = {"access_token": access, "expires_in": self.lifetime_s, "token_type": "Bearer"}
        if self.rotate:
            del self.refresh_tokens[form["refresh_token"]]
            body["refresh_token"] = self.grant(user)
        return 200, body
