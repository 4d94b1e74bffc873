"""Shopify's Admin API on the wire: the token header, GraphQL envelopes, query-cost throttling, token refresh.

Every call is ``POST /admin/api/{version}/graphql.json`` with the header
``X-Shopify-Access-Token``.  What can go wrong, and how Shopify says it:

* a refused or expired token: HTTP 401 with
  ``{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}``.
  With an expiring token the client renews it once (through
  :class:`~channels.credentials.TokenManager`, which writes the rotated
  refresh token back) and repeats the call;
* the query-cost bucket is empty: HTTP **200** with an error whose
  ``extensions.code`` is ``THROTTLED`` and ``extensions.cost.throttleStatus``
  saying how many points are left and how fast they come back — turned into
  :class:`RateLimited` with the wait that refill needs;
* a scope the app was not granted: HTTP 200 with ``ACCESS_DENIED`` errors
  (``extensions.requiredAccess`` names the scope), with or without partial
  data; the caller decides which stream that blocks;
* a frozen or locked store (HTTP 402, 423), an unknown store or retired API
  version (404), and the usual 429/5xx.

Tokens come one of three ways (:func:`auth_mode`):

* ``token``: a non-expiring offline token the seller pasted, sent as it is;
* ``refresh``: an expiring offline token (an hour), renewed at
  ``POST /admin/oauth/access_token`` with a JSON body of ``client_id``,
  ``client_secret``, ``grant_type=refresh_token`` and ``refresh_token``; each
  answer carries a new refresh token, written back at once;
* ``app``: a Dev Dashboard app installed on the seller's own store trades its
  client ID and secret for a token (about 24 hours) at the same endpoint,
  form-encoded ``grant_type=client_credentials``; there is no refresh token,
  a new token is simply requested.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from channels.base import AuthError, ChannelError, PermissionMissing, RateLimited, Stream, TransientChannelError
from channels.credentials import ACCESS_EXPIRES, REFRESH_TOKEN, CredentialStore, TokenGrant, TokenManager
from channels.http import HttpClient, Response, raise_for_status, snippet
from channels.shopify.settings import ShopifySettings

PLATFORM_NAME = "Shopify"
TOKEN_PATH = "/admin/oauth/access_token"  # noqa: S105 - an endpoint, not a secret
SCOPE_DOCS = "the app's scopes (Dev Dashboard → the app's version → Access, or in the store admin's Develop apps)"


class StoreUnavailable(ChannelError):
    """The store cannot be reached as configured (unknown domain, retired API version, frozen or locked)."""

    def __init__(self, message: str, *, misconfigured: bool = False) -> None:
        super().__init__(message)
        self.misconfigured = misconfigured


@dataclass(frozen=True, slots=True)
class Cost:
    """``extensions.cost`` of a response: what the query asked for and what the bucket holds."""

    requested: float = 0.0
    actual: float | None = None
    maximum: float = 0.0
    available: float = 0.0
    restore_rate: float = 0.0

    @classmethod
    def read(cls, extensions: Any) -> Cost | None:
        cost = extensions.get("cost") if isinstance(extensions, dict) else None
        if not isinstance(cost, dict):
            return None
        status = cost.get("throttleStatus") or {}
        return cls(
            requested=float(cost.get("requestedQueryCost") or 0),
            actual=float(cost["actualQueryCost"]) if cost.get("actualQueryCost") is not None else None,
            maximum=float(status.get("maximumAvailable") or 0),
            available=float(status.get("currentlyAvailable") or 0),
            restore_rate=float(status.get("restoreRate") or 0),
        )

    def wait_for(self, points: float) -> float:
        """Seconds until the bucket holds ``points`` (0 when it already does)."""
        short = points - self.available
        if short <= 0:
            return 0.0
        return math.ceil(short / self.restore_rate * 10) / 10 if self.restore_rate > 0 else 2.0


@dataclass(frozen=True, slots=True)
class Result:
    """One GraphQL answer: ``data`` (perhaps partial), field ``errors``, and its cost."""

    data: dict[str, Any] | None
    errors: Sequence[dict[str, Any]] = field(default_factory=tuple)
    cost: Cost | None = None

    def denied(self, root: str) -> dict[str, Any] | None:
        """The ACCESS_DENIED error for field ``root`` (or anything under it), if there is one."""
        return next((e for e in self.errors if _code(e) == "ACCESS_DENIED" and _path(e)[:1] == [root]), None)

    def other_errors(self) -> list[dict[str, Any]]:
        return [e for e in self.errors if _code(e) != "ACCESS_DENIED"]


def _code(error: Mapping[str, Any]) -> str:
    ext = error.get("extensions")
    return str(ext.get("code") or "") if isinstance(ext, dict) else ""


def _path(error: Mapping[str, Any]) -> list[Any]:
    path = error.get("path")
    return list(path) if isinstance(path, list) else []


def required_scope(error: Mapping[str, Any], default: str) -> str:
    """The scope an ACCESS_DENIED error names (``read_orders``), from ``requiredAccess`` or the message."""
    ext = error.get("extensions") if isinstance(error.get("extensions"), dict) else {}
    text = str((ext or {}).get("requiredAccess") or error.get("message") or "")
    for word in text.replace("`", " ").replace(".", " ").split():
        if word.startswith(("read_", "write_")):
            return word
    return default


def permission_error(error: Mapping[str, Any], stream: Stream, default_scope: str) -> PermissionMissing:
    scope = required_scope(error, default_scope)
    return PermissionMissing(
        f"the app lacks the {scope} scope ({error.get('message') or 'access denied'}); grant it in {SCOPE_DOCS}",
        stream,
    )


def auth_mode(secrets: Mapping[str, str]) -> str:
    """How this account gets its tokens: ``refresh``, ``token`` (pasted, non-expiring) or ``app`` (client credentials).

    A token the helpdesk obtained itself is stored with its expiry; a pasted
    one has none, which tells the two apart on the next start.
    """
    if secrets.get(REFRESH_TOKEN):
        return "refresh"
    if secrets.get("access_token") and not secrets.get(ACCESS_EXPIRES):
        return "token"
    return "app"


class _AppGrantStore:
    """The account's store as :class:`TokenManager` sees it for a client-credentials app.

    TokenManager renews through a refresh token; such an app has none, so the
    app's client ID stands in its place (it is only handed back to
    :meth:`ShopifyClient.client_credentials`, never sent as a refresh token,
    and never written back).
    """

    def __init__(self, store: CredentialStore, client_id: str) -> None:
        self.store = store
        self.client_id = client_id

    def get(self) -> dict[str, str]:
        return {**self.store.get(), REFRESH_TOKEN: self.client_id}

    def update(self, values: Mapping[str, str | None]) -> None:
        self.store.update({k: v for k, v in values.items() if k != REFRESH_TOKEN})

    def exclusive(self) -> AbstractContextManager[None]:
        return self.store.exclusive()


class ShopifyClient:
    """One store's Admin API; one instance per connector, closed with it."""

    def __init__(self, settings: ShopifySettings, credentials: CredentialStore) -> None:
        self.settings = settings
        self.credentials = credentials
        self.http = HttpClient(settings.base_url, timeout_s=settings.timeout_s, platform=PLATFORM_NAME)
        self.mode = auth_mode(credentials.get())
        self.tokens: TokenManager | None = None
        if self.mode == "refresh":
            self.tokens = TokenManager(credentials, self.refresh)
        elif self.mode == "app":
            store = _AppGrantStore(credentials, settings.client_id or "")
            self.tokens = TokenManager(store, lambda _client_id: self.client_credentials())
        self.last_cost: Cost | None = None

    def close(self) -> None:
        self.http.close()

    # --- tokens ----------------------------------------------------------------------------------

    def token(self) -> str:
        """The access token to send: a renewed expiring one, or the account's non-expiring one."""
        if self.tokens is not None:
            return self.tokens.token()
        token = self.credentials.get().get("access_token")
        if not token:
            raise AuthError("the account has no access token; connect the store again")
        return token

    def refresh(self, refresh_token: str) -> TokenGrant:
        """Trade the refresh token for a new access token (and Shopify's replacement refresh token)."""
        body = {**self._app(), "grant_type": "refresh_token", "refresh_token": refresh_token}
        return self._grant(self.http.request("POST", TOKEN_PATH, json=body, what="token refresh"), "refresh token")

    def client_credentials(self) -> TokenGrant:
        """A new access token for an app installed on the seller's own store (form-encoded, as documented)."""
        body = {"grant_type": "client_credentials", **self._app()}
        return self._grant(self.http.request("POST", TOKEN_PATH, data=body, what="token request"), "app credentials")

    def _app(self) -> dict[str, str]:
        return {
            "client_id": self.settings.client_id or "",
            "client_secret": self.credentials.get().get("client_secret", ""),
        }

    def _grant(self, response: Response, what: str) -> TokenGrant:
        if response.status_code == 404:
            raise StoreUnavailable(
                f"Shopify has no token endpoint at {self.settings.base_url}; check the store domain", misconfigured=True
            )
        if response.status_code in (400, 401, 403):
            reason = _oauth_error(response)
            raise AuthError(f"Shopify refused the {what} ({reason}); connect the store again")
        raise_for_status(response, "token request", platform=PLATFORM_NAME)
        try:
            grant = response.json()
            access, expires_in = str(grant["access_token"]), float(grant.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError):
            raise TransientChannelError(f"Shopify's token answer is unreadable: {snippet(response)}") from None
        lifetime = grant.get("refresh_token_expires_in")
        return TokenGrant(
            access_token=access,
            expires_in=expires_in,
            refresh_token=grant.get("refresh_token") or None,
            refresh_expires_at=datetime.now(UTC) + timedelta(seconds=float(lifetime)) if lifetime else None,
        )

    # --- GraphQL ---------------------------------------------------------------------------------

    def graphql(self, document: str, variables: Mapping[str, Any] | None = None, *, what: str) -> Result:
        """Run one query; raise for transport, auth, throttling and store errors, return field errors."""
        token = self.token()
        response = self._post(document, variables, token, what)
        if response.status_code == 401 and self.tokens is not None:
            response = self._post(document, variables, self.tokens.renew(token), what)
        result = self._read(response, what)
        self.last_cost = result.cost or self.last_cost
        return result

    def _post(self, document: str, variables: Mapping[str, Any] | None, token: str, what: str) -> Response:
        return self.http.request(
            "POST",
            self.settings.graphql_path,
            json={"query": document, "variables": dict(variables or {})},
            headers={"X-Shopify-Access-Token": token},
            what=what,
        )

    def _read(self, response: Response, what: str) -> Result:
        status = response.status_code
        if status == 401:
            raise AuthError(f"Shopify refused the access token ({_errors_text(response)}); connect the store again")
        if status == 404:
            raise StoreUnavailable(
                f"Shopify knows no Admin API at {self.settings.shop} for version {self.settings.api_version}; "
                "check the store domain and the API version",
                misconfigured=True,
            )
        if status in (402, 423):
            state = "frozen (unpaid plan)" if status == 402 else "locked"
            raise StoreUnavailable(f"the store {self.settings.shop} is {state}: {_errors_text(response)}")
        raise_for_status(response, what, platform=PLATFORM_NAME)
        try:
            body = response.json()
        except ValueError:
            raise TransientChannelError(f"Shopify's answer to the {what} is not JSON: {snippet(response)}") from None
        if not isinstance(body, dict):
            raise ChannelError(f"Shopify's answer to the {what} is not an object: {snippet(response)}")
        errors = body.get("errors") or []
        if isinstance(errors, str | dict):
            raise ChannelError(f"Shopify refused the {what}: {errors}")
        result = Result(
            body.get("data"), tuple(e for e in errors if isinstance(e, dict)), Cost.read(body.get("extensions"))
        )
        for error in result.errors:
            code = _code(error)
            if code == "THROTTLED":
                cost = result.cost or Cost()
                wait = max(1.0, cost.wait_for(cost.requested or cost.maximum))
                raise RateLimited(
                    f"Shopify's query-cost bucket is short ({cost.available:.0f} of {cost.requested:.0f} points; "
                    f"refills at {cost.restore_rate:.0f}/s)",
                    retry_after=wait,
                )
            if code in ("INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"):
                raise TransientChannelError(f"Shopify failed the {what}: {error.get('message')}")
        return result


def _errors_text(response: Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return snippet(response)
    errors = body.get("errors") if isinstance(body, dict) else None
    return str(errors) if errors else snippet(response)


def _oauth_error(response: Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {snippet(response)}"
    if isinstance(body, dict):
        error = body.get("error") or body.get("errors") or f"HTTP {response.status_code}"
        description = body.get("error_description")
        return f"{error}: {description}" if description else str(error)
    return f"HTTP {response.status_code}"
