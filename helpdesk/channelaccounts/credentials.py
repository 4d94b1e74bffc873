"""The database-backed credential store connectors read and write their secrets through.

Reads are fresh (another process may have rotated a token a moment ago);
writes go out at once in a connection of their own, so a rotated,
single-use refresh token is durable the moment the platform handed it over,
whatever happens to the poll that asked for it.  Refreshes of one account
are serialised across processes by a lease (:mod:`helpdesk.leases`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa
from cryptography.fernet import MultiFernet

from channels.base import AuthError
from helpdesk import crypto, leases
from helpdesk.channelaccounts.models import ChannelAccount


class MissingSecret(AuthError):
    """An account names an environment variable that is not set."""


def resolve_refs(refs: Mapping[str, str], env: Mapping[str, str] | None = None, *, account: str = "") -> dict[str, str]:
    """Secret role → value for every environment-variable reference; MissingSecret names a missing one."""
    env = os.environ if env is None else env
    values = {}
    for role, var in refs.items():
        if var not in env:
            raise MissingSecret(f"environment variable {var} (the {role} of account {account!r}) is not set")
        values[role] = env[var]
    return values


class DbCredentialStore:
    """One account's secrets: sealed values from its row, over its environment references."""

    def __init__(
        self,
        engine: sa.Engine,
        account_id: int,
        *,
        refs: Mapping[str, str],
        box: MultiFernet,
        account_name: str = "",
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.engine = engine
        self.account_id = account_id
        self.refs = dict(refs)
        self.box = box
        self.account_name = account_name
        self.env = env

    def _sealed(self, conn: sa.Connection) -> str | None:
        table = ChannelAccount.__table__
        return conn.execute(sa.select(table.c.secrets_sealed).where(table.c.id == self.account_id)).scalar()

    def get(self) -> dict[str, str]:
        """Environment references resolved, then sealed values on top (a written-back token wins)."""
        with self.engine.connect() as conn:
            sealed = self._sealed(conn)
        return self.opened(sealed)

    def opened(self, sealed: str | None) -> dict[str, str]:
        """What :meth:`get` answers for the row's ``secrets_sealed`` value as the caller already read it."""
        sealed_roles = crypto.unseal(sealed, self.box)
        refs = {role: var for role, var in self.refs.items() if role not in sealed_roles}
        return {**resolve_refs(refs, self.env, account=self.account_name), **sealed_roles}

    def update(self, values: Mapping[str, str | None]) -> None:
        """Merge ``values`` into the sealed secrets and commit now (``None`` removes a key)."""
        table = ChannelAccount.__table__
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.select(table.c.id).where(table.c.id == self.account_id).with_for_update())
            current = crypto.unseal(self._sealed(conn), self.box)
            for key, value in values.items():
                if value is None:
                    current.pop(key, None)
                else:
                    current[key] = value
            conn.execute(
                sa.update(table)
                .where(table.c.id == self.account_id)
                .values(secrets_sealed=crypto.seal(current, self.box))
            )

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with leases.held(self.engine, f"credentials:{self.account_id}", ttl=timedelta(minutes=2), wait_s=60):
            yield
