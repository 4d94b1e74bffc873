"""A mailbox poll over IMAP (the tests' real Dovecot) killed with SIGKILL at a random page, then restarted.

The poll runs as the worker runs it — under its task lease — in pages of
three mails.  After the kill: the cursor covers only mail that is in the
database (cursor with the data), and an account whose first poll never
stored a page does not claim a success.  The restart gets the lease once the
dead holder's lapsed (a 1 s TTL here), and then every mail is one message,
the broken one one quarantine entry.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.email_channel.conftest import BROKEN, mail
from tests.faults.harness import (
    TRIALS,
    child_env,
    engine_for,
    forked_work,
    kill_at_progress,
    leases_held,
    poll_under_lease,
    restart_poll,
    scalar,
)

MAILS = 18
PAGE = 3


@pytest.mark.parametrize("seed", range(TRIALS))
def test_a_poll_killed_at_any_page_and_restarted_fetches_each_mail_once(
    app: Any, mailbox: Any, email_account: Any, database_url: str, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    # uid → what it is: mail n, or the broken one; mail 4 arrives twice (same Message-ID, a new UID)
    contents: list[tuple[str, int]] = [("mail", n) for n in range(1, MAILS + 1)] + [("mail", 4), ("broken", 0)]
    rng.shuffle(contents)
    for kind, n in contents:
        mailbox.append(mail(n) if kind == "mail" else BROKEN)
    account_id = email_account().id
    env = child_env(database_url, tmp_path / "worker")
    with engine_for(database_url) as engine:
        target = rng.randint(0, MAILS - 2 * PAGE)
        kill = kill_at_progress(
            forked_work(env, lambda: poll_under_lease(account_id, PAGE)),
            lambda: scalar(engine, "SELECT COUNT(*) FROM message"),
            target,
            rng,
        )
        assert kill.killed, f"the poll ended before its kill: {kill}"

        # cursor with the data: every uid the cursor covers is stored (or quarantined)
        with engine.connect() as conn:
            cursor, health, success = conn.execute(
                sa.text("SELECT cursor, health, last_success_at FROM channel_account WHERE id = :id"),
                {"id": account_id},
            ).one()
            stored = set(conn.exec_driver_sql("SELECT external_id FROM message").scalars())
        covered = json.loads(cursor)["inbox"]["uid"] if cursor else 0
        for kind, n in contents[:covered]:
            if kind == "mail":
                assert f"<buyer-{n}@example.test>" in stored or f"buyer-{n}@example.test" in stored, (n, covered)
            else:
                assert scalar(engine, "SELECT COUNT(*) FROM quarantined_input") == 1
        if not stored and covered == 0:  # no page went through: no success claimed
            assert success is None and str(health).lower() != "ok"

        assert restart_poll(env, account_id, PAGE) == 0  # skipped while the dead poller's lease lives

        with engine.connect() as conn:
            stored_all = list(conn.exec_driver_sql("SELECT external_id FROM message").scalars())
            health, success = conn.execute(
                sa.text("SELECT health, last_success_at FROM channel_account WHERE id = :id"), {"id": account_id}
            ).one()
        assert len(stored_all) == MAILS == len(set(stored_all))  # no loss, no double (mail 4 twice is one)
        assert scalar(engine, "SELECT COUNT(*) FROM quarantined_input") == 1
        assert scalar(engine, "SELECT COUNT(*) FROM ticket") >= 1
        assert str(health).lower() == "ok" and success is not None
        assert leases_held(engine) == []
