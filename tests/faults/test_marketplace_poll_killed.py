"""A marketplace poll (eBay, against its loopback fake) killed with SIGKILL at a random page, then restarted.

The fake's data does not change during a trial, so any message or order
missing after the restart would be one a cursor had moved past without
storing it: "no loss" here is the proof that the cursor is never ahead of
the data. Orders and messages of a page commit with the page's cursor.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from channels.ebay.fake import FakeEbay
from tests.faults.harness import (
    TRIALS,
    child_env,
    duplicates,
    engine_for,
    forked_work,
    kill_at_progress,
    leases_held,
    poll_under_lease,
    restart_poll,
    scalar,
)

MESSAGES = 16
ORDERS = 8
PAGE = 3


@pytest.fixture
def fake() -> Iterator[FakeEbay]:
    server = FakeEbay().start()
    try:
        yield server
    finally:
        server.stop()


def _account(session: Any, fake: FakeEbay) -> int:
    from helpdesk.channelaccounts.services import AccountInput, create_account

    settings, secrets = fake.account_settings()
    account = create_account(
        session, AccountInput(kind="ebay", name="lampworks", platform="ebay", settings=settings, secrets=secrets)
    )
    session.commit()
    return int(account.id)


@pytest.mark.parametrize("seed", range(TRIALS))
def test_a_marketplace_poll_killed_at_any_page_and_restarted_stores_each_record_once(
    app: Any, session: Any, fake: FakeEbay, database_url: str, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    fake.seed(messages=MESSAGES, orders=ORDERS)
    fake.add_malformed_record()
    account_id = _account(session, fake)
    env = child_env(database_url, tmp_path / "worker")
    with engine_for(database_url) as engine:

        def progress() -> int:
            return scalar(engine, "SELECT COUNT(*) FROM message") + scalar(engine, "SELECT COUNT(*) FROM order_record")

        kill = kill_at_progress(
            forked_work(env, lambda: poll_under_lease(account_id, PAGE)),
            progress,
            rng.randint(0, MESSAGES - 2 * PAGE),
            rng,
        )
        assert kill.killed, f"the poll ended before its kill: {kill}"
        with engine.connect() as conn:
            success = conn.execute(
                sa.text("SELECT last_success_at FROM channel_account WHERE id = :id"), {"id": account_id}
            ).scalar()
        if progress() == 0:  # nothing stored yet: no success claimed
            assert success is None

        assert restart_poll(env, account_id, PAGE) == 0

        assert scalar(engine, "SELECT COUNT(*) FROM message WHERE direction = 'in'") == MESSAGES
        assert duplicates(engine, "message", "external_id") == []
        assert scalar(engine, "SELECT COUNT(*) FROM order_record") == ORDERS
        assert duplicates(engine, "order_record", "order_number") == []
        assert scalar(engine, "SELECT COUNT(*) FROM quarantined_input") == 1  # the malformed record, once
        with engine.connect() as conn:
            health = conn.execute(
                sa.text("SELECT health FROM channel_account WHERE id = :id"), {"id": account_id}
            ).scalar()
        assert str(health).lower() == "ok"
        assert leases_held(engine) == []
