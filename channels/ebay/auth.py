"""eBay's OAuth refresh: a user access token from the long-lived refresh token.

``POST /identity/v1/oauth2/token`` with HTTP Basic ``client_id:client_secret``
and the form ``grant_type=refresh_token, refresh_token, scope``.  eBay does
not rotate the refresh token (it lasts about 18 months), so a grant carries
only the new access token and, when eBay says it, the refresh token's end.

The scopes asked for must be the grant's or fewer: asking for one the seller
never granted fails the whole refresh with ``invalid_scope``.  Rather than
stop every stream for one missing scope, the refresher then asks for each
scope alone (a ``.readonly`` twin when the full one is refused) and takes the
accepted ones; the calls of the stream whose scope is missing then answer
403 and become a :class:`~channels.base.StreamProblem` while the rest flows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from channels.base import AuthError, ChannelError
from channels.credentials import CredentialStore, TokenGrant
from channels.http import HttpClient, raise_for_status, snippet

TOKEN_PATH = "/identity/v1/oauth2/token"  # noqa: S105 - a path, not a secret


class ScopeRefused(ChannelError):
    """The token endpoint refused the scopes asked for (``invalid_scope``)."""


class Refresher:
    """Turns the refresh token into access tokens; remembers which scopes eBay refused."""

    def __init__(self, http: HttpClient, client_id: str, scopes: tuple[str, ...], store: CredentialStore) -> None:
        self.http = http
        self.client_id = client_id
        self.scopes = scopes
        self.store = store
        self.refused: tuple[str, ...] = ()

    def __call__(self, refresh_token: str) -> TokenGrant:
        try:
            return self._grant(refresh_token, self.scopes)
        except ScopeRefused:
            pass
        accepted = [s for s in (self._alone(refresh_token, scope) for scope in self.scopes) if s]
        if not accepted:
            raise AuthError(f"eBay granted none of the scopes {' '.join(self.scopes)}; connect the store again")
        self.refused = tuple(s for s in self.scopes if s not in accepted and s + ".readonly" not in accepted)
        return self._grant(refresh_token, tuple(accepted))

    def _alone(self, refresh_token: str, scope: str) -> str | None:
        for candidate in (scope, scope + ".readonly") if not scope.endswith(".readonly") else (scope,):
            try:
                self._grant(refresh_token, (candidate,))
                return candidate
            except ScopeRefused:
                continue
        return None

    def _grant(self, refresh_token: str, scopes: tuple[str, ...]) -> TokenGrant:
        secret = self.store.get().get("client_secret")
        if not secret:
            raise AuthError("the account has no client_secret (Cert ID); add it to the account")
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "scope": " ".join(scopes)}
        response = self.http.request(
            "POST",
            TOKEN_PATH,
            data=form,
            auth=(self.client_id, secret),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            what="token refresh",
        )
        body: dict[str, Any] = {}
        if response.headers.get("content-type", "").startswith("application/json"):
            try:
                body = response.json()
            except ValueError:
                body = {}
        error = body.get("error") if isinstance(body, dict) else None
        if error == "invalid_scope":
            raise ScopeRefused(str(body.get("error_description") or "invalid_scope"))
        if error == "invalid_grant":
            raise AuthError(
                "eBay refused the refresh token (invalid_grant: it expired or was revoked); connect the store again"
            )
        if error == "invalid_client" or response.status_code == 401:
            raise AuthError(f"eBay refused the App ID and Cert ID: {snippet(response)}; check client_id/client_secret")
        raise_for_status(response, "token refresh", platform="eBay")
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise ChannelError(f"eBay's token endpoint answered without an access token: {snippet(response)}")
        refresh_ends = None
        if isinstance(body.get("refresh_token_expires_in"), int | float):
            refresh_ends = datetime.now(UTC) + timedelta(seconds=float(body["refresh_token_expires_in"]))
        return TokenGrant(
            access_token=token,
            expires_in=float(body.get("expires_in") or 7200),
            refresh_token=body.get("refresh_token") if isinstance(body.get("refresh_token"), str) else None,
            refresh_expires_at=refresh_ends,
        )
