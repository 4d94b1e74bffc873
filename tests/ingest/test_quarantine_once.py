"""The same bad input is one quarantine entry, however often and by however many processes it arrives."""

from __future__ import annotations

import json
import threading
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from helpdesk.ingest import quarantine
from helpdesk.ingest.models import QuarantinedInput
from helpdesk.ingest.pipeline import ingest
from helpdesk.ingest.quarantine import RawInput
from helpdesk.ingest.replay import replay
from helpdesk.outbox.models import OutboxEvent

BAD = {"channel": "ebay", "account": "shop-de", "external_id": "x-1", "sent_at": "yesterday", "body_text": "Hi"}


def _raw(obj: Any, account: str | None = None) -> RawInput:
    return RawInput(json.dumps(obj).encode(), "json", account)


def test_the_same_input_twice_is_one_entry_seen_twice_with_one_event(session: Any, make_account: Any) -> None:
    make_account()
    ingest(session, [_raw(BAD)], source="import:a.jsonl")
    ingest(session, [_raw(BAD)], source="poll:shop-de")
    session.commit()
    rows = session.scalars(sa.select(QuarantinedInput)).all()
    assert len(rows) == 1
    assert rows[0].seen_count == 2 and rows[0].last_seen_at is not None
    assert rows[0].source == "import:a.jsonl"  # where it was first seen
    rows = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.name == "input.quarantined")).all()
    assert sum(len(r.payloads) for r in rows) == 1


def test_different_bytes_or_another_account_are_different_entries(session: Any, make_account: Any) -> None:
    make_account()
    ingest(session, [_raw(BAD), _raw({**BAD, "external_id": "x-2"}), _raw(BAD, account="shop-de")], source="t")
    session.commit()
    assert session.scalar(sa.select(sa.func.count(QuarantinedInput.id))) == 3


def test_a_replayed_entry_refused_again_is_pending_again(session: Any, make_account: Any) -> None:
    make_account()
    ingest(session, [_raw(BAD)], source="t")
    row = session.scalars(sa.select(QuarantinedInput)).one()
    row.status = "replayed"
    session.commit()
    ingest(session, [_raw(BAD)], source="t")
    session.commit()
    session.refresh(row)
    assert (row.status, row.seen_count) == ("pending", 2)
    assert replay(session).still_failing == 1
    session.commit()
    assert session.scalar(sa.select(sa.func.count(QuarantinedInput.id))) == 1


def test_two_processes_filing_the_same_input_at_once_make_one_entry(app: Any, session: Any) -> None:
    """Both check, find nothing and insert: the unique digest lets one win and the other count a sighting."""
    from helpdesk.extensions import db

    engine = db.engine
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    item = _raw(BAD)

    def file_it() -> None:
        try:
            with Session(engine) as s:
                s.scalar(sa.select(QuarantinedInput.id).where(QuarantinedInput.digest == quarantine.digest(item)))
                barrier.wait(5)
                quarantine.add(s, item, source="race", reason="bad", field=None)
                s.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=file_it) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    rows = session.scalars(sa.select(QuarantinedInput)).all()
    assert len(rows) == 1 and rows[0].seen_count == 2
