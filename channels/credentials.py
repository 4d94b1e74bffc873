"""Credentials that change while a connector works: OAuth tokens and their write-back.

Most platforms hand out short-lived access tokens against a long-lived
refresh token, and several (Shopee, Mercado Libre, Allegro, Etsy, Shopify's
expiring tokens, Microsoft mail) *rotate* the refresh token: the old one dies
the moment it is used.  A rotated token that is only kept in memory is lost
at the next restart, and two processes refreshing one account at once burn
each other's tokens.  So a connector never keeps credentials itself; it
reads and writes them through a :class:`CredentialStore`:

* ``get()`` — the account's current secrets (fresh, as another process may
  have written them);
* ``update(values)`` — write changed secrets back at once, in their own
  transaction (``None`` deletes a key);
* ``exclusive()`` — hold the account's credential lock, so refreshes of one
  account are serialised across processes.

The helpdesk supplies a database-backed store (values encrypted at rest);
:class:`MemoryCredentialStore` serves tests and one-off tools.
:class:`TokenManager` is the refresh logic every OAuth connector shares.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from channels.base import AuthError

ACCESS_TOKEN = "access_token"  # noqa: S105 - the name of a secret, not a secret
ACCESS_EXPIRES = "access_token_expires_at"
REFRESH_TOKEN = "refresh_token"  # noqa: S105
REFRESH_EXPIRES = "refresh_token_expires_at"


class CredentialStore(Protocol):
    """Where a connector reads and writes its account's secrets."""

    def get(self) -> dict[str, str]: ...

    def update(self, values: Mapping[str, str | None]) -> None: ...

    def exclusive(self) -> AbstractContextManager[None]: ...


class MemoryCredentialStore:
    """Secrets in a dict; a thread lock stands in for the cross-process one."""

    def __init__(self, secrets: Mapping[str, str] | None = None) -> None:
        self.values: dict[str, str] = dict(secrets or {})
        self._lock = threading.RLock()
        self.updates = 0

    def get(self) -> dict[str, str]:
        return dict(self.values)

    def update(self, values: Mapping[str, str | None]) -> None:
        for key, value in values.items():
            if value is None:
                self.values.pop(key, None)
            else:
                self.values[key] = value
        self.updates += 1

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._lock:
            yield


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What a token endpoint answered: a new access token, perhaps a rotated refresh token."""

    access_token: str
    expires_in: float
    refresh_token: str | None = None
    refresh_expires_at: datetime | None = None


#: Turns the current refresh token into a grant; raises AuthError when the platform refuses it.
Refresher = Callable[[str], TokenGrant]


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class _Keys:
    """Where the tokens live among the account's secrets (``prefix`` for connectors with several grants)."""

    prefix: str

    @property
    def access(self) -> str:
        return self.prefix + ACCESS_TOKEN

    @property
    def access_expires(self) -> str:
        return self.prefix + ACCESS_EXPIRES

    @property
    def refresh(self) -> str:
        return self.prefix + REFRESH_TOKEN

    @property
    def refresh_expires(self) -> str:
        return self.prefix + REFRESH_EXPIRES


class TokenManager:
    """Access tokens for one account, refreshed once for every process that needs one.

    The access token and its expiry are stored with the other secrets, so a
    second worker reuses it instead of refreshing again; a refresh happens
    under the store's lock and first re-reads the store, because another
    process may have refreshed (and rotated the refresh token) meanwhile.
    """

    def __init__(
        self,
        store: CredentialStore,
        refresh: Refresher,
        *,
        prefix: str = "",
        early: timedelta = timedelta(seconds=60),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.keys = _Keys(prefix)
        self._refresh = refresh
        self.early = early
        self.now = now
        self._cached: tuple[str, datetime] | None = None
        self.refreshes = 0

    def _usable(self, token: str | None, expires: datetime | None, refused: str | None) -> bool:
        return bool(token) and token != refused and expires is not None and expires - self.early > self.now()

    def token(self) -> str:
        """A usable access token: from memory, from the store, or freshly refreshed."""
        if self._cached and self._usable(*self._cached, None):
            return self._cached[0]
        return self._obtain(refused=None)

    def renew(self, refused: str) -> str:
        """Another token, after the platform refused ``refused`` before its expiry."""
        self._cached = None
        return self._obtain(refused=refused)

    def _obtain(self, refused: str | None) -> str:
        k = self.keys
        secrets = self.store.get()
        token, expires = secrets.get(k.access), _parse(secrets.get(k.access_expires))
        if token and expires and self._usable(token, expires, refused):
            self._cached = (token, expires)
            return token
        with self.store.exclusive():
            secrets = self.store.get()
            token, expires = secrets.get(k.access), _parse(secrets.get(k.access_expires))
            if token and expires and self._usable(token, expires, refused):
                self._cached = (token, expires)  # another process refreshed while we waited
                return token
            refresh_token = secrets.get(k.refresh)
            if not refresh_token:
                raise AuthError("the account has no refresh token; connect the store again")
            grant = self._refresh(refresh_token)
            self.refreshes += 1
            expires = self.now() + timedelta(seconds=max(0.0, grant.expires_in))
            update: dict[str, str | None] = {k.access: grant.access_token, k.access_expires: _iso(expires)}
            if grant.refresh_token and grant.refresh_token != refresh_token:
                update[k.refresh] = grant.refresh_token
            if grant.refresh_expires_at is not None:
                update[k.refresh_expires] = _iso(grant.refresh_expires_at)
            self.store.update(update)
            self._cached = (grant.access_token, expires)
            return grant.access_token

    def forget(self) -> None:
        """Drop the in-memory copy (the stored one stays)."""
        self._cached = None


def refresh_expiry(store: CredentialStore, prefix: str = "") -> datetime | None:
    """When the refresh token (the grant) ends, if the platform said."""
    return _parse(store.get().get(prefix + REFRESH_EXPIRES))
