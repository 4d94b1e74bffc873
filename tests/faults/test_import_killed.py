"""``helpdesk ingest`` killed with SIGKILL at a random point, then run again over the same file.

Every valid line ends up as exactly one message and one ticket (and one
``ticket.created`` in the outbox), every bad line as one quarantine entry,
whatever transaction the kill interrupted.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from tests.faults.harness import (
    TRIALS,
    child_env,
    duplicates,
    engine_for,
    events,
    forked_cli,
    kill_at_progress,
    leases_held,
    scalar,
)

VALID = 40
BATCH = 4
BAD = [
    b'{"channel": "ebay", "account": "shop-de"',  # cut off mid-object
    b'{"channel": "ebay", "account": "shop-de", "external_id": "no-body"}',  # required fields missing
]


def _line(n: int) -> bytes:
    return json.dumps(
        {
            "channel": "ebay",
            "account": "shop-de",
            "external_id": f"k-{n}",
            "sent_at": f"2026-01-05T09:{n % 60:02d}:00+01:00",
            "sender": {"platform_id": f"buyer-{n}"},
            "body_text": f"Where is parcel {n}?",
        }
    ).encode()


def _file(tmp_path: Path, rng: random.Random) -> Path:
    """Valid lines, two of them twice (a file exported twice over), and the bad lines, in a seeded order."""
    lines = [_line(n) for n in range(VALID)] + [_line(3), _line(17)] + BAD
    rng.shuffle(lines)
    path = tmp_path / "messages.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.mark.parametrize("seed", range(TRIALS))
def test_an_import_killed_anywhere_and_rerun_stores_each_line_once(
    app: Any, make_account: Any, database_url: str, tmp_path: Path, seed: int
) -> None:
    make_account()
    rng = random.Random(seed)
    path = _file(tmp_path, rng)
    args = ["ingest", str(path), "--batch-size", str(BATCH)]
    with engine_for(database_url) as engine:
        target = rng.randint(0, VALID - 2 * BATCH)
        kill = kill_at_progress(
            forked_cli(child_env(database_url, tmp_path / "doomed"), args),
            lambda: scalar(engine, "SELECT COUNT(*) FROM message"),
            target,
            rng,
        )
        assert kill.killed, f"the import ended before its kill: {kill}"
        assert scalar(engine, "SELECT COUNT(*) FROM message") < VALID  # it really was cut short

        rerun = app.test_cli_runner().invoke(args=["helpdesk", *args])
        assert rerun.exit_code == 0, rerun.output

        with engine.connect() as conn:
            ids = set(conn.exec_driver_sql("SELECT external_id FROM message").scalars())
        assert ids == {f"k-{n}" for n in range(VALID)}  # nothing lost
        assert scalar(engine, "SELECT COUNT(*) FROM message") == VALID  # nothing doubled
        assert scalar(engine, "SELECT COUNT(*) FROM ticket") == VALID  # one buyer, one ticket
        assert duplicates(engine, "message", "external_id") == []
        created = [e["ticket_id"] for e in events(engine, "ticket.created")]
        assert sorted(created) == sorted(set(created)) and len(created) == VALID  # each event once
        assert scalar(engine, "SELECT COUNT(*) FROM quarantined_input") == len(BAD)  # quarantined once each
        assert leases_held(engine) == []
