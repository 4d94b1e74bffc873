"""eBay's wire protocol: tokens on every call, the two error envelopes, one renewal on a refused token.

REST calls carry ``Authorization: Bearer <user token>`` and the marketplace
header; the Post-Order API wants the same token as ``Authorization: IAF
<token>`` (it answers 401 to ``Bearer``).  REST errors are ``errors[]`` with
``errorId``/``domain``/``category``/``message`` (Post-Order sometimes says
``error``); 1001 is a refused token (401), 1100 a missing scope (403), 2001
the rate limit (429).  Trading calls are XML over ``POST /ws/api.dll`` with
the token in ``X-EBAY-API-IAF-TOKEN`` and report failure inside HTTP 200.

A token refused before its expiry is renewed once through the
:class:`~channels.credentials.TokenManager` and the call retried once; a
second refusal is an :class:`~channels.base.AuthError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from channels.base import (
    AuthError,
    ChannelError,
    PermissionMissing,
    RateLimited,
    Stream,
    TransientChannelError,
)
from channels.credentials import CredentialStore, TokenManager
from channels.ebay import trading
from channels.ebay.auth import Refresher
from channels.ebay.settings import EbaySettings
from channels.http import HttpClient, Response, raise_for_status, retry_after, snippet

#: Trading's member-message calls are limited to 75 per 60 s per seller; over it the seller is blocked 100 s.
MEMBER_MESSAGE_BLOCK_S = 100.0


def rest_error(response: Response) -> str:
    """eBay's own words for a failed REST call: ``1100 Access denied: Insufficient permissions…``."""
    try:
        body = response.json()
    except ValueError:
        return snippet(response)
    items = (body.get("errors") or body.get("error") or []) if isinstance(body, dict) else []
    if isinstance(items, dict):
        items = [items]
    parts = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            words = " ".join(str(item[k]) for k in ("message", "longMessage") if item.get(k))
            parts.append(f"{item.get('errorId', '')} {words}".strip())
    return "; ".join(parts) or snippet(response)


class EbayClient:
    """One seller's eBay APIs over one pooled HTTP client."""

    def __init__(self, settings: EbaySettings, store: CredentialStore) -> None:
        self.settings = settings
        # headers every REST call carries are the client's, not merged into each request
        static = {"X-EBAY-C-MARKETPLACE-ID": settings.marketplace_id, "Accept": "application/json"}
        self.http = HttpClient(settings.base_url, timeout_s=settings.timeout_s, platform="eBay", headers=static)
        self.refresher = Refresher(self.http, settings.client_id, settings.scopes, store)
        self.tokens = TokenManager(store, self.refresher)

    # --- REST ----------------------------------------------------------------------------------------

    def rest(
        self,
        method: str,
        path: str,
        *,
        what: str,
        stream: Stream | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        iaf: bool = False,
        missing_ok: bool = False,
    ) -> Any:
        """The JSON answer of one REST call (``{}`` for an empty body; None for a 404 when ``missing_ok``)."""
        token = self.tokens.token()
        response = self._send_rest(method, path, token, params, json, iaf, what)
        if response.status_code == 401:
            token = self.tokens.renew(token)
            response = self._send_rest(method, path, token, params, json, iaf, what)
        status = response.status_code
        if 200 <= status < 300:
            if not response.content:
                return {}
            try:
                return response.json()
            except ValueError:
                raise TransientChannelError(f"eBay answered the {what} with a body that is not JSON") from None
        if status == 404 and missing_ok:
            return None
        detail = f"eBay answered {status} to the {what}: {rest_error(response)}"
        if status == 401:
            raise AuthError(f"{detail} (the token was refused after a refresh)")
        if status == 403:
            raise PermissionMissing(detail, stream)
        if status == 429:
            raise RateLimited(detail, retry_after=retry_after(response, 60.0))
        raise_for_status(response, what, platform="eBay", stream=stream)
        raise AssertionError("unreachable")  # pragma: no cover - raise_for_status raised

    def _send_rest(self, method: str, path: str, token: str, params: Any, body: Any, iaf: bool, what: str) -> Response:
        headers = {"Authorization": f"IAF {token}" if iaf else f"Bearer {token}"}
        return self.http.request(method, path, params=params, json=body, headers=headers, what=what)

    # --- Trading -------------------------------------------------------------------------------------

    def trading(self, call: str, body: bytes, *, what: str, stream: Stream | None = None) -> etree._Element:
        """The response root of one Trading call that succeeded (``Ack`` Success or Warning)."""
        token = self.tokens.token()
        for attempt in (0, 1):
            response = self.http.request(
                "POST", "/ws/api.dll", content=body, headers=self._trading_headers(call, token), what=what
            )
            raise_for_status(response, what, platform="eBay", stream=stream)
            try:
                root = trading.parse(response.content)
            except ValueError as exc:
                raise TransientChannelError(f"eBay answered the {what} with broken XML: {exc}") from None
            if trading.ack(root) in ("Success", "Warning"):
                return root
            errors = [e for e in trading.errors(root) if e.severity != "Warning"]
            codes = {e.code for e in errors}
            text = "; ".join(str(e) for e in errors) or snippet(response)
            if codes & trading.TOKEN_ERRORS:
                if attempt == 0:
                    token = self.tokens.renew(token)
                    continue
                raise AuthError(f"eBay refused the token for the {what} after a refresh: {text}")
            if codes & trading.QUOTA_ERRORS:
                wait = MEMBER_MESSAGE_BLOCK_S if call.startswith("AddMemberMessage") else None
                raise RateLimited(f"eBay's call limit for {call} is spent: {text}", retry_after=wait)
            raise ChannelError(f"eBay refused the {what}: {text}")
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _trading_headers(self, call: str, token: str) -> dict[str, str]:
        return {
            "X-EBAY-API-CALL-NAME": call,
            "X-EBAY-API-SITEID": str(self.settings.site_id),
            "X-EBAY-API-COMPATIBILITY-LEVEL": trading.COMPATIBILITY_LEVEL,
            "X-EBAY-API-IAF-TOKEN": token,
            "Content-Type": "text/xml; charset=utf-8",
        }

    def close(self) -> None:
        self.http.close()
