"""The configurations that check signed deliveries, opened once per process and per change of the account.

Every signed delivery (a ticket webhook, a platform push) is checked against
the secrets of the enabled accounts that could have signed it.  Loading those
accounts as ORM rows and opening their sealed secrets (Fernet) for every
request cost more than the rest of the request, so each process keeps the
opened configuration of each account, keyed by the stored values it was made
from (name, settings, secret references, sealed secrets and the like).

:meth:`VerifierCache.enabled` reads those values (one small statement, no
ORM rows) and opens only what changed since.  Sealing uses a fresh random
IV, so new secrets never seal to the text of the old ones.  Each verifier
carries the values it was opened from (its ``stamp``): a caller that
verified with :meth:`VerifierCache.known` (no statement at all) compares
stamps with what :meth:`~VerifierCache.enabled` reads later, in the
transaction that acts on the delivery, so a disabled account, a changed key
id or a rotated secret still counts from the next delivery, in every
process, whoever changed it.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from channels.base import AccountConfig, ChannelError
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.channelaccounts.services import account_config

log = logging.getLogger(__name__)

EXTENSION = "channelaccounts.verifying"


@dataclass(frozen=True)
class Verifier:
    """An enabled account as a signature check needs it."""

    account_id: int
    config: AccountConfig
    stamp: tuple[Any, ...]  # the stored values it was opened from

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def kind(self) -> str:
        return self.config.kind


@functools.cache
def _statement() -> sa.Select[Any]:
    c = ChannelAccount.__table__.c
    return sa.select(
        c.id,
        c.kind,
        c.name,
        c.base_url,
        c.platform,
        c.site,
        # as stored: text is a key; PostgreSQL's driver would hand JSON columns over as dicts
        sa.cast(c.settings, sa.Text),
        sa.cast(c.secret_refs, sa.Text),
        c.secrets_sealed,
    ).where(c.kind.in_(sa.bindparam("kinds", expanding=True)), c.enabled.is_(True))


def _opened(row: sa.Row[Any]) -> AccountConfig:
    """The row's configuration with its secrets opened (ChannelError when one is missing)."""
    account = ChannelAccount(
        id=row[0],
        kind=row[1],
        name=row[2],
        base_url=row[3],
        platform=row[4],
        site=row[5],
        settings=json.loads(row[6]) if row[6] else {},
        secret_refs=json.loads(row[7]) if row[7] else {},
        secrets_sealed=row[8],
    )
    return account_config(account, as_loaded=True)


class VerifierCache:
    """Opened configurations of one app's accounts, by account id and the stored values they came from."""

    def __init__(self) -> None:
        self._opened: dict[int, tuple[tuple[Any, ...], AccountConfig]] = {}
        self._latest: dict[tuple[str, ...], list[Verifier]] = {}

    def known(self, kinds: Iterable[str]) -> list[Verifier] | None:
        """What :meth:`enabled` last answered for ``kinds`` in this process (None before it ever did).

        No statement: the caller must check the stamps in the transaction that acts on what it verified.
        """
        return self._latest.get(tuple(kinds))

    def enabled(self, session: Session, kinds: Iterable[str]) -> list[Verifier]:
        """The enabled accounts of ``kinds`` that can verify (an account whose secret is missing cannot)."""
        kinds = tuple(kinds)
        rows = session.connection().execute(_statement(), {"kinds": list(kinds)}).all()
        verifiers: list[Verifier] = []
        for row in rows:
            stored = tuple(row)
            known = self._opened.get(row[0])
            if known is None or known[0] != stored:
                try:
                    known = (stored, _opened(row))
                except ChannelError as exc:  # its secret is missing: it cannot verify anything
                    log.warning("account %s cannot verify deliveries: %s", row[2], exc)
                    continue
                self._opened[row[0]] = known
            verifiers.append(Verifier(row[0], known[1], stored))
        if len(self._opened) > 2 * len(rows) + 16:  # accounts deleted or disabled: forget their secrets
            current = {row[0] for row in rows}
            self._opened = {k: v for k, v in self._opened.items() if k in current}
        self._latest[kinds] = verifiers
        return verifiers


def verifier_cache(app: Flask) -> VerifierCache:
    """``app``'s cache (one per process and app)."""
    return app.extensions.get(EXTENSION) or app.extensions.setdefault(EXTENSION, VerifierCache())


def verifiers(app: Flask, session: Session, kinds: Iterable[str]) -> list[Verifier]:
    """The enabled accounts of ``kinds`` that can verify a delivery, as stored now, from ``app``'s cache."""
    return verifier_cache(app).enabled(session, kinds)
