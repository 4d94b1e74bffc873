"""Secrets at rest and tokens that rotate: sealed, rotatable keys, one refresh for many workers."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet

from channels.base import AuthError
from channels.credentials import TokenGrant, TokenManager
from helpdesk import crypto, leases
from helpdesk.channelaccounts.services import credential_store
from tests.channels.test_accounts import plain


def test_sealed_secrets_open_with_an_old_key_until_resealed() -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    token = crypto.seal({"refresh_token": "r-1"}, crypto.sealer([old]))
    rotated = crypto.sealer([new, old])
    assert crypto.unseal(token, rotated) == {"refresh_token": "r-1"}
    resealed = crypto.reseal(token, rotated)
    assert crypto.unseal(resealed, crypto.sealer([new])) == {"refresh_token": "r-1"}
    with pytest.raises(crypto.SealError, match="HELPDESK_ENCRYPTION_KEY"):
        crypto.unseal(token, crypto.sealer([new]))


def test_a_bad_encryption_key_stops_the_start_with_its_name(tmp_path) -> None:
    from helpdesk.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match="HELPDESK_ENCRYPTION_KEY key 2 is not a Fernet key"):
        load_settings({"HELPDESK_ENCRYPTION_KEY": f"{Fernet.generate_key().decode()},nope"}, tmp_path)


def test_a_lease_is_exclusive_until_released_or_expired(app) -> None:
    from helpdesk.extensions import db

    engine = db.engine
    assert leases.try_acquire(engine, "job", "a", timedelta(minutes=1))
    assert leases.try_acquire(engine, "job", "a", timedelta(minutes=1))  # its holder renews it
    assert not leases.try_acquire(engine, "job", "b", timedelta(minutes=1))
    leases.release(engine, "job", "a")
    assert leases.try_acquire(engine, "job", "b", timedelta(seconds=-1))  # taken, but already lapsed
    assert leases.try_acquire(engine, "job", "c", timedelta(minutes=1))  # so a crashed holder cannot block


def test_rotated_tokens_are_written_back_and_refreshed_once_across_workers(app, session) -> None:
    """Four workers need a token at once; the platform sees one refresh, and the rotated token is stored."""
    account = plain(session)
    store = credential_store(account)
    store.update({"refresh_token": "r-0"})
    calls: list[str] = []

    def refresh(token: str) -> TokenGrant:
        calls.append(token)
        time.sleep(0.2)  # the platform is slow; the others wait on the lease meanwhile
        return TokenGrant(access_token=f"a-{len(calls)}", expires_in=3600, refresh_token=f"r-{len(calls)}")

    tokens: list[str] = []
    errors: list[BaseException] = []

    def worker(own_store: Any) -> None:
        try:
            tokens.append(TokenManager(own_store, refresh).token())
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(credential_store(account),)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == [] and calls == ["r-0"] and set(tokens) == {"a-1"}
    assert credential_store(account).get()["refresh_token"] == "r-1"


def test_a_refused_token_is_renewed_with_the_stored_refresh_token(app, session) -> None:
    account = plain(session)
    store = credential_store(account)
    store.update({"refresh_token": "r-0"})
    grants = iter(range(1, 10))

    def refresh(token: str) -> TokenGrant:
        n = next(grants)
        return TokenGrant(access_token=f"a-{n}", expires_in=3600, refresh_token=f"r-{n}")

    manager = TokenManager(store, refresh)
    first = manager.token()
    assert manager.token() == first
    second = manager.renew(first)
    assert second != first and store.get()["refresh_token"] == "r-2"


def test_without_a_refresh_token_the_seller_is_told_to_connect_again(app, session: Any) -> None:
    account = plain(session)
    manager = TokenManager(credential_store(account), lambda t: TokenGrant("a", 1))
    with pytest.raises(AuthError, match="connect the store again"):
        manager.token()
