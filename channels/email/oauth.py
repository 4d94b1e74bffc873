"""OAuth 2.0 access tokens for IMAP and SMTP (XOAUTH2), kept fresh from a refresh token.

Gmail and Microsoft 365 mailboxes no longer take passwords; they take an
access token that lives about an hour.  An account either names a ready
access token (secret role ``oauth2_token``, which someone else keeps fresh)
or, better, the long-lived pieces this module turns into access tokens when
needed: the provider's token endpoint and client id (settings
``oauth2_token_url``, ``oauth2_client_id``, optional ``oauth2_scope``) and the
secrets ``oauth2_refresh_token`` and ``oauth2_client_secret``.

Tokens are kept with the account's secrets (through its credential store)
until a minute before they expire, so every process polling the mailbox
asks the provider about once an hour between them.  A provider that rotates
refresh tokens (Microsoft does) hands back a new one; it is written back at
once, so the next refresh (in any process, after any restart) uses it.  A
refused refresh token is an
:class:`~channels.base.AuthError` (the account shows *failing* and says to
authorise again); an unreachable endpoint is a temporary failure.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from channels.base import AuthError, TransientChannelError
from channels.credentials import CredentialStore, TokenGrant, TokenManager

PROVIDERS = {
    "google": ("https://oauth2.googleapis.com/token", "https://mail.google.com/"),
    "microsoft": (
        "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access",
    ),
}


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """Where and as whom to refresh tokens for one mailbox."""

    token_url: str
    client_id: str
    scope: str | None = None
    timeout_s: float = 30.0


def token_manager(client: OAuthClient, store: CredentialStore) -> TokenManager:
    """The account's token manager: tokens kept with its secrets under ``oauth2_…``."""
    secret = store.get().get("oauth2_client_secret")
    return TokenManager(store, lambda refresh: _refresh(client, refresh, secret), prefix="oauth2_")


def access_token(client: OAuthClient | None, store: CredentialStore, *, refused: str | None = None) -> str | None:
    """A usable access token for the account, or None when it has no OAuth secrets.

    ``refused`` is a token the server just refused before its expiry; a new
    one is fetched instead of trusting the stored copy.
    """
    secrets = store.get()
    if client is None or not secrets.get("oauth2_refresh_token"):
        return secrets.get("oauth2_token")
    manager = token_manager(client, store)
    return manager.renew(refused) if refused else manager.token()


def _refresh(client: OAuthClient, refresh_token: str, client_secret: str | None) -> TokenGrant:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client.client_id}
    if client_secret:
        form["client_secret"] = client_secret
    if client.scope:
        form["scope"] = client.scope
    request = urllib.request.Request(  # noqa: S310 - the URL is an https endpoint the admin configured
        client.token_url,
        data=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=client.timeout_s) as response:  # noqa: S310
            body = response.read()
    except urllib.error.HTTPError as exc:
        detail = _error_detail(exc.read())
        if 400 <= exc.code < 500:
            raise AuthError(
                f"the OAuth token endpoint refused the refresh token ({exc.code} {detail}); "
                "authorise the mailbox again and update its refresh token"
            ) from exc
        raise TransientChannelError(f"the OAuth token endpoint failed: {exc.code} {detail}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise TransientChannelError(f"the OAuth token endpoint is unreachable: {exc}") from exc
    try:
        data = json.loads(body)
        token = str(data["access_token"])
        lifetime = float(data.get("expires_in", 3600))
    except (ValueError, KeyError, TypeError) as exc:
        raise TransientChannelError("the OAuth token endpoint answered without an access_token") from exc
    return TokenGrant(access_token=token, expires_in=lifetime, refresh_token=data.get("refresh_token") or None)


def _error_detail(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace")
    if isinstance(data, dict):
        return " ".join(str(data[k]) for k in ("error", "error_description") if data.get(k)) or "no detail"
    return "no detail"
