"""Backup then restore gives back the same desk: every row of every table and every attachment byte."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.backup.conftest import LARGE, SMALL, run
from tests.backup.helpers import everything, members


def test_round_trip_keeps_every_row_and_attachment(
    app: Any, filled: dict[str, Any], empty_target: Any, tmp_path: Path, make_message: Any
) -> None:
    archive = tmp_path / "nightly.tar.gz"
    made = run(app, "backup", "--output", str(archive))
    assert made.exit_code == 0, made.output
    assert archive.stat().st_mode & 0o077 == 0  # customer data: readable by the owner only
    before = everything(app)
    assert before["tables"]["ticket"] and before["tables"]["user_account"] and before["tables"]["macro"]
    assert sorted(before["blobs"].values(), key=len) == [SMALL, LARGE]
    assert len(before["files"]) == 1  # the large blob is a file, the small one lives in its row

    manifest = json.loads(members(archive)["manifest.json"])
    assert manifest["database"]["alembic_revision"] == before["tables"]["alembic_version"][0][0]
    assert manifest["row_counts"]["ticket"] == len(before["tables"]["ticket"])
    assert manifest["row_counts"]["message"] == len(before["tables"]["message"])
    assert manifest["attachments"] == {"files": 1, "bytes": len(LARGE)}

    target = empty_target()
    restored = run(target, "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert f"{len(before['tables']['ticket'])} tickets" in restored.output
    after = everything(target)
    assert after["table_names"] == before["table_names"]
    for name, rows in before["tables"].items():
        assert after["tables"][name] == rows, name
    assert after["blobs"] == before["blobs"]
    assert after["files"] == before["files"]

    # The restored desk keeps working: new rows get fresh ids (PostgreSQL's sequences came back too).
    from helpdesk.extensions import db
    from helpdesk.ingest.pipeline import ingest
    from helpdesk.tickets.models import Ticket

    with target.app_context():
        ingest(db.session, [make_message(account="backup-shop", external_id="after-restore")], source="test")
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == len(before["tables"]["ticket"]) + 1
        db.session.remove()


def test_restore_refuses_a_desk_that_holds_tickets(app: Any, one_ticket: dict[str, Any], tmp_path: Path) -> None:
    archive = tmp_path / "b.tar.gz"
    assert run(app, "backup", "--output", str(archive)).exit_code == 0
    before = everything(app)
    refused = run(app, "restore", str(archive))
    assert refused.exit_code != 0
    assert "already holds 1 tickets" in refused.output
    assert "new, empty database" in refused.output
    assert everything(app) == before


def test_older_backup_is_migrated_to_head(app: Any, empty_target: Any, tmp_path: Path) -> None:
    from flask_migrate import upgrade

    from helpdesk.backup.services import MIGRATIONS
    from helpdesk.extensions import db

    old = empty_target()
    with old.app_context():
        upgrade(directory=str(MIGRATIONS), revision="0007")
        db.engine.dispose()
    archive = tmp_path / "old.tar.gz"
    made = run(old, "backup", "--output", str(archive))
    assert made.exit_code == 0, made.output
    assert json.loads(members(archive)["manifest.json"])["database"]["alembic_revision"] == "0007"

    target = empty_target()
    restored = run(target, "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert "upgraded from 0007" in restored.output
    after = everything(target)
    assert after["tables"]["alembic_version"] == everything(app)["tables"]["alembic_version"]
    assert "macro" in after["table_names"]  # made by 0008, after the backup's revision


def test_backup_default_name_in_a_folder(app: Any, one_ticket: dict[str, Any], tmp_path: Path) -> None:
    made = run(app, "backup", "--output", str(tmp_path))
    assert made.exit_code == 0, made.output
    [archive] = tmp_path.glob("helpdesk-backup-*Z.tar.gz")
    assert str(archive) in made.output
    assert not list(tmp_path.glob(".*"))  # no partial file or work folder left behind
    again = run(app, "backup", "--output", str(archive))
    assert again.exit_code != 0 and "already exists" in again.output


def test_restore_warns_when_the_key_differs(
    app: Any, session: Any, make_account: Any, empty_target: Any, tmp_path: Path
) -> None:
    from helpdesk import crypto

    make_account(name="sealed-shop", secrets_sealed=crypto.seal({"token": "s3cret"}))
    archive = tmp_path / "b.tar.gz"
    assert run(app, "backup", "--output", str(archive)).exit_code == 0

    same_key = run(empty_target(), "restore", str(archive))
    assert same_key.exit_code == 0, same_key.output
    assert "cannot be opened" not in same_key.output

    other_key = run(empty_target(HELPDESK_SECRET_KEY="another-secret-key-entirely"), "restore", str(archive))
    assert other_key.exit_code == 0, other_key.output
    assert "credentials of 1 channel accounts (sealed-shop) cannot be opened" in other_key.output


def test_restore_into_a_desk_that_was_only_initialised(
    app: Any, one_ticket: dict[str, Any], empty_target: Any, tmp_path: Path
) -> None:
    """'helpdesk init' out of habit (schema, default SLA policies, no tickets or users) still counts as empty."""
    archive = tmp_path / "b.tar.gz"
    assert run(app, "backup", "--output", str(archive)).exit_code == 0
    target = empty_target()
    assert run(target, "init").exit_code == 0
    restored = run(target, "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    before, after = everything(app), everything(target)
    assert after["tables"] == before["tables"]
    assert after["blobs"] == before["blobs"]


def test_backup_while_the_desk_writes_restores_a_consistent_desk(
    app: Any, one_ticket: dict[str, Any], empty_target: Any, tmp_path: Path, make_message: Any
) -> None:
    """A writer commits new tickets throughout the backup; the restored desk is one moment of it, never half a write."""
    import threading
    import time

    from channels.base import Party
    from helpdesk.extensions import db
    from helpdesk.ingest.pipeline import ingest
    from helpdesk.tickets.models import Message, Ticket

    stop, committed, failures = threading.Event(), [0], []

    def writer() -> None:
        with app.app_context():
            try:
                while not stop.is_set():
                    n = committed[0]
                    batch = [
                        make_message(
                            account="backup-shop",
                            external_id=f"live-{n}-{k}",
                            sender=Party(platform_id=f"live_buyer_{n}"),
                            external_thread_id=f"live-thread-{n}",
                        )
                        for k in range(3)
                    ]
                    ingest(db.session, batch, source="test")
                    db.session.commit()
                    committed[0] += 1
            except Exception as exc:  # reported below: a thread's exception would otherwise vanish
                failures.append(exc)
            finally:
                db.session.remove()

    thread = threading.Thread(target=writer)
    thread.start()
    while committed[0] < 3 and thread.is_alive():
        time.sleep(0.01)
    for attempt in range(10):  # a small desk backs up fast: try again until a commit lands during the backup
        at_start = committed[0]
        archive = tmp_path / f"live-{attempt}.tar.gz"
        made = run(app, "backup", "--output", str(archive))
        at_end = committed[0]
        if at_end > at_start or made.exit_code != 0:
            break
    stop.set()
    thread.join()
    assert not failures, failures
    assert made.exit_code == 0, made.output
    assert at_end > at_start  # the writer really committed while the backup ran

    target = empty_target()
    restored = run(target, "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    with target.app_context():
        live = db.session.scalar(
            sa.select(sa.func.count(Ticket.id)).where(Ticket.external_thread_id.like("live-thread-%"))
        )
        assert at_start <= live <= at_end + 1
        # Each live ticket holds all three messages of its one transaction, and its maintained count agrees.
        counts = db.session.execute(
            sa.select(Ticket.message_count, sa.func.count(Message.id))
            .join(Message, Message.ticket_id == Ticket.id)
            .where(Ticket.external_thread_id.like("live-thread-%"))
            .group_by(Ticket.id, Ticket.message_count)
        ).all()
        assert len(counts) == live
        assert set(counts) == {(3, 3)}
        db.session.remove()


def test_restore_names_replies_that_were_waiting_to_be_sent(
    app: Any, session: Any, one_ticket: dict[str, Any], empty_target: Any, tmp_path: Path
) -> None:
    from helpdesk.tickets.models import Message

    session.execute(sa.update(Message).values(delivery_state="queued"))
    session.commit()
    archive = tmp_path / "b.tar.gz"
    assert run(app, "backup", "--output", str(archive)).exit_code == 0
    restored = run(empty_target(), "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert "1 replies were still waiting to be sent" in restored.output
