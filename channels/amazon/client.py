"""The SP-API wire protocol: LWA tokens, restricted data tokens, envelopes, errors and quota.

Calls carry a Login with Amazon access token in ``x-amz-access-token`` (no
AWS signature since October 2023).  Tokens come from the account's
:class:`~channels.credentials.TokenManager`, refreshed at the LWA endpoint
with the refresh token and the app's client id and secret; Amazon does not
rotate refresh tokens.  Calls that return buyer PII use a Restricted Data
Token in the same header instead.

Amazon answers errors as ``{"errors": [{"code", "message", "details"}]}``
and spells an expired or revoked access token as HTTP 403 ``Unauthorized``
with the reason in ``details`` — the same status and code as a missing role,
which has empty details.  So an access token refused for being expired or
invalid is renewed once and the call repeated; a 403 without such details is
a missing role (:class:`~channels.base.PermissionMissing`).

Orders are read with the Orders API 2026-01-01 (``searchOrders``, ``getOrder``:
no envelope, lines inside each order, buyer data by role without a
Restricted Data Token) or the older v0 (``{"payload": …}``, lines by
``getOrderItems``, buyer data through a Restricted Data Token).

Every operation is metered by its own bucket (:mod:`channels.amazon.ratelimit`);
a caller says how long it may wait for it and gets :class:`Throttled` when
the wait would be longer.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from channels.amazon.ratelimit import GET_ORDER_2026, SEARCH_ORDERS, TokenBucket, shared_plans
from channels.amazon.settings import AmazonSettings
from channels.base import (
    AuthError,
    ChannelError,
    PermissionMissing,
    RateLimited,
    Stream,
    TransientChannelError,
)
from channels.credentials import CredentialStore, TokenGrant, TokenManager
from channels.http import HttpClient, Response, raise_for_status, retry_after, snippet

ORDERS_PATH = "/orders/v0/orders"
ORDERS_2026_PATH = "/orders/2026-01-01/orders"
#: what an Orders 2026-01-01 read asks for besides the order and its lines (always included);
#: ``BUYER`` is added when the account reads buyer data
INCLUDED_DATA = ("RECIPIENT", "FULFILLMENT", "PROCEEDS", "PACKAGES")
RDT_PATH = "/tokens/2021-03-01/restrictedDataToken"
PII_ELEMENTS = ("buyerInfo", "shippingAddress")
REAUTHORISE = "authorise the app again in Seller Central (Apps and Services → Manage Your Apps)"


class SpApiError(ChannelError):
    """An error Amazon spelt out in its envelope."""

    def __init__(self, message: str, *, status: int, code: str = "", details: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.details = details


class InvalidInput(SpApiError):
    """400 ``InvalidInput``: a parameter Amazon refused (a stale NextToken, a bad marketplace id…)."""


class NotFound(SpApiError):
    """404: the order (or other resource) does not exist for this seller."""


class Throttled(RateLimited):
    """Our own bucket for the operation is empty and refilling takes longer than the caller may wait."""


class RestrictedDataRefused(PermissionMissing):
    """Amazon refused a Restricted Data Token: the app lacks the restricted roles for buyer data."""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any
    headers: Mapping[str, str]


def _json(response: Response) -> Any:
    if not response.content:
        return {}
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _error(body: Any) -> tuple[str, str, str]:
    """(code, message, details) of the first error in Amazon's envelope."""
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            return str(first.get("code") or ""), str(first.get("message") or ""), str(first.get("details") or "")
    return "", "", ""


def _token_refused(status: int, details: str) -> bool:
    """Amazon refused the access token itself (expired, revoked, malformed), not the app's roles."""
    if status == 401:
        return True
    text = details.lower()
    return status == 403 and "access token" in text and ("expired" in text or "invalid" in text or "missing" in text)


class SpApiClient:
    """One seller account's SP-API in one region; one instance per connector, closed with it."""

    def __init__(self, settings: AmazonSettings, store: CredentialStore, seller: str) -> None:
        self.settings = settings
        self.store = store
        self.use_rdt = settings.use_rdt  # read buyer data: a Restricted Data Token for v0, BUYER for 2026-01-01
        self.http = HttpClient(
            settings.base_url, timeout_s=settings.timeout_s, headers={"Accept": "application/json"}, platform="Amazon"
        )
        self.tokens = TokenManager(store, self._refresh)
        self.plans = shared_plans(settings.base_url, seller)
        self._rdts: dict[str, tuple[str, float]] = {}

    def close(self) -> None:
        self.http.close()

    # --- Login with Amazon ------------------------------------------------------------------------------

    def _refresh(self, refresh_token: str) -> TokenGrant:
        """Form post to the LWA token endpoint, client id and secret in the body (Amazon's documented style)."""
        client_secret = self.store.get().get("client_secret")
        if not client_secret:
            raise AuthError("the account has no LWA client secret; add the app's client secret")
        response = self.http.request(
            "POST",
            self.settings.token_url,
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": self.settings.client_id,
                "client_secret": client_secret,
            },
            what="Login with Amazon token request",
        )
        body = _json(response)
        if response.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
            rotated = body.get("refresh_token")
            return TokenGrant(
                access_token=str(body["access_token"]),
                expires_in=float(body.get("expires_in") or 3600),
                refresh_token=str(rotated) if rotated else None,
            )
        error = str(body.get("error") or "") if isinstance(body, dict) else ""
        reason = str(body.get("error_description") or error) if isinstance(body, dict) else ""
        if error == "invalid_grant":
            raise AuthError(f"Login with Amazon refused the refresh token ({reason}): {REAUTHORISE}")
        if error in {"invalid_client", "unauthorized_client"}:
            raise AuthError(
                f"Login with Amazon refused the client id or secret ({reason}): check the app's LWA credentials "
                "in Seller Central → Develop Apps and store a rotated secret here"
            )
        raise_for_status(response, "Login with Amazon token request", platform="Amazon")
        raise ChannelError(f"Login with Amazon answered without an access token: {snippet(response)}")

    def restricted_token(self, path: str, elements: tuple[str, ...]) -> str:
        """A Restricted Data Token for GET ``path``, kept until a minute before it expires."""
        key = f"{path}|{','.join(elements)}"
        cached = self._rdts.get(key)
        if cached is not None and cached[1] > time.monotonic() + 60:
            return cached[0]
        resource = {"method": "GET", "path": path, "dataElements": list(elements)}
        reply = self.call(
            "POST",
            RDT_PATH,
            operation="createRestrictedDataToken",
            stream=Stream.ORDERS,
            json_body={"restrictedResources": [resource]},
            max_wait=self.settings.rate_wait_s,
        )
        body = reply.body if isinstance(reply.body, dict) else {}
        token = body.get("restrictedDataToken")
        if not token:
            raise ChannelError(f"Amazon answered the restricted data token request without a token: {body!r:.200}")
        self._rdts[key] = (str(token), time.monotonic() + float(body.get("expiresIn") or 3600))
        return str(token)

    # --- calls --------------------------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        stream: Stream,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        max_wait: float = 0.0,
        restricted: tuple[str, tuple[str, ...]] | None = None,
    ) -> Reply:
        """One metered call; a refused access token is renewed once and the call repeated."""
        bucket = self.plans.bucket(operation)
        if restricted is not None:
            self.restricted_token(*restricted)  # before this operation's quota is spent on a call that could not go
        wait = bucket.take(max_wait)
        if wait:
            raise Throttled(f"Amazon's {operation} quota refills in {wait:.1f} s", retry_after=wait)
        for attempt in (1, 2):
            token = self.restricted_token(*restricted) if restricted is not None else self.tokens.token()
            response = self.http.request(
                method, path, params=params, json=json_body, headers={"x-amz-access-token": token}, what=operation
            )
            limit = response.headers.get("x-amzn-ratelimit-limit")
            if limit:
                with contextlib.suppress(ValueError):  # a header we cannot read changes nothing
                    bucket.adopt(float(limit))
            body = _json(response)
            if 200 <= response.status_code < 300:
                if body is None:
                    raise TransientChannelError(f"Amazon answered {operation} with something that is not JSON")
                return Reply(response.status_code, body, response.headers)
            code, message, details = _error(body)
            if attempt == 1 and _token_refused(response.status_code, details):
                if restricted is not None:
                    self._rdts.pop(f"{restricted[0]}|{','.join(restricted[1])}", None)
                else:
                    self.tokens.renew(token)
                continue
            raise self._failure(response, operation, stream, bucket, code, message, details)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _failure(
        self,
        response: Response,
        operation: str,
        stream: Stream,
        bucket: TokenBucket,
        code: str,
        message: str,
        details: str,
    ) -> ChannelError:
        status = response.status_code
        said = " — ".join(part for part in (code, message, details) if part) or snippet(response)
        text = f"Amazon answered {status} to {operation}: {said}"
        if status in {401, 403}:
            if _token_refused(status, details):
                return AuthError(f"{text}; the access token was refused again after renewing it: {REAUTHORISE}")
            return PermissionMissing(text, stream)
        if status == 429 or code == "QuotaExceeded":  # the poller waits the retry-after before the next call
            return RateLimited(text, retry_after=retry_after(response, default=1.0 / bucket.rate))
        if status == 404:
            return NotFound(text, status=status, code=code, details=details)
        if status == 400:
            if operation == "createRestrictedDataToken" and "does not have access" in message:
                return RestrictedDataRefused(text, Stream.ORDERS)
            return InvalidInput(text, status=status, code=code, details=details)
        if status >= 500 or status == 408:
            return TransientChannelError(text, retry_after=retry_after(response))
        return SpApiError(text, status=status, code=code, details=details)

    # --- operations -----------------------------------------------------------------------------------------

    def _orders_get(
        self, path: str, operation: str, *, params: dict[str, Any] | None, max_wait: float, pii: bool
    ) -> dict[str, Any]:
        """An Orders API read and its ``payload``; with ``pii``, through a Restricted Data Token for the path."""
        restricted = (path, PII_ELEMENTS) if pii else None
        reply = self.call(
            "GET",
            path,
            operation=operation,
            stream=Stream.ORDERS,
            params=params,
            max_wait=max_wait,
            restricted=restricted,
        )
        return _member(reply, operation, "payload")

    def get_orders(
        self,
        *,
        after: str | None = None,
        next_token: str | None = None,
        max_results: int = 100,
        max_wait: float = 0.0,
        pii: bool | None = None,
    ) -> dict[str, Any]:
        """One page of getOrders: the first of a window by ``LastUpdatedAfter``, or the next by ``NextToken`` alone.

        ``pii`` (default: the account's setting) reads buyer data with a Restricted Data Token.
        """
        if next_token:
            params: dict[str, Any] = {"NextToken": next_token}
        else:
            params = {
                "MarketplaceIds": ",".join(self.settings.marketplace_ids),
                "LastUpdatedAfter": after,
                "MaxResultsPerPage": max(1, min(100, max_results)),
            }
        return self._orders_get(
            ORDERS_PATH, "getOrders", params=params, max_wait=max_wait, pii=self.use_rdt if pii is None else pii
        )

    def get_order(self, order_id: str, *, max_wait: float = 0.0) -> dict[str, Any]:
        return self._orders_get(
            f"{ORDERS_PATH}/{order_id}", "getOrder", params=None, max_wait=max_wait, pii=self.use_rdt
        )

    def get_order_items(self, order_id: str, *, max_wait: float = 0.0) -> list[dict[str, Any]]:
        """Every line of one order, following ``NextToken`` (each page is one metered call)."""
        items: list[dict[str, Any]] = []
        params: dict[str, Any] | None = None
        deadline = time.monotonic() + max_wait
        while True:
            path = f"{ORDERS_PATH}/{order_id}/orderItems"
            wait = max(0.0, deadline - time.monotonic())
            payload = self._orders_get(path, "getOrderItems", params=params, max_wait=wait, pii=False)
            page = payload.get("OrderItems")
            if not isinstance(page, list):
                raise ValueError("OrderItems is missing from the getOrderItems answer")
            items.extend(page)
            token = payload.get("NextToken")
            if not token:
                return items
            params = {"NextToken": token}

    def _included(self, pii: bool | None) -> str:
        buyer = self.use_rdt if pii is None else pii
        return ",".join(("BUYER", *INCLUDED_DATA) if buyer else INCLUDED_DATA)

    def search_orders(
        self,
        *,
        after: str,
        token: str | None = None,
        max_results: int = 100,
        max_wait: float = 0.0,
        pii: bool | None = None,
    ) -> dict[str, Any]:
        """One page of searchOrders by ``lastUpdatedAfter``, orders with their lines.

        The next page repeats the query with ``paginationToken``: Amazon wants
        the other parameters as they were (``maxResultsPerPage`` and
        ``includedData`` may change).  ``pii`` (default: the account's setting)
        asks for the buyer too.
        """
        params: dict[str, Any] = {
            "marketplaceIds": ",".join(self.settings.marketplace_ids),
            "lastUpdatedAfter": after,
            "maxResultsPerPage": max(1, min(100, max_results)),
            "includedData": self._included(pii),
        }
        if token:
            params["paginationToken"] = token
        reply = self.call(
            "GET", ORDERS_2026_PATH, operation=SEARCH_ORDERS, stream=Stream.ORDERS, params=params, max_wait=max_wait
        )
        if not isinstance(reply.body, dict):
            raise TransientChannelError(
                f"Amazon answered searchOrders with something else than an object: {reply.body!r:.200}"
            )
        return reply.body

    def get_order_2026(self, order_id: str, *, max_wait: float = 0.0) -> dict[str, Any]:
        """One order with its lines (Orders 2026-01-01 ``getOrder``), buyer data as the account reads it."""
        reply = self.call(
            "GET",
            f"{ORDERS_2026_PATH}/{order_id}",
            operation=GET_ORDER_2026,
            stream=Stream.ORDERS,
            params={"includedData": self._included(None)},
            max_wait=max_wait,
        )
        return _member(reply, GET_ORDER_2026, "order")

    def _messaging_get(
        self, path: str, operation: str, stream: Stream, marketplace_id: str, max_wait: float
    ) -> dict[str, Any]:
        params = {"marketplaceIds": marketplace_id}
        reply = self.call("GET", path, operation=operation, stream=stream, params=params, max_wait=max_wait)
        return reply.body if isinstance(reply.body, dict) else {}

    def messaging_actions(self, order_id: str, marketplace_id: str, *, max_wait: float = 0.0) -> dict[str, Any]:
        """The HAL list of message types an order allows now."""
        path = f"/messaging/v1/orders/{order_id}"
        return self._messaging_get(path, "getMessagingActionsForOrder", Stream.REPLIES, marketplace_id, max_wait)

    def buyer_attributes(self, order_id: str, marketplace_id: str, *, max_wait: float = 0.0) -> dict[str, Any]:
        """``{"buyer": {"locale": …}}``: the buyer's preferred language."""
        path = f"/messaging/v1/orders/{order_id}/attributes"
        return self._messaging_get(path, "getAttributes", Stream.MESSAGES, marketplace_id, max_wait)

    def send_message(
        self, order_id: str, marketplace_id: str, action: str, body: dict[str, Any], *, max_wait: float = 0.0
    ) -> Reply:
        return self.call(
            "POST",
            f"/messaging/v1/orders/{order_id}/messages/{action}",
            operation=action,
            stream=Stream.REPLIES,
            params={"marketplaceIds": marketplace_id},
            json_body=body,
            max_wait=max_wait,
        )


def _member(reply: Reply, operation: str, key: str) -> dict[str, Any]:
    """The object under ``key`` of an answer: v0's ``payload`` envelope, 2026-01-01 getOrder's ``order``."""
    found = reply.body.get(key) if isinstance(reply.body, dict) else None
    if not isinstance(found, dict):
        raise TransientChannelError(f"Amazon answered {operation} without a {key}: {str(reply.body)[:200]}")
    return found
